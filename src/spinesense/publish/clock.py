"""One clock for every ``time_ms`` of a session: the sensor clock, mapped to UTC once.

The mapping is fixed by the first block: the host received the frame carrying its last sample at
``host_t_ns``, so that sample's sensor time is put at that host time (not at the moment the block
happens to be processed, which runs late by a frame or more). A replayed capture carries its own host
receive times, so a replay is stamped with the recording's own time at any speed, and the session's
start, summaries and end sit on the same time line as its strides and alerts. Captures converted from
other people's files count their receive times from 0; those are put after the header's ``start_utc``
(UTC when it has no zone, as the run store reads it: one reading, spinesense.utc).
"""

from __future__ import annotations

import time
from typing import Any

from spinesense.utc import header_start

EPOCH_FROM_NS = 10**18
"""Host times before 2001-09-09 are not epoch times but times from the recording's start."""


class SessionClock:
    """Sensor seconds -> epoch milliseconds (UTC), fixed at the first block; the wall clock before it."""

    def __init__(self, offset_ms: float | None = None, *, start_ms: float | None = None) -> None:
        """Fixed at ``offset_ms`` (epoch ms at sensor time 0), or at the first block when None.

        ``start_ms``: epoch milliseconds of host time 0 for a recording whose receive times count from its
        start (None: the wall clock when the first block comes).
        """
        self.offset_ms = offset_ms
        """Epoch milliseconds at sensor time 0."""
        self.start_ms = start_ms
        self._latest_s = 0.0

    @classmethod
    def for_header(cls, header: dict[str, Any]) -> SessionClock:
        """A clock for a stream with this capture header (its ``start_utc`` dates relative receive times)."""
        start = header_start(header)
        return cls() if start is None else cls(start_ms=start.timestamp() * 1000)

    @property
    def started(self) -> bool:
        """Whether the mapping is fixed."""
        return self.offset_ms is not None

    def start(self, t_s: float, host_t_ns: int | None) -> None:
        """Fix the mapping: the host received the sample of sensor time ``t_s`` at ``host_t_ns``.

        Only the first call counts. ``host_t_ns`` None: the wall clock now.
        """
        if self.offset_ms is not None:
            return
        if host_t_ns is None:
            host_ms = time.time() * 1000
        elif host_t_ns >= EPOCH_FROM_NS:
            host_ms = host_t_ns / 1e6
        else:
            host_ms = (time.time() * 1000 if self.start_ms is None else self.start_ms) + host_t_ns / 1e6
        self.offset_ms = host_ms - t_s * 1000
        self._latest_s = t_s

    def advance(self, t_s: float) -> None:
        """The stream has reached sensor time ``t_s``: what ``now_ms`` says from now on."""
        self._latest_s = max(self._latest_s, t_s)

    def ms(self, t_s: float) -> int:
        """Sensor time ``t_s`` in epoch milliseconds (the wall clock's offset when not started)."""
        offset = self.offset_ms if self.offset_ms is not None else time.time() * 1000 - t_s * 1000
        return round(offset + t_s * 1000)

    def now_ms(self) -> int:
        """The session's present: the latest sensor time mapped to UTC; the wall clock before the start."""
        if self.offset_ms is None:
            return round(time.time() * 1000)
        return self.ms(self._latest_s)
