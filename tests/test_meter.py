"""Strides of many runs measured together (``Pipeline.measure_together``, ``StrideMeter``): each run gets
exactly what it gets alone, and one run's broken strides stop only that run."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools

import numpy as np
import pytest

from conftest import REPLAY_DATA
from spinesense.meter import StrideMeter
from spinesense.models import SampleBlock, Stride
from spinesense.processing.pipeline import Pipeline
from spinesense.processing.strides import StrideSamples
from spinesense.sources.replay import open_recording

RECORDINGS = [
    REPLAY_DATA / "fukuchi" / "RBDS032.jsonl.gz",
    REPLAY_DATA / "fukuchi" / "RBDS0041.jsonl.gz",
    REPLAY_DATA / "alcantara" / "shimmer_sacral_run.jsonl.gz",  # another rate: a batch of its own
]
HANG_GUARD_S = 30.0
"""Far above any wait here: a meter that never measures fails the test instead of hanging it."""
MEASURE_EVERY = 15
"""Rounds of one frame per run between two batches: several strides of several runs wait in each."""


def _frames(path: object) -> list[SampleBlock]:
    return list(open_recording(path).blocks())  # type: ignore[arg-type]


def _alone(frames: list[SampleBlock]) -> list[Stride]:
    pipeline = Pipeline(frames[0].rate_hz, has_gyr=frames[0].has_gyr)
    return [s for block in frames for s in pipeline.feed(block)] + pipeline.flush()


def test_strides_measured_together_are_each_runs_own() -> None:
    runs = [_frames(path) for path in RECORDINGS]
    pipelines = [Pipeline(f[0].rate_hz, has_gyr=f[0].has_gyr, deferred=True) for f in runs]
    got: list[list[Stride]] = [[] for _ in runs]
    shared = 0  # the most 200 Hz runs (the first two) whose strides went into one batch
    for round_ in itertools.count():
        if all(round_ >= len(f) for f in runs):
            break
        for frames, pipeline, out in zip(runs, pipelines, got, strict=True):
            if round_ < len(frames):
                out.extend(pipeline.feed(frames[round_]))
        if round_ % MEASURE_EVERY == 0:
            shared = max(shared, sum(1 for p in pipelines[:2] if p.waiting))
            Pipeline.measure_together(pipelines)
            for pipeline, out in zip(pipelines, got, strict=True):
                out.extend(pipeline.collect())
    for pipeline, out in zip(pipelines, got, strict=True):
        out.extend(pipeline.flush())
    assert shared == 2  # strides of two runs went into one batch
    for frames, out in zip(runs, got, strict=True):
        alone = _alone(frames)
        assert len(alone) >= 5
        assert out == alone  # every figure to the bit, every stride in its place


def _waiting_pipeline(path: object) -> tuple[Pipeline, list[SampleBlock]]:
    """A deferred pipeline fed until a stride waits; the frames left."""
    frames = _frames(path)
    pipeline = Pipeline(frames[0].rate_hz, has_gyr=frames[0].has_gyr, deferred=True)
    for n, block in enumerate(frames):
        assert pipeline.feed(block) == []  # nothing measured: the walk-in has no walking strides
        if pipeline.waiting:
            return pipeline, frames[n + 1 :]
    raise AssertionError("no stride")


async def test_a_run_whose_strides_break_the_batch_stops_alone() -> None:
    good, _ = _waiting_pipeline(RECORDINGS[0])
    broken, _ = _waiting_pipeline(RECORDINGS[1])
    # Stands for a bug that only one runner's data would trigger (no real input does it on cue): a stride
    # whose samples have lost their axes.
    place = next(i for i, item in enumerate(broken._out) if isinstance(item, StrideSamples))
    broken._out[place] = dataclasses.replace(broken._out[place], acc_mps2=np.zeros(3))  # type: ignore[arg-type]
    meter = StrideMeter()
    outcomes = await asyncio.gather(meter.measure(good), meter.measure(broken), return_exceptions=True)
    assert outcomes[0] is None
    assert isinstance(outcomes[1], (ValueError, IndexError))
    strides = good.collect()
    assert len(strides) == 1
    assert strides == _alone(_frames(RECORDINGS[0]))[:1]


@pytest.mark.parametrize("window_s", [0.0, 0.05])
async def test_a_lone_run_is_measured_when_its_window_ends(window_s: float) -> None:
    pipeline, _ = _waiting_pipeline(RECORDINGS[0])
    meter = StrideMeter(window_s)
    await asyncio.wait_for(meter.measure(pipeline), HANG_GUARD_S)
    assert not pipeline.waiting
    assert pipeline.collect() == _alone(_frames(RECORDINGS[0]))[:1]


async def test_a_run_that_stopped_waiting_can_wait_again() -> None:
    pipeline, _ = _waiting_pipeline(RECORDINGS[0])
    meter = StrideMeter(60.0)
    first = asyncio.create_task(meter.measure(pipeline))
    await asyncio.sleep(0)  # it is waiting in the window
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    again = asyncio.create_task(meter.measure(pipeline))
    await asyncio.sleep(0)
    assert not again.done()  # waiting for the window, not failing with the first caller's cancellation
    meter._measure_all()  # the window ends now (a 60 s wait would only slow the test)
    await asyncio.wait_for(again, HANG_GUARD_S)
    assert len(pipeline.collect()) == 1


def test_flush_measures_what_waits() -> None:
    pipeline, rest = _waiting_pipeline(RECORDINGS[0])
    assert pipeline.collect() == []  # still waiting for a batch
    assert pipeline.flush() == _alone(_frames(RECORDINGS[0]))[:1]
    assert rest  # the recording went on: flush was the end of the stream here
