"""The demo run (replay_data/demo/, made by scripts/make_demo.py): real running motion with a gyroscope,
at least 10 minutes with no seams, and within its first 90 s the pelvic angles and a form alert."""

from __future__ import annotations

import numpy as np

from conftest import REPLAY_DATA
from spinesense.alerts import AlertConfig, AlertEngine
from spinesense.cli.commands.demo import DEMO_RECORDING, demo_alerts
from spinesense.sources.replay import open_recording
from validation.blocks import strides_from_blocks

DEMO = REPLAY_DATA / DEMO_RECORDING
FORM_KINDS = {"forward_lean", "backward_lean", "pelvic_drop_left", "pelvic_drop_right"}


def test_the_demo_is_over_ten_minutes_of_running_with_a_gyroscope_and_small() -> None:
    block = open_recording(DEMO).block()
    assert block.has_gyr
    assert not block.gaps
    assert len(block) / block.rate_hz >= 600
    assert DEMO.stat().st_size < 3_000_000


def test_the_demo_has_no_seams_every_stride_follows_the_last() -> None:
    # A seam (a jump in the motion) breaks the step rhythm: the pipeline would start a new sequence there,
    # leaving a hole between two strides. Cross-faded strides leave none, speed changes included.
    strides = strides_from_blocks([open_recording(DEMO).block()]).strides
    assert all(s.running for s in strides)
    starts = np.array([s.t_start_s for s in strides])
    ends = np.array([s.t_end_s for s in strides])
    assert starts[0] < 8.0  # after a few seconds of standing still
    assert ends[-1] > 600 - 3.0
    assert np.abs(starts[1:] - ends[:-1]).max() < 0.01


def test_within_the_first_90_seconds_the_runner_sees_pelvic_angles_and_a_form_alert() -> None:
    block = open_recording(DEMO).block()
    first = block.slice(0, int(90 * block.rate_hz))
    strides = strides_from_blocks([first]).strides
    assert len(strides) > 100
    for metric in ("pelvic_tilt_rom_deg", "pelvic_drop_left_deg", "pelvic_drop_right_deg"):
        assert sum(getattr(s, metric) is not None for s in strides) > 0.9 * len(strides), metric
    engine = AlertEngine(demo_alerts(AlertConfig.default()))
    raised = [a for s in strides for a in engine.on_stride(s) if a.state == "raised"]
    assert {a.kind for a in raised} & FORM_KINDS


def test_the_drift_is_the_documented_one_lean_forward_and_cadence_down() -> None:
    strides = strides_from_blocks([open_recording(DEMO).block()]).strides

    def median(name: str, lo: float, hi: float) -> float:
        return float(np.median([getattr(s, name) for s in strides if lo <= s.t_start_s < hi]))

    # The same speed (3.5 m/s) early and late: the lean grew by several degrees, the cadence fell.
    assert median("trunk_lean_deg", 420, 540) - median("trunk_lean_deg", 30, 120) > 5
    assert median("cadence_spm", 30, 120) - median("cadence_spm", 420, 540) > 3
