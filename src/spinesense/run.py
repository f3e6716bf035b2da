"""One run's processing, without I/O: records -> the one decoder -> pipeline -> alert rules -> a result.

The service feeds it a live source's records one by one and hands what comes out to its sinks;
``analyse`` feeds it a whole recording at once. Either way each frame is decoded once, gaps are found
once (by the decoder), and every stride and alert is judged in the order the samples came.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spinesense.alerts import AlertConfig, AlertEngine, BaselineState
from spinesense.alerts.baseline import baseline_news
from spinesense.models import Alert, Counts, EventRecord, SampleBlock, Stride, concat_blocks
from spinesense.processing.offline import StreamProcessor
from spinesense.processing.summary import RollingSummary, session_summary
from spinesense.sources.replay import Recording, open_recording

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from spinesense.alerts import RunnerProfile
    from spinesense.models import Gap, Record
    from spinesense.processing.pipeline import Pipeline
    from spinesense.sensors import StreamDecoder

HOLD_SAMPLES = 4096
"""Whole files go through the pipeline in blocks of about this many samples (frames one by one are slower)."""


@dataclass(frozen=True, slots=True)
class Started:
    """The first samples of the run arrived: what the stream is, for the sinks that announce it."""

    rate_hz: float
    has_gyr: bool
    t_s: float
    """Sensor time of the first sample."""
    received_t_s: float
    """Sensor time of the first block's last sample: the one the host received at ``host_t_ns``."""
    host_t_ns: int | None
    """Host receive time (ns) of the first block's last sample: where the run's clock is fixed."""


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the runner or developer should know (re-alignment, samples lost, no gyroscope)."""

    text: str


RunEvent = Started | Notice | Stride | Alert | BaselineState
"""What a run hands its sinks, in the order it happened."""


@dataclass(slots=True)
class RunResult:
    """Everything a run produced: its strides, alert events, summary, gaps and notices, and its counts."""

    strides: list[Stride] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    """Alert events in order: each episode is raised once and cleared at most once."""
    summary: dict[str, Any] = field(default_factory=dict)
    """The session summary (medians, spread, per side, first vs last part); filled when the run ends."""
    gaps: list[Gap] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    corrupt_frames: dict[str, int] = field(default_factory=dict)
    """Frames the decoder skipped, by reason."""
    baseline: dict[str, float] | None = None
    """The runner's baseline the alert rules used (learned in this run or given), once known."""
    baseline_state: BaselineState | None = None
    """Where the baseline stood at the end: learning (how far), learned or from the profile."""

    @property
    def raised(self) -> int:
        """Alerts raised (episodes), not counting their clearing."""
        return sum(a.state == "raised" for a in self.alerts)


class Run:
    """Takes a stream's records (or decoded blocks) and turns them into strides, alerts and notices.

    ``hold_samples`` > 0 batches decoded frames into blocks of about that many samples before the
    pipeline sees them (faster for whole files; the strides are the same, the pipeline is
    block-size independent); 0 hands every frame on at once, as a live run needs. ``deferred``: running
    strides wait to be measured with other runs' (``Pipeline.measure_together``), then ``collect``.
    ``rolling``: keep the summary stride by stride (``rolling_summary``), for a caller that shows it during
    the run; the session summary at the end is then read from it (the same figures to the bit,
    tests/test_rolling.py) instead of computed over every stride on the event loop (1.4 ms for a 2-minute
    run, more for a longer one).
    """

    def __init__(
        self,
        decoder: StreamDecoder | None,
        engine: AlertEngine,
        *,
        hold_samples: int = 0,
        deferred: bool = False,
        rolling: bool = False,
    ) -> None:
        """Wire the stages; ``decoder`` is None when only decoded blocks will be fed."""
        self.decoder = decoder
        self.engine = engine
        self.processor = StreamProcessor(deferred=deferred)
        self.rolling_summary = RollingSummary() if rolling else None
        """The session summary so far, kept stride by stride (None unless ``rolling``)."""
        self.result = RunResult(strides=self.processor.strides)
        self.link = ""
        """The sensor link's state in a few words ("" for a file, which has no link)."""
        self._hold_samples = hold_samples
        self._held: list[SampleBlock] = []
        self._held_samples = 0
        self._together = False
        """Inside ``feed_all``: blocks are held until its end (or a gap, an event, a change of clipping)."""
        self._host_minus_sensor_s: float | None = None
        """Host receive time minus sensor time (latest block): puts link events on the sensor clock."""
        self.latest_t_s = 0.0
        """Sensor time of the latest sample: how far the run has got."""
        self._baseline_told: BaselineState | None = None

    def feed_all(self, items: Sequence[Record]) -> list[RunEvent]:
        """Take records that arrived together (a backlog); return what they produced.

        Their samples go through the pipeline as one block, which costs less than frame by frame (per
        record 0.89 times for four reference frames, 0.71 for eight, 0.40 for 32: ``benchmarks/catch_up.py``)
        and gives the same strides: a loaded host catches up faster. Events come in the order ``feed`` one
        by one gives, but for a pipeline notice, which may come before a stride of the same block.
        """
        if len(items) == 1:
            return self.feed(items[0])
        self._together = True
        try:
            events = [event for item in items for event in self.feed(item)]
        finally:
            self._together = False
        return events + self._release()

    def feed(self, item: Record | SampleBlock) -> list[RunEvent]:
        """Take the next record from the source (or decoded samples); return what it produced."""
        if isinstance(item, SampleBlock):
            return self._block(item)
        if isinstance(item, EventRecord):
            return [*self._release(), *self._event(item)]
        if self.decoder is None:
            raise ValueError("this run has no decoder: feed it SampleBlocks, not records")
        self.result.counts.frames += 1
        block = self.decoder.feed(item.char, item.data, item.t_ns)
        return [] if block is None else self._hold(block)

    @property
    def pipeline(self) -> Pipeline | None:
        """The run's pipeline (None before the first samples): a deferred one's strides wait in it."""
        return self.processor.pipeline

    def collect(self) -> list[RunEvent]:
        """A deferred run's strides once measured (``Pipeline.measure_together``), with what they raised."""
        return self._strides(self.processor.collect())

    def finish(self) -> list[RunEvent]:
        """End of stream: the last strides, then the summary, the baseline and the decoder's counts."""
        events = [*self._release(), *self._strides(self.processor.flush())]
        rolling = self.rolling_summary
        self.result.summary = session_summary(self.result.strides) if rolling is None else rolling.summary()
        self.result.baseline = self.engine.baseline
        self.result.baseline_state = self.engine.baseline_state()
        if self.decoder is not None:
            self.result.corrupt_frames = dict(self.decoder.errors)
        return events

    def _hold(self, block: SampleBlock) -> list[RunEvent]:
        """Hold ``block`` with the ones held, or pass it on when not batching; a gap releases those first.

        The first block always goes on alone: the run's clock is fixed at its last sample, as live.
        """
        if not (self._hold_samples or self._together) or not self.result.counts.samples:
            return self._block(block)
        # A block is clipped or not as a whole: one whose clipping differs is not joined to those held.
        starts_anew = block.gaps or (self._held and self._held[-1].clipped != block.clipped)
        events = self._release() if starts_anew else []
        self._held.append(block)
        self._held_samples += len(block)
        if self._hold_samples and self._held_samples >= self._hold_samples:
            events += self._release()
        return events

    def _release(self) -> list[RunEvent]:
        """The held blocks through the pipeline as one (they follow each other without a gap)."""
        if not self._held:
            return []
        block = self._held[0] if len(self._held) == 1 else concat_blocks(self._held)
        self._held, self._held_samples = [], 0
        return self._block(block)

    def _block(self, block: SampleBlock) -> list[RunEvent]:
        """Samples through the pipeline and the rules."""
        counts = self.result.counts
        events: list[RunEvent] = []
        if counts.samples == 0:
            first, last = float(block.t_s[0]), float(block.t_s[-1])
            events += [Started(block.rate_hz, block.has_gyr, first, last, block.host_t_ns), *self._baseline()]
        counts.samples += len(block)
        self.latest_t_s = float(block.t_s[-1])
        if block.host_t_ns is not None:
            self._host_minus_sensor_s = block.host_t_ns * 1e-9 - float(block.t_s[-1])
        for gap in block.gaps:
            counts.gaps += 1
            counts.lost_samples += gap.missing
            self.result.gaps.append(gap)
            events += self._alerts(self.engine.on_gap(gap, float(block.t_s[0]), block.rate_hz))
        strides = self.processor.feed(block)
        if strides or self.processor.notices:
            events += self._strides(strides)
        return events

    def _strides(self, strides: list[Stride]) -> list[RunEvent]:
        """The pipeline's notices, then each new stride followed by the alerts it raised or cleared."""
        events: list[RunEvent] = []
        for text in self.processor.take_notices():
            self.result.notices.append(text)
            events.append(Notice(text))
        for stride in strides:
            if self.rolling_summary is not None:
                self.rolling_summary.feed(stride)
            events.append(stride)
            events += self._alerts(self.engine.on_stride(stride))
            events += self._baseline()
        return events

    def _baseline(self) -> list[BaselineState]:
        """The baseline's state when it is news: a new state, or the learning countdown moved on."""
        state = self.engine.baseline_state()
        if not baseline_news(self._baseline_told, state):
            return []
        self._baseline_told = state
        return [state]

    def _alerts(self, alerts: list[Alert]) -> list[Alert]:
        """Keep alert events in the result."""
        self.result.alerts += alerts
        return alerts

    def _event(self, record: EventRecord) -> list[RunEvent]:
        """Connection events become sensor-trouble alerts (on the sensor clock, like every alert)."""
        counts = self.result.counts
        counts.events += 1
        if record.event == "connect":
            counts.connects += 1
            sensor = record.fields.get("sensor_name") or record.fields.get("address")
            self.link = f"connected to {sensor}"
        elif record.event == "disconnect":
            counts.disconnects += 1
            self.link = f"link down ({record.fields.get('reason', 'unknown')}): reconnecting"
        else:
            return []
        # Before the first samples the sensor clock is unknown: the event is put at its start.
        offset = self._host_minus_sensor_s
        t_s = 0.0 if offset is None else record.t_ns * 1e-9 - offset
        return list(self._alerts(self.engine.on_signal(t_s, connected=record.event == "connect")))


def analyse(
    recording: Path | str | Recording | SampleBlock,
    *,
    config: AlertConfig | None = None,
    profile: RunnerProfile | None = None,
) -> RunResult:
    """Strides, alerts, summary, gaps and notices of a whole recording (or block), synchronously.

    The same processing a live run does, with the alert thresholds of ``config`` (None: the defaults)
    and the runner's ``profile``; prints nothing. Raises RecordingError when the file cannot be read.
    """
    engine = AlertEngine(config or AlertConfig.default(), profile)
    if isinstance(recording, SampleBlock):
        run = Run(None, engine)
        run.feed(recording)
    else:
        opened = recording if isinstance(recording, Recording) else open_recording(recording)
        run = Run(opened.decoder(), engine, hold_samples=HOLD_SAMPLES)
        for record in opened.records():
            run.feed(record)
    run.finish()
    return run.result
