"""The fast paths give the plain reference versions' figures (processing/reference.py), on the batches the
pipeline really measures: bundled recordings fed in BLE notifications, in 1 s blocks and whole."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from conftest import REPLAY_DATA
from spinesense.processing import pipeline as pipeline_module
from spinesense.processing import reference
from spinesense.processing._rows import rows_for
from spinesense.processing.pipeline import Pipeline
from spinesense.processing.strides import Measures, StrideBatch, StrideSamples, _com_filter
from spinesense.sources.replay import open_recording

if TYPE_CHECKING:
    from collections.abc import Sequence

WITH_GYROSCOPE = REPLAY_DATA / "fukuchi" / "RBDS032.jsonl.gz"
RECORDINGS = [
    WITH_GYROSCOPE,
    REPLAY_DATA / "fukuchi_mountings" / "RBDS05_upside_down.jsonl.gz",
    REPLAY_DATA / "alcantara" / "shimmer_sacral_run.jsonl.gz",  # accelerometer only, 512 Hz
    pytest.param(REPLAY_DATA / "demo" / "fatigue_run.jsonl.gz", marks=pytest.mark.slow),  # full batches
]
BLOCK_SIZES = [19, 200, 0]
"""Samples per feed: a BLE notification, one second at 200 Hz, and the whole recording at once (0)."""
TOLERANCE = 1e-9
"""Relative and absolute: rounding only, the two sum in different orders (and fit lines differently)."""


def _batches(
    monkeypatch: pytest.MonkeyPatch, path: Path, size: int
) -> tuple[list[list[StrideSamples]], float]:
    """The batches of strides the pipeline measures when ``path`` is fed ``size`` samples at a time."""
    batches: list[list[StrideSamples]] = []

    class Recording(StrideBatch):
        def __init__(self, samples: Sequence[StrideSamples], rate_hz: float) -> None:
            batches.append(list(samples))
            super().__init__(samples, rate_hz)

    monkeypatch.setattr(pipeline_module, "StrideBatch", Recording)
    block = open_recording(path).block()
    pipeline = Pipeline(block.rate_hz, has_gyr=block.gyr_radps is not None)
    step = size or len(block.t_s)
    for start in range(0, len(block.t_s), step):
        pipeline.feed(block.slice(start, min(start + step, len(block.t_s))))
    pipeline.flush()
    return batches, block.rate_hz


def _assert_same(fast: Measures[float, Sequence[float]], plain: Measures[float, Sequence[float]]) -> None:
    """Every field equal to rounding, NaN where the other is NaN, naming the field that is not."""
    for name, a, b in zip(Measures._fields, fast, plain, strict=True):
        np.testing.assert_allclose(
            np.asarray(a, dtype=float), np.asarray(b, dtype=float), TOLERANCE, TOLERANCE, err_msg=name
        )


@pytest.mark.parametrize("size", BLOCK_SIZES)
@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: Path(p).stem)
def test_the_batched_metrics_are_the_reference_definitions(
    monkeypatch: pytest.MonkeyPatch, path: Path, size: int
) -> None:
    batches, rate = _batches(monkeypatch, path, size)
    strides = [s for batch in batches for s in batch]
    assert len(strides) >= 5
    if size == 0:
        assert max(map(len, batches)) > 1, "a whole recording is measured in batches of many strides"
    for batch in batches:
        for fast, s in zip(StrideBatch(batch, rate).measures(), batch, strict=True):
            _assert_same(fast, reference.measure(s, rate))


def test_strides_without_a_whole_orientation_measure_as_the_reference_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batches, rate = _batches(monkeypatch, WITH_GYROSCOPE, 0)
    samples = [s for batch in batches for s in batch]
    holes = []
    for i, s in enumerate(samples[:24]):
        if i % 3 == 0:
            holes.append(replace(s, quat=None))  # no gyroscope
        elif i % 3 == 1 and s.quat is not None:
            quat = s.quat.copy()
            quat[5:9] = np.nan  # gyroscope data missing for some samples
            holes.append(replace(s, quat=quat))
        else:
            holes.append(s)
    plain = [reference.measure(s, rate) for s in holes]
    assert sum(math.isnan(m.tilt_rom_deg) for m in plain) >= 16
    for fast, want in zip(StrideBatch(holes, rate).measures(), plain, strict=True):
        _assert_same(fast, want)


@pytest.mark.parametrize("count", [1, 2, 7, 38])
def test_the_batched_zero_phase_filter_is_filtfilt_on_each_stride(
    monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    batches, rate = _batches(monkeypatch, WITH_GYROSCOPE, 0)
    samples = [s for batch in batches for s in batch][:count]
    assert len(samples) == count  # 38: all of the recording's strides
    rows = rows_for(tuple(s.t_s.size for s in samples))
    forces = [reference.body_force_g(s).T for s in samples]
    filtered = rows.zero_phase(rows.join(forces), *_com_filter(rate))
    for k, force in enumerate(forces):
        n = force.shape[1]
        np.testing.assert_allclose(filtered[:, k, :n], reference.zero_phase(force, rate), rtol=0, atol=1e-12)
