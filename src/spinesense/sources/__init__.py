"""Sources of raw frames: BLE sensors (ble), capture and CSV replay (replay).

Every source offers the same two things to the service: ``start()``, which gets it ready (finds the
sensor, opens the file) and returns the capture header of its stream (the protocol picks the decoder),
and asynchronous iteration over its records (frames and link events). A source may also offer
``batches()``: its records in lists of those that came together (a recording's backlog when the host fell
behind), which the service takes in one go; a live sensor's backlog gathers in the service's own queue.
A source that can wait (a recording) has ``live = False``: the service then holds it back while the
publisher catches up, where a live sensor (no ``live`` attribute, or True) never waits and strides are shed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from spinesense.models import Record

MOST_TOGETHER = 32
"""Records taken in one go at most (3 s of reference frames at 200 Hz): a backlog's pipeline step."""


class Source(Protocol):
    """What the service reads: a live sensor link or a recording."""

    async def start(self) -> dict[str, Any]:
        """Get ready; return the capture header of the stream (``protocol``, ``sensor``, ``rate_hz`` ...)."""
        ...

    def __aiter__(self) -> AsyncIterator[Record]:
        """The stream's records in the order they came."""
        ...


__all__ = ["Source"]
