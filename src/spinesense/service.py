"""The service: one source's records -> decoder -> pipeline -> alert rules -> sinks.

Sinks: the MQTT publisher (non-blocking: a slow or absent broker never stalls the sensor), the capture
recorder (raw frames, byte for byte), and a console callback. The same code serves ``run``, ``demo`` and
``replay --broker``. One event loop; a bounded queue between the source and the processing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spinesense.logs import note
from spinesense.models import EventRecord
from spinesense.processing.offline import StreamProcessor
from spinesense.processing.summary import session_summary

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from spinesense.alerts import AlertEngine
    from spinesense.capture import CaptureWriter
    from spinesense.models import Alert, Record, SampleBlock, Stride
    from spinesense.publish import Publisher
    from spinesense.sensors import StreamDecoder

SOURCE_QUEUE = 4096
"""Records buffered between the source and the processing (about 40 s of frames at 200 Hz)."""
SUMMARY_EVERY = 20
"""Publish the rolling summary every this many strides."""


@dataclass
class SessionReport:
    """What a session did, for the closing lines and the tests."""

    frames: int = 0
    samples: int = 0
    lost_samples: int = 0
    gaps: int = 0
    link: str = ""
    """The sensor link's state in a few words ("" for a file, which has no link)."""
    strides: list[Stride] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    corrupt_frames: dict[str, int] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def raised(self) -> int:
        """Alerts raised (episodes), not counting their clearing."""
        return sum(a.state == "raised" for a in self.alerts)


class Session:
    """Processes one stream of records and feeds every sink."""

    def __init__(
        self,
        decoder: StreamDecoder,
        engine: AlertEngine,
        *,
        publisher: Publisher | None = None,
        recorder: CaptureWriter | None = None,
        show: Callable[[Stride | Alert], None] | None = None,
    ) -> None:
        """Wire the stages; ``show`` is told every stride and alert event (for a console; None: quiet)."""
        self.decoder = decoder
        self.engine = engine
        self.publisher = publisher
        self.recorder = recorder
        self.show = show
        self.processor = StreamProcessor()
        self.report = SessionReport(strides=self.processor.strides)
        self.stop = asyncio.Event()
        """Set to end the session early (Ctrl-C, SIGTERM, --duration): the source stops, the rest drains."""
        self._host_minus_sensor_s: float | None = None
        """Host receive time minus sensor time (latest block): puts link events on the sensor clock."""

    async def run(self, records: AsyncIterator[Record]) -> SessionReport:
        """Consume the source until it ends or ``stop`` is set; then flush and publish the session end."""
        queue: asyncio.Queue[Record | None] = asyncio.Queue(SOURCE_QUEUE)

        async def produce() -> None:
            try:
                async for record in records:
                    if self.stop.is_set():
                        break
                    await queue.put(record)
            finally:
                stopper.cancel()
                await queue.put(None)

        async def consume() -> None:
            while (record := await queue.get()) is not None:
                self._handle(record)

        async def stop_source() -> None:
            # A sensor out of range yields nothing: without this, Ctrl-C would wait for it to come back.
            await self.stop.wait()
            producer.cancel()

        async with asyncio.TaskGroup() as tasks:
            producer = tasks.create_task(produce())
            stopper = tasks.create_task(stop_source())
            tasks.create_task(consume())
        self._finish()
        return self.report

    def _handle(self, record: Record) -> None:
        """One record through every stage."""
        if self.recorder is not None:
            self.recorder.write(record)
        if isinstance(record, EventRecord):
            self._on_event(record)
            return
        block = self.decoder.feed_record(record.char, record.data, record.t_ns)
        self.report.frames += 1
        if block is not None:
            self._on_block(block)

    def _on_event(self, record: EventRecord) -> None:
        """Connection events become sensor-trouble alerts (on the sensor clock, like every alert)."""
        if record.event == "connect":
            sensor = record.fields.get("sensor_name") or record.fields.get("address")
            link = f"connected to {sensor}"
        elif record.event == "disconnect":
            link = f"link down ({record.fields.get('reason', 'unknown')}): reconnecting"
        else:
            return
        # Before the first samples the sensor clock is unknown: the event is put at its start.
        offset = self._host_minus_sensor_s
        t_s = 0.0 if offset is None else record.t_ns * 1e-9 - offset
        self._alerts(self.engine.on_signal(t_s, connected=record.event == "connect"))
        self.report.link = link

    def _on_block(self, block: SampleBlock) -> None:
        """Samples through the pipeline and the rules, strides and alerts to the sinks."""
        if self.publisher is not None and self.report.samples == 0:  # the first block: the session starts
            self.publisher.utc_offset_ms = time.time() * 1000 - float(block.t_s[0]) * 1000
            self.publisher.publish_session(
                {"state": "started", "rate_hz": block.rate_hz, "gyroscope": block.has_gyr}
            )
        self.report.samples += len(block)
        if block.host_t_ns is not None:
            self._host_minus_sensor_s = block.host_t_ns * 1e-9 - float(block.t_s[-1])
        for gap in block.gaps:
            self.report.gaps += 1
            self.report.lost_samples += gap.missing
            self._alerts(self.engine.on_gap(gap, float(block.t_s[0]), block.rate_hz))
        self._strides(self.processor.feed(block))

    def _strides(self, strides: list[Stride]) -> None:
        """Publish, judge and show new strides, and the pipeline's notices."""
        for text in self.processor.take_notices():
            note(text)
            if self.publisher is not None:
                self.publisher.publish_notice(text)
        done = len(self.report.strides) - len(strides)  # the processor has already kept them
        for n, stride in enumerate(strides, start=done + 1):
            if self.show is not None:
                self.show(stride)
            if self.publisher is not None:
                self.publisher.publish_stride(stride)
            self._alerts(self.engine.on_stride(stride))
            if self.publisher is not None and n % SUMMARY_EVERY == 0:
                self.publisher.publish_summary(session_summary(self.report.strides[:n]))

    def _alerts(self, alerts: list[Alert]) -> None:
        """Show and publish alert events, and the active list when it changed."""
        for alert in alerts:
            self.report.alerts.append(alert)
            if self.show is not None:
                self.show(alert)
            if self.publisher is not None:
                self.publisher.publish_alert(alert)
        if alerts and self.publisher is not None:
            self.publisher.publish_active(self.engine.active())

    def _finish(self) -> None:
        """End of stream: last strides, the session summary, and the decoder's counts."""
        self._strides(self.processor.flush())
        self.report.summary = session_summary(self.report.strides)
        self.report.corrupt_frames = dict(self.decoder.errors)
        if self.publisher is not None:
            self.publisher.publish_summary(self.report.summary)
            self.publisher.publish_session(
                {
                    "state": "ended",
                    "samples": self.report.samples,
                    "lost_samples": self.report.lost_samples,
                    "alerts": self.report.raised,
                    "summary": self.report.summary,
                }
            )
