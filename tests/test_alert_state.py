"""What the alerts say about themselves: absolute limits from the first stride, the baseline's state in
every place a runner looks, and stride lines that name directions."""

from __future__ import annotations

import pytest

from conftest import REPLAY_DATA
from spinesense.alerts import AlertConfig, AlertEngine, RunnerProfile
from spinesense.cli import main
from spinesense.cli.commands import EXIT_OK
from spinesense.cli.console import stride_line
from spinesense.cli.report import RunData, reading
from spinesense.models import Stride

FUKUCHI = REPLAY_DATA / "fukuchi"


def _stride(i: int, **metrics: float | None) -> Stride:
    """A running stride 0.7 s long with the given metrics."""
    return Stride(
        index=i, t_start_s=i * 0.7, t_end_s=(i + 1) * 0.7, side="left", running=True, cadence_spm=171.0,
        **metrics,  # type: ignore[arg-type]
    )  # fmt: skip


def test_an_absolute_limit_fires_from_the_first_strides_while_the_baseline_is_still_learning() -> None:
    engine = AlertEngine(AlertConfig.default())
    drop = engine.config.rules["pelvic_drop"]["limit"] + 3
    events = [a for i in range(12) for a in engine.on_stride(_stride(i, pelvic_drop_right_deg=drop))]
    assert [(a.kind, a.state) for a in events] == [("pelvic_drop_right", "raised")]
    assert events[0].last_stride == engine.config.hold_strides - 1  # as soon as a rolling window is full
    assert engine.baseline_state().state == "learning"


def test_a_relative_rule_waits_for_the_baseline() -> None:
    engine = AlertEngine(AlertConfig.default())
    # A 15 degree forward lean is beyond no absolute limit: only the baseline can tell, and it is unknown.
    assert [a for i in range(40) for a in engine.on_stride(_stride(i, trunk_lean_deg=15.0))] == []
    known = AlertEngine(AlertConfig.default(), RunnerProfile(baseline={"trunk_lean_deg": 0.0}))
    events = [a for i in range(40) for a in known.on_stride(_stride(i, trunk_lean_deg=15.0))]
    assert [(a.kind, a.state) for a in events] == [("forward_lean", "raised")]


@pytest.mark.parametrize("name", ["RBDS0041", "RBDS032"])
def test_runners_of_a_published_data_set_are_not_alerted_from_the_first_stride(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Real pelvis motion of two runners at 2.5-4.5 m/s (Fukuchi et al. 2017): their stance-phase pelvic
    # drop ranges (median up to ~15 deg at 4.5 m/s) are normal for the metric as spinesense defines it.
    assert main(["alerts", str(FUKUCHI / f"{name}.jsonl.gz")]) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[-1].startswith("0 alerts over ")


def test_the_alerts_command_says_that_no_baseline_was_learned(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alerts", str(FUKUCHI / "RBDS0041.jsonl.gz")]) == EXIT_OK
    out = capsys.readouterr().out
    assert "no personal baseline: 1.5 min of running, 5 min needed; absolute limits checked" in out


def test_the_baseline_state_counts_down_then_holds_the_learned_values() -> None:
    engine = AlertEngine(AlertConfig.from_mapping({"warmup_s": 7.0, "baseline_s": 7.0}))
    states = []
    for i in range(30):
        engine.on_stride(_stride(i, gct_ms=230.0 + i % 3))
        states.append(engine.baseline_state())
    assert states[0].state == "learning"
    assert states[0].seconds_left == 14.0
    assert states[10].seconds_left == pytest.approx(7.0)  # stride 10 starts 7 s after the first
    learned = states[-1]
    assert learned.state == "learned"
    assert learned.seconds_left == 0
    assert learned.values == {"cadence_spm": 171.0, "gct_ms": 231.0}
    assert learned.to_json()["values"] == {"cadence_spm": 171.0, "gct_ms": 231.0}


def test_the_report_never_claims_a_baseline_that_was_not_learned() -> None:
    strides = [_stride(i, gct_ms=230.0) for i in range(20)]
    summary = {"running_strides": 20, "duration_s": 14.0}
    engine = AlertEngine(AlertConfig.default())
    for s in strides:
        engine.on_stride(s)
    short = " ".join(reading(RunData("run", strides, [], summary, engine.baseline_state())))
    assert "against your own baseline" not in short
    assert "no personal baseline" in short
    given = AlertEngine(AlertConfig.default(), RunnerProfile(baseline={"gct_ms": 230.0}))
    known = " ".join(reading(RunData("run", strides, [], summary, given.baseline_state())))
    assert "your form held up against your own baseline" in known


def test_the_stride_line_names_directions_and_shows_pelvic_drop() -> None:
    stride = _stride(
        3, gct_ms=None, trunk_lean_deg=3.4, trunk_lateral_lean_deg=-1.2, pelvic_tilt_rom_deg=8.0,
        pelvic_drop_left_deg=6.1, pelvic_drop_right_deg=None,
    )  # fmt: skip
    line = stride_line(stride)
    assert "lean forward 3.4°" in line
    assert "side right 1.2°" in line
    assert "drop L 6.1° R n/a" in line
    assert "GCT n/a" in line
    assert " - " not in line  # nothing missing looks like a minus sign
    assert "lean back 2.0°" in stride_line(_stride(4, trunk_lean_deg=-2.0))
