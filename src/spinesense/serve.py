"""Many runners in one process: one ``Service`` per runner, all on one asyncio event loop.

A coach's squad or a clinic's treadmill bank shares one process (one interpreter, one set of imported
libraries) instead of paying a whole process per runner. Each runner is isolated: its source is opened
inside its own task, and whatever stops it (a sensor that cannot be found, a file that cannot be read,
an exception in its processing) is reported for that runner alone while the others run on. Everything
logged inside a runner's task names the runner (``spinesense.logs.runner_scope``), so fifty runners'
notices stay readable.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import sys
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spinesense.logs import runner_scope
from spinesense.meter import StrideMeter
from spinesense.service import Service, stop_on_signals

if sys.platform != "win32":
    import resource

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Sequence

    from spinesense.alerts import BaselineState
    from spinesense.config import Config
    from spinesense.models import Alert, Stride
    from spinesense.publish import BrokerSettings
    from spinesense.run import RunResult
    from spinesense.sources import Source
    from spinesense.store import StoreSink

    Event = Stride | Alert | BaselineState
    """What a console is told: every stride, alert event and news of the baseline."""

log = logging.getLogger(__name__)

FREEZE_EVERY_S = 5.0
"""While serving, what has survived this long is frozen out of the full collections (``Squad.serve``)."""
COLLECT_EVERY_S = 600.0
"""While serving, everything is unfrozen and collected this often, so garbage in cycles is freed."""
FILES_PER_RUNNER = 8
"""Open files a runner may need: six counted for a replay into a configured broker (its outbox database,
its WAL twice and its shared memory, the broker connection, the recording), with room for a capture or a
sensor link."""
FILES_RESERVED = 64
"""Open files the process needs besides its runners' (libraries, the loop, logs, an embedded broker)."""


@dataclass(frozen=True)
class Runner:
    """One runner to serve: its configuration (runner id, broker, thresholds) and how to get its data.

    ``source`` is called inside the runner's own task, so a source that cannot be opened stops only
    this runner.
    """

    config: Config
    source: Callable[[], Source]


@dataclass
class Outcome:
    """How one runner's service ended: its result, or why it stopped (then ``result`` is None)."""

    runner_id: str
    result: RunResult | None = None
    error: str | None = None
    service: Service | None = None
    """The runner's service, for its publisher's totals (None if its source could not be opened)."""


def check_unique(runners: Sequence[Runner]) -> None:
    """ValueError naming the runner ids given more than once (they would share topics and outboxes)."""
    counts = Counter(r.config.runner_id for r in runners)
    twice = sorted(runner_id for runner_id, n in counts.items() if n > 1)
    if twice:
        raise ValueError(f"runner ids must be unique: {', '.join(twice)} given more than once")


class Squad:
    """Serves every runner concurrently until each source ends or ``stop()``; see ``serve``."""

    def __init__(
        self,
        runners: Sequence[Runner],
        *,
        console: Callable[[str, Event], None] | None = None,
        store: Callable[[Source, Config], StoreSink] | None = None,
    ) -> None:
        """Check the runner ids are unique; nothing starts before ``serve``.

        ``console`` is told ``(runner_id, event)`` for every stride, alert event and baseline news;
        ``store`` makes each runner's hook into the run store from its source and configuration (None:
        runs are not saved).
        """
        check_unique(runners)
        self.runners = tuple(runners)
        self.console = console
        self.store = store
        self.services: dict[str, Service] = {}
        self.meter = StrideMeter() if len(self.runners) > 1 else None
        """Measures the runners' strides together (``spinesense.meter``); a lone runner needs no wait."""
        self.interrupted = False
        self._stopped = asyncio.Event()

    def stop(self) -> None:
        """End every runner's run cleanly (what each source already gave is processed and published)."""
        self._stopped.set()
        for service in self.services.values():
            service.stop()

    def stop_on_signals(self) -> None:
        """First Ctrl-C/SIGTERM: stop every runner cleanly; second: close every capture and exit (130)."""

        def interrupt() -> None:
            self.interrupted = True
            self.stop()

        def close_captures() -> None:
            for service in self.services.values():
                service.close_capture()

        stop_on_signals(interrupt, close_captures)

    async def serve(self) -> list[Outcome]:
        """Run every runner's service to its end; one outcome per runner, in the order given.

        A full collection stops every runner for a time that grows with the objects it walks: at 300
        runners, 52-113 ms about 28 s into the run. So what is alive when serving starts (imported libraries,
        their classes and functions) is frozen out of the collector, and every ``FREEZE_EVERY_S`` what the
        runners made since: a full collection then walks a few seconds' objects. Reference counting still
        frees frozen objects; only garbage in cycles waits (a 100-runner run leaves about a thousand
        objects in cycles in all, but every reconnect attempt in a broker outage leaves a client), so every
        ``COLLECT_EVERY_S`` everything is unfrozen and collected once (one pause as long as the collector's
        own, where it would otherwise pause every half minute); when serving ends everything is unfrozen, for
        the collector's next pass.
        """
        make_room_for_files(len(self.runners))
        gc.collect()
        gc.freeze()
        freezer = asyncio.create_task(freeze_survivors(FREEZE_EVERY_S, COLLECT_EVERY_S))
        try:
            return list(await asyncio.gather(*(self._serve_one(r) for r in self.runners)))
        finally:
            freezer.cancel()
            gc.unfreeze()

    async def _serve_one(self, runner: Runner) -> Outcome:
        """One runner's whole service; any failure of its own becomes its outcome, never the others'.

        Runs in its own task (``gather``) in the runner's log scope, which its service's tasks and
        threads inherit.
        """
        runner_id = runner.config.runner_id
        outcome = Outcome(runner_id)
        with runner_scope(runner_id):
            try:
                # Opening a recording reads and decodes it: in a thread, so the runners already running go on.
                source = await asyncio.to_thread(runner.source)
                store = None if self.store is None else self.store(source, runner.config)
                service = Service(
                    source, runner.config, console=self._console_for(runner_id), store=store, meter=self.meter
                )
                outcome.service = self.services[runner_id] = service
                if self._stopped.is_set():
                    service.stop()
                async with service:
                    outcome.result = await service.run()
            except Exception as exc:  # noqa: BLE001 - isolation: one runner's failure, whatever it is, is its own
                outcome.error = _reason(exc)
                log.error("stopped: %s", outcome.error)  # noqa: TRY400 - one line, no traceback for people
        return outcome

    def _console_for(self, runner_id: str) -> Callable[[Event], None] | None:
        """The squad's console bound to one runner (None without a console)."""
        console = self.console
        if console is None:
            return None
        return lambda event: console(runner_id, event)


async def freeze_survivors(every_s: float, collect_every_s: float) -> None:
    """Freeze every object the collector tracks every ``every_s`` seconds, until cancelled.

    Every ``collect_every_s`` seconds, unfreeze and collect everything first.
    """
    loop = asyncio.get_running_loop()
    collect_at = loop.time() + collect_every_s
    while True:
        await asyncio.sleep(every_s)
        if loop.time() >= collect_at:
            gc.unfreeze()
            gc.collect()
            collect_at = loop.time() + collect_every_s
        gc.freeze()


def make_room_for_files(runners: int) -> None:
    """Raise the process's soft open-file limit to what ``runners`` need, up to the hard limit.

    A system's usual soft limit, 1024, holds about 170 runners; beyond, runners would stop with "Too many
    open files". When the hard limit is too low too, say so once, with what to do.
    """
    if sys.platform == "win32":
        return  # no such limit
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = FILES_PER_RUNNER * runners + FILES_RESERVED
    if soft == resource.RLIM_INFINITY or soft >= need:
        return
    allowed = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if allowed > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (allowed, hard))
    if allowed < need:
        log.warning(
            "open files are limited to %d (ulimit -Hn) where %d runners may need %d: some may stop with "
            "'Too many open files'; raise the hard limit (limits.conf, or LimitNOFILE= in a systemd unit)",
            allowed,
            runners,
            need,
        )


def with_broker(runners: Sequence[Runner], settings: BrokerSettings) -> list[Runner]:
    """The runners with ``settings`` as their broker where they have none configured."""
    return [
        r
        if r.config.broker is not None
        else dataclasses.replace(r, config=dataclasses.replace(r.config, broker=settings))
        for r in runners
    ]


@contextlib.asynccontextmanager
async def shared_broker(runners: Sequence[Runner]) -> AsyncIterator[list[Runner]]:
    """Yield the runners, giving those without a broker one embedded broker they all share."""
    if all(r.config.broker is not None for r in runners):
        yield list(runners)
        return
    from spinesense.publish import embedded_broker  # noqa: PLC0415 - amqtt, only when needed

    async with embedded_broker() as settings:
        yield with_broker(runners, settings)


def _reason(exc: BaseException) -> str:
    """What stopped a runner, in one line: the first real error inside task groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return str(exc) or type(exc).__name__
