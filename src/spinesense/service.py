"""The service: one runner's source -> the one decoder -> pipeline -> alert rules -> sinks.

``Service`` is an async context manager. Entering it gets the source ready (finds the sensor, opens the
file), which names the protocol and so the decoder; starts the broker when none is configured (the embedded
one), then the cockpit web page when ``web.listen`` asks for it, and the MQTT publisher with its outbox; and
opens the capture recorder. ``run()`` then streams the source through the processing into every sink until
the source ends or ``stop()`` is called; leaving the block flushes the outbox, publishes ``offline``, stops
the page and closes the capture. The sinks: the publisher (a slow or absent broker never stalls a live
sensor: strides are shed, and counted; a recording waits for it instead), the recorder (raw frames, byte
for byte), an optional console callback, the cockpit page (web/: served for the service's lifetime, it
reads the same broker over WebSockets), and companions that run beside it (the terminal live view,
speech). One event loop; a bounded queue between the source and the processing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from typing import TYPE_CHECKING, Any, Self

from spinesense.alerts import AlertEngine, BaselineState
from spinesense.capture import CaptureWriter
from spinesense.config import Config
from spinesense.logs import note, status
from spinesense.models import Alert, Stride
from spinesense.run import Notice, Run
from spinesense.sensors import make_decoder
from spinesense.sources import MOST_TOGETHER
from spinesense.web.cockpit import serve_cockpit, websocket_host

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
    from pathlib import Path
    from types import TracebackType

    from spinesense.meter import StrideMeter
    from spinesense.models import Record
    from spinesense.publish import Publisher
    from spinesense.run import RunEvent, RunResult
    from spinesense.sources import Source
    from spinesense.store import StoreSink

    Companion = Callable[["Service"], Coroutine[Any, Any, None]]
    """Runs beside the service while it runs (live view, cockpit page); cancelled when the run ends."""

log = logging.getLogger(__name__)

SOURCE_QUEUE = 4096
"""Records buffered between the source and the processing (6.5 min of reference frames at 200 Hz)."""
SUMMARY_EVERY = 20
"""Publish the rolling summary every this many strides."""
EXIT_INTERRUPTED = 130
"""Process exit code after a second Ctrl-C (the shell's code for SIGINT)."""


def stop_on_signals(stop: Callable[[], None], close: Callable[[], None]) -> None:
    """Ctrl-C/SIGTERM: the first calls ``stop``, a second ``close`` and exits at once (code 130).

    ``stop`` is the clean stop (it may wait for a broker); ``close`` finishes what must stay readable.
    """
    loop = asyncio.get_running_loop()
    stopping = False

    def on_signal() -> None:
        nonlocal stopping
        if stopping:
            close()
            status("spinesense: stopped at once")
            os._exit(EXIT_INTERRUPTED)
        status("spinesense: stopping (again to stop at once)")
        stopping = True
        stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)


class Service:
    """One runner's service around one source; use as ``async with Service(source) as service``."""

    def __init__(  # noqa: PLR0913 - keyword-only options, each with its default
        self,
        source: Source,
        config: Config | None = None,
        *,
        publish: bool = True,
        console: Callable[[Stride | Alert | BaselineState], None] | None = None,
        speak: Callable[[str], None] | None = None,
        companions: Sequence[Companion] = (),
        store: StoreSink | None = None,
        meter: StrideMeter | None = None,
    ) -> None:
        """Prepare the service (nothing starts before ``async with``).

        ``config``: runner, broker, data directory and alert thresholds (None: the defaults, with no
        capture written; ``web`` set serves the cockpit page). ``publish``: False runs without MQTT (and so
        without the page, which reads the broker). ``console`` is told every stride, alert event and news
        of the baseline; ``speak`` the message of every alert raised; ``companions`` run beside the
        service while it runs; ``store`` shows the training load when the service starts and saves the
        run when it ends; ``meter`` measures this run's strides together with other services' (one
        process serving many runners: ``spinesense.serve``).
        """
        self.source = source
        self.config = config or Config(record=False)
        if self.config.web is not None and not publish:
            raise ValueError("the cockpit page (web) reads the broker: serve it with publish=True")
        self.publish = publish
        self.console = console
        self.speak = speak
        self.companions = tuple(companions)
        self.store = store
        self.meter = meter
        self.publisher: Publisher | None = None
        self.broker = ""
        """Where the service publishes, for people ("" without MQTT)."""
        self.cockpit_url: str | None = None
        """The cockpit page's address once the service is entered (None: not served)."""
        self.recorder: CaptureWriter | None = None
        self.header: dict[str, Any] = {}
        """The capture header of the source's stream (known once the service is entered)."""
        self.run_state: Run | None = None
        """The run's processing and its result so far (for live views)."""
        self.interrupted = False
        """Set when a signal stopped the run (Ctrl-C, SIGTERM)."""
        self._stop = asyncio.Event()
        self._stack = contextlib.AsyncExitStack()
        self._strides_published = 0

    @property
    def engine(self) -> AlertEngine:
        """The alert rules of the run (their active alerts, their baseline)."""
        return self._run().engine

    async def __aenter__(self) -> Self:
        """Get the source ready, then start the broker, the page, the publisher and the recorder."""
        self.header = {**await self.source.start(), "runner": {"id": self.config.runner_id}}
        decoder = make_decoder(str(self.header.get("protocol", "")))
        engine = AlertEngine(self.config.alerts, self.config.profile)
        self.run_state = Run(decoder, engine, deferred=self.meter is not None, rolling=True)
        try:
            if self.publish:
                await self._open_publisher()
            self.recorder = self._open_recorder()
            if self.store is not None:
                self.store.start(self.publisher)
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Flush the outbox, publish ``offline``, stop the page and the embedded broker, close the capture."""
        try:
            await self._stack.aclose()
        finally:
            self.close_capture()

    async def _open_publisher(self) -> None:
        """The configured broker, or an embedded one for the service's lifetime; the page, the publisher."""
        from spinesense.publish import Publisher, SessionClock, embedded_broker  # noqa: PLC0415 - if publishing

        config = self.config
        if config.broker is not None:
            settings, self.broker = config.broker, config.broker.display()
        else:
            if config.unused_broker_keys:
                log.warning(
                    "%s: no effect without a broker URL (broker.url, SPINESENSE_BROKER_URL or --broker); "
                    "publishing to the embedded broker",
                    ", ".join(config.unused_broker_keys),
                )
            broker = embedded_broker(websocket_host=websocket_host(config))
            settings = await self._stack.enter_async_context(broker)
            self.broker = f"{settings.display()} (embedded broker)"
        if config.web is not None:
            page = serve_cockpit(config, config.web, settings)
            self.cockpit_url = await self._stack.enter_async_context(page)
        self.publisher = await self._stack.enter_async_context(
            Publisher(
                settings,
                config.runner_id,
                outbox_dir=self.outbox_dir(),
                clock=SessionClock.for_header(self.header),
            )
        )

    def outbox_dir(self) -> Path | None:
        """Where undelivered alerts, summaries and session messages wait for the next run (per runner).

        Only for a configured broker: the embedded one lives and dies with the service, so there is
        nothing to deliver later.
        """
        config = self.config
        return None if config.broker is None else config.data_dir / "outbox" / config.runner_id

    def _open_recorder(self) -> CaptureWriter | None:
        """A capture file for this run in the data directory, unless recording is off.

        A data directory that cannot be written (read-only, full) costs the capture, never the run.
        """
        config = self.config
        if not config.record:
            return None
        now = time.gmtime()
        # The runner's id in the name: runners served together start in the same second (``serve``).
        path = config.data_dir / f"{time.strftime('run-%Y%m%d-%H%M%S', now)}-{config.runner_id}.jsonl.gz"
        header = {**self.header, "start_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", now)}
        try:
            return CaptureWriter(path, header)
        except OSError as exc:
            log.error(  # noqa: TRY400 - the reason is in the line: a full disk needs no traceback
                "capture: cannot write %s (%s): this run goes on without a capture", path, exc.strerror or exc
            )
            return None

    def stop(self) -> None:
        """End the run early: the source stops, what it already gave is processed, then the run ends."""
        self._stop.set()

    def stop_on_signals(self) -> None:
        """First Ctrl-C/SIGTERM: stop cleanly; second: close the capture and exit at once (code 130)."""

        def interrupt() -> None:
            self.interrupted = True
            self.stop()

        stop_on_signals(interrupt, self.close_capture)

    def close_capture(self) -> None:
        """Finish the capture file (safe to call again, and before the run has ended)."""
        if self.recorder is not None:
            self.recorder.close()

    async def run(self) -> RunResult:
        """Consume the source until it ends or ``stop()``; then finish the run and publish its end."""
        run = self._run()
        companions = [asyncio.create_task(companion(self)) for companion in self.companions]
        try:
            await self._stream(run)
        except BaseExceptionGroup as group:
            # One stage failed (a link that gave up, an unreadable file): raise its error as it is.
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise
        finally:
            for task in companions:
                task.cancel()
            await asyncio.gather(*companions, return_exceptions=True)
        self._send(run.finish())
        self._publish_end(run.result)
        self._save(run.result)
        return run.result

    async def _stream(self, run: Run) -> None:
        """The source's records to the recorder and the run, in order, until it ends or ``stop()``.

        A live sensor's records pass through a bounded queue, so the link never waits for the processing. A
        recording (``live = False``) waits anyway (for its pace, or for the publisher): its records are taken
        straight from it, which spares a task switch and a future a record (the asyncio work per record: 0.58
        times the queue's, benchmarks/stream_mechanics.py).
        """
        if getattr(self.source, "live", True):
            await self._stream_queued(run)
        else:
            await self._stream_direct(run)

    async def _take(self, run: Run, records: Sequence[Record], publisher: Publisher | None) -> None:
        """Records that came together to the recorder and the run, the events to the sinks.

        Then waits for ``publisher`` (a recording's backpressure).
        """
        if self.recorder is not None:
            for record in records:
                self.recorder.write(record)
        self._send(run.feed_all(records))
        if self.meter is not None and (pipeline := run.pipeline) is not None and pipeline.waiting:
            await self.meter.measure(pipeline)
            self._send(run.collect())
        if publisher is not None:
            await publisher.room()  # a recording waits for the publisher: nothing shed

    async def _stream_queued(self, run: Run) -> None:
        """A live sensor's records, through a bounded queue; what is queued when it stops is still taken."""
        queue: asyncio.Queue[Record | None] = asyncio.Queue(SOURCE_QUEUE)

        async def produce() -> None:
            try:
                async for record in self.source:
                    if self._stop.is_set():
                        break
                    await queue.put(record)
            finally:
                stopper.cancel()
                await queue.put(None)

        async def consume() -> None:
            ended = False
            while not ended and (record := await queue.get()) is not None:
                # A backlog (the host was busy) is taken in one go: fewer, longer pipeline steps catch up.
                records = [record]
                while not queue.empty() and len(records) < MOST_TOGETHER:
                    if (more := queue.get_nowait()) is None:
                        ended = True
                        break
                    records.append(more)
                await self._take(run, records, None)  # a live sensor never waits (strides shed)

        async def stop_source() -> None:
            # A sensor out of range yields nothing: without this, Ctrl-C would wait for it to come back.
            await self._stop.wait()
            producer.cancel()

        async with asyncio.TaskGroup() as tasks:
            producer = tasks.create_task(produce())
            stopper = tasks.create_task(stop_source())
            tasks.create_task(consume())

    async def _stream_direct(self, run: Run) -> None:
        """A recording's records, taken as they come (those due together at once).

        ``stop()`` cuts short only the wait for the next.
        """
        reading = False

        async def read() -> None:
            nonlocal reading
            batches = _batches(self.source)
            try:
                while not self._stop.is_set():
                    reading = True
                    try:
                        records = await anext(batches)
                    except StopAsyncIteration:
                        return
                    finally:
                        reading = False
                    await self._take(run, records, self.publisher)
            finally:
                stopper.cancel()

        async def stop_reading() -> None:
            # A paced replay can wait minutes for its next record (a pause in the recording).
            await self._stop.wait()
            if reading:
                reader.cancel()

        async with asyncio.TaskGroup() as tasks:
            reader = tasks.create_task(read())
            stopper = tasks.create_task(stop_reading())

    def _save(self, result: RunResult) -> None:
        """The finished run into the run store (its capture closed first: the capture identifies it)."""
        if self.store is None:
            return
        self.close_capture()
        capture = None if self.recorder is None else self.recorder.path
        self.store.finish(result.strides, result.alerts, result.summary, self.header, capture, self.publisher)

    def _run(self) -> Run:
        """The run's processing; only there once the service is entered."""
        if self.run_state is None:
            raise RuntimeError("the service is not started: use it as `async with Service(...)`")
        return self.run_state

    def _send(self, events: list[RunEvent]) -> None:
        """Hand the run's events to the console, the speaker and the publisher, in order."""
        publisher = self.publisher
        if publisher is not None and events:
            publisher.clock.advance(self._run().latest_t_s)
        for event in events:
            if isinstance(event, Stride | Alert | BaselineState) and self.console is not None:
                self.console(event)
            if isinstance(event, Alert) and event.state == "raised" and self.speak is not None:
                self.speak(event.message)
            if isinstance(event, Notice):
                note(event.text)
            if publisher is not None:
                self._publish(publisher, event)

    def _publish(self, publisher: Publisher, event: RunEvent) -> None:
        """One event onto its topic (alerts also update the retained active list)."""
        if isinstance(event, Stride):
            self._publish_stride(publisher, event)
        elif isinstance(event, Alert):
            with publisher.together():
                publisher.publish_alert(event)
                publisher.publish_active(self.engine.active())
        elif isinstance(event, Notice):
            publisher.publish_notice(event.text)
        elif isinstance(event, BaselineState):
            publisher.publish_baseline(event)
        else:  # Started: the session starts on one clock, with no alert active
            publisher.clock.start(event.received_t_s, event.host_t_ns)
            with publisher.together():
                publisher.publish_session(
                    {"state": "started", "rate_hz": event.rate_hz, "gyroscope": event.has_gyr}
                )
                publisher.publish_active([])

    def _publish_stride(self, publisher: Publisher, stride: Stride) -> None:
        """A stride, and the rolling summary every SUMMARY_EVERY strides."""
        publisher.publish_stride(stride)
        self._strides_published += 1
        rolling = self._run().rolling_summary  # it may hold the strides the run made with this one
        if rolling is not None and self._strides_published % SUMMARY_EVERY == 0:
            publisher.publish_summary(rolling.summary())

    def _publish_end(self, result: RunResult) -> None:
        """The session summary and the session's end."""
        publisher = self.publisher
        if publisher is None:
            return
        with publisher.together():
            publisher.publish_summary(result.summary)
            publisher.publish_active([])  # the run is over: nothing is active any more
            publisher.publish_session(
                {
                    "state": "ended",
                    "samples": result.counts.samples,
                    "lost_samples": result.counts.lost_samples,
                    "alerts": result.raised,
                    "strides_shed": publisher.strides_shed,
                    "summary": result.summary,
                }
            )


def _batches(source: Source) -> AsyncIterator[Sequence[Record]]:
    """A source's records in lists of those that came together.

    Its own ``batches()`` when it has them (a recording: ``replay_batches``), else one by one.
    """
    batches: Callable[[], AsyncIterator[Sequence[Record]]] | None = getattr(source, "batches", None)
    return batches() if batches is not None else _one_by_one(source)


async def _one_by_one(source: Source) -> AsyncIterator[Sequence[Record]]:
    """Each of a source's records as a list of one."""
    async for record in source:
        yield (record,)
