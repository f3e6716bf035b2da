"""The strides of many runs measured together: what makes hundreds of runners in one process affordable.

Measuring a stride is whole-array work whose cost is mostly per call: one batch of eight strides costs
about a quarter of eight batches of one (``benchmarks/batch_measure.py``). A ``StrideMeter`` gathers the
strides the runs of a squad (``spinesense.serve``) complete within ``WINDOW_S`` and measures them in one
batch (``Pipeline.measure_together``: the same figures as each run's own batch). Each run waits for its
own strides before it takes its next record, so its events stay in order; should the batch fail, each
run's strides are measured alone, so one runner's strides can only ever stop that runner.
"""

from __future__ import annotations

import asyncio
import logging

from spinesense.processing.pipeline import Pipeline

log = logging.getLogger(__name__)

WINDOW_S = 0.02
"""Strides completed within this are measured together: about 8 at 300 runners (1.4 strides per
runner-second). The wait counts in the 150 ms a stride may take to reach the broker."""


class StrideMeter:
    """Measures the waiting strides of every run that asked within a window, in one batch."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        """Gather for ``window_s`` seconds from the first request before measuring."""
        self.window_s = window_s
        self._waiting: dict[Pipeline, asyncio.Future[None]] = {}

    async def measure(self, pipeline: Pipeline) -> None:
        """Return once ``pipeline``'s waiting strides are measured, with those of every run waiting then."""
        loop = asyncio.get_running_loop()
        if not self._waiting:
            loop.call_later(self.window_s, self._measure_all)
        future = self._waiting.get(pipeline)
        if future is None or future.done():  # done: its caller was cancelled, and this one waits anew
            future = self._waiting[pipeline] = loop.create_future()
        await future

    def _measure_all(self) -> None:
        """Measure every waiting run's strides and let the runs go on."""
        waiting, self._waiting = self._waiting, {}
        try:
            Pipeline.measure_together(waiting)
        except Exception as exc:  # noqa: BLE001 - some run's strides broke the batch: each run's alone
            log.warning("measuring %d runs' strides together failed (%s): each alone", len(waiting), exc)
            for pipeline, future in waiting.items():
                try:
                    Pipeline.measure_together([pipeline])
                except Exception as own:  # noqa: BLE001 - handed to that run alone, which stops with it
                    if not future.done():
                        future.set_exception(own)
        for future in waiting.values():
            if not future.done():  # a run stopped meanwhile cancelled its own
                future.set_result(None)
