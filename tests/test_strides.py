"""Stride metrics measured in batches: a stride's figures must not depend on the batch it lands in, and
the batched zero-phase filter must be scipy's filtfilt."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pytest
from scipy.signal import butter, filtfilt, lfilter_zi

from conftest import REPLAY_DATA
from spinesense.processing import pipeline as pipeline_module
from spinesense.processing._rows import rows_for, unwrap_deg
from spinesense.processing.pipeline import Pipeline
from spinesense.processing.strides import StrideBatch, StrideSamples, stride_records
from spinesense.sources.replay import open_recording

if TYPE_CHECKING:
    from spinesense.models import Stride


def _cut_strides(monkeypatch: pytest.MonkeyPatch) -> tuple[list[StrideSamples], float]:
    """The StrideSamples the pipeline cuts from a real recording with a gyroscope."""
    cut: list[StrideSamples] = []

    class Recording(StrideBatch):
        def __init__(self, samples: list[StrideSamples], rate_hz: float) -> None:
            cut.extend(samples)
            super().__init__(samples, rate_hz)

    monkeypatch.setattr(pipeline_module, "StrideBatch", Recording)
    block = open_recording(REPLAY_DATA / "fukuchi" / "RBDS032.jsonl.gz").block()
    pipeline = Pipeline(block.rate_hz, has_gyr=True)
    pipeline.feed(block)
    pipeline.flush()
    return cut, block.rate_hz


def _records(samples: list[StrideSamples], rate: float, sides: list[str]) -> list[Stride]:
    return stride_records(samples, StrideBatch(samples, rate).columns, sides)


def test_a_stride_measures_the_same_alone_and_in_any_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    samples, rate = _cut_strides(monkeypatch)
    assert len(samples) >= 30
    # Mix in strides without orientation (a gyroscope that dropped out), which must not affect the others.
    samples = [replace(s, quat=None) if i % 3 == 0 else s for i, s in enumerate(samples)]
    sides = ["left" if i % 2 else "right" for i in range(len(samples))]
    alone = [_records([s], rate, [side])[0] for s, side in zip(samples, sides, strict=True)]
    together = _records(samples, rate, sides)
    assert together == alone
    rng = np.random.default_rng(7)
    for _ in range(5):
        order = rng.permutation(len(samples)).tolist()
        size = int(rng.integers(2, 13))
        for start in range(0, len(order), size):
            group = order[start : start + size]
            measured = _records([samples[i] for i in group], rate, [sides[i] for i in group])
            assert measured == [alone[i] for i in group]
    assert all(s.pelvic_tilt_rom_deg is None for s in alone[::3])
    assert all(s.pelvic_tilt_rom_deg is not None for s in alone[1::3])


def test_batched_zero_phase_filter_is_scipys_filtfilt() -> None:
    b, a = butter(2, 8.0, fs=200.0)
    lengths = (2, 5, 31, 32, 150, 281)
    rng = np.random.default_rng(1)
    signals = [rng.normal(size=(3, n)).cumsum(axis=1) for n in lengths]
    rows = rows_for(lengths)
    filtered = rows.zero_phase(rows.pad(np.concatenate(signals, axis=1)), b, a, lfilter_zi(b, a))
    for k, (n, signal) in enumerate(zip(lengths, signals, strict=True)):
        expected = filtfilt(b, a, signal, axis=1, padlen=min(n - 1, 30))
        np.testing.assert_allclose(filtered[:, k, :n], expected, rtol=0, atol=1e-12)
        assert (filtered[:, k, n:] == filtered[:, k, n - 1 : n]).all(), "padding must repeat the last sample"


def test_zero_phase_at_chosen_cells_is_the_whole_output_there() -> None:
    b, a = butter(2, 8.0, fs=200.0)
    lengths = (3, 40, 151, 148)
    rng = np.random.default_rng(2)
    rows = rows_for(lengths)
    x = rows.pad(rng.normal(size=(3, sum(lengths))).cumsum(axis=1))
    whole = rows.zero_phase(x, b, a, lfilter_zi(b, a))
    at = rng.integers(0, x[0].size, size=(4, 2, 7))
    chosen = rows.zero_phase(x, b, a, lfilter_zi(b, a), at)
    assert chosen.shape == (3, 4, 2, 7)
    assert (chosen == whole.reshape(3, -1)[:, at]).all()


def test_unwrap_takes_the_remainder_of_wrapping_steps_only_as_the_formula_does() -> None:
    rng = np.random.default_rng(3)
    angles = rng.uniform(-180.0, 180.0, size=(4, 300))
    angles[0] = (np.cumsum(rng.normal(scale=40.0, size=300)) + 180.0) % 360.0 - 180.0  # many wraps
    angles[1, 10:13] = [90.0, -90.0, 90.0]  # steps of exactly -180 and +180
    angles[2, 50] = np.nan
    steps = (np.diff(angles) + 180.0) % 360.0 - 180.0
    expected = np.concatenate([angles[:, :1], angles[:, :1] + np.cumsum(steps, axis=1)], axis=1)
    np.testing.assert_array_equal(unwrap_deg(angles), expected)
