"""Spoken cues without a browser: each raised alert through the system's speech engine.

espeak-ng on Linux, ``say`` on macOS. Speaking never blocks the pipeline: ``say`` only queues the text,
one task speaks the queue through a subprocess, and when the queue is full (the engine cannot keep up)
the cue is dropped and counted. Rules already keep an alert from repeating within their cooldown, so
speaking each raised alert once speaks it with the same cooldown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import subprocess
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

log = logging.getLogger(__name__)

ENGINES = ("espeak-ng", "say")
"""Speech engines tried in order: espeak-ng (Linux), say (macOS)."""
QUEUE_SIZE = 4
"""Cues waiting to be spoken; more than this and the engine is not keeping up: newer cues are dropped."""


class SpeechUnavailableError(Exception):
    """No speech engine on this system; the message says which were looked for."""


def find_engine() -> str:
    """The path of the first speech engine found; SpeechUnavailableError when there is none."""
    for name in ENGINES:
        path = shutil.which(name)
        if path is not None:
            return path
    raise SpeechUnavailableError(
        "--speak needs a speech engine: install espeak-ng (Linux: apt-get install espeak-ng) "
        "or use macOS's say; none found on PATH"
    )


def speech_command(engine: str, text: str, wav: Path | None = None) -> list[str]:
    """The command that speaks ``text`` (or renders it to the sound file ``wav`` instead)."""
    if wav is None:
        return [engine, text]
    if engine.endswith("say"):
        return [engine, "-o", str(wav), "--data-format=LEI16@22050", text]
    return [engine, "-w", str(wav), text]


class Speaker:
    """Speaks queued cues one after another in the background; use as ``async with Speaker(engine)``."""

    def __init__(self, engine: str, *, render_dir: Path | None = None) -> None:
        """Speak through ``engine``; with ``render_dir``, write each cue to a WAV file there instead."""
        self.engine = engine
        self.render_dir = render_dir
        self.spoken = 0
        self.dropped = 0
        """Cues dropped because the engine could not keep up."""
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_SIZE)
        self._task: asyncio.Task[None] | None = None

    def say(self, text: str) -> None:
        """Queue a cue; never waits (a full queue drops it and counts it)."""
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("speech cannot keep up: cue dropped (%d so far): %s", self.dropped, text)

    async def __aenter__(self) -> Self:
        """Start speaking the queue."""
        self._task = asyncio.create_task(self._speak(), name="speech")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Speak what is queued, then stop (cancelled at once when the session is being cancelled)."""
        assert self._task is not None  # noqa: S101 - set in __aenter__
        if exc_type is None:
            await self._queue.put(None)
        else:
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def beside(self, _service: object) -> None:
        """Speak while a service runs (a service companion): until cancelled when the run ends."""
        async with self:
            await asyncio.Event().wait()

    async def _speak(self) -> None:
        """One cue at a time through the engine, as a subprocess the event loop waits on."""
        while (text := await self._queue.get()) is not None:
            wav = None if self.render_dir is None else self.render_dir / f"cue-{self.spoken + 1:03d}.wav"
            process = await asyncio.create_subprocess_exec(
                *speech_command(self.engine, text, wav),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            _, err = await process.communicate()
            if process.returncode != 0:
                log.warning(
                    "speech engine failed (%s): %s", process.returncode, err.decode(errors="replace").strip()
                )
            self.spoken += 1
