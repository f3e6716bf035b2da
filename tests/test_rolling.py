"""The incremental rolling medians and summary equal their plain recompute-everything references."""

from __future__ import annotations

import gc
import random
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from conftest import REPLAY_DATA
from spinesense import analyse
from spinesense.alerts._rolling import RollingMedians, window_medians
from spinesense.models import STRIDE_METRICS
from spinesense.processing._sorted import SortedValues
from spinesense.processing.summary import RollingSummary, session_summary

if TYPE_CHECKING:
    from spinesense.models import Stride

DEMO_RUN = REPLAY_DATA / "demo" / "fatigue_run.jsonl.gz"


@pytest.fixture(scope="module")
def demo_strides() -> list[Stride]:
    """The strides of the bundled 11-minute demo run (longer than twice the summary's trend window)."""
    return analyse(DEMO_RUN).strides


def _gappy(strides: list[Stride], seed: int) -> list[Stride]:
    """The strides with some metrics missing and some strides walking, at random (a fixed seed)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    out = []
    for stride in strides:
        missing: dict[str, Any] = {name: None for name in STRIDE_METRICS if rng.random() < 0.3}
        out.append(replace(stride, **missing, running=stride.running and rng.random() > 0.1))
    return out


def test_sorted_values_give_numpy_medians_and_percentiles_to_the_last_bit() -> None:
    import numpy as np  # noqa: PLC0415 - the reference only

    rng = random.Random(7)  # noqa: S311 - reproducible test data, not secrets
    held = SortedValues()
    values: list[float] = []
    for _ in range(300):
        value = rng.choice([rng.gauss(0, 1), 1.5, -2.25])  # ties as well
        held.add(value)
        values.append(value)
        if rng.random() < 0.3:
            gone = values.pop(rng.randrange(len(values)))
            held.remove(gone)
        if values:
            assert held.median() == float(np.median(values))
            for q in (25, 50, 75):
                assert held.percentile(q) == float(np.percentile(values, q))
    with pytest.raises(ValueError, match="not held"):
        held.remove(1e9)


def test_sorted_values_leave_the_garbage_collector_nothing_to_walk() -> None:
    """A served runner holds a hundred of these, growing all run: each a Python object per value would make
    every full collection, which stops every runner, walk millions of floats."""
    held = SortedValues()
    for value in range(5000):
        held.add(value / 7)
    walked, floats, todo = set(), 0, [held]
    while todo:  # what a collection reaches from it, as the collector does (types aside)
        for referent in gc.get_referents(todo.pop()):
            if isinstance(referent, float):
                floats += 1
            elif not isinstance(referent, type) and id(referent) not in walked:
                walked.add(id(referent))
                todo.append(referent)
    assert floats == 0
    assert held.median() == 2499.5 / 7


@pytest.mark.parametrize("size", [8, 40])
@pytest.mark.parametrize("seed", [None, 1, 2])
def test_rolling_medians_equal_the_plain_medians_after_every_stride(
    demo_strides: list[Stride], size: int, seed: int | None
) -> None:
    strides = demo_strides if seed is None else _gappy(demo_strides, seed)
    rolling = RollingMedians(size)
    for i, stride in enumerate(strides):
        rolling.feed(stride)
        assert rolling.medians() == window_medians(strides[max(0, i + 1 - size) : i + 1])


@pytest.mark.parametrize("seed", [None, 3])
def test_rolling_summary_equals_the_session_summary_after_every_stride(
    demo_strides: list[Stride], seed: int | None
) -> None:
    strides = demo_strides if seed is None else _gappy(demo_strides, seed)
    assert strides[-1].t_end_s - strides[0].t_start_s > 600  # the last part slides, the first is fixed
    rolling = RollingSummary()
    assert rolling.summary() == session_summary([])
    for i, stride in enumerate(strides):
        rolling.feed(stride)
        if i % 7 == 0 or i == len(strides) - 1:
            assert rolling.summary() == session_summary(strides[: i + 1]), f"after stride {i}"
