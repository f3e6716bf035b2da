"""Messages waiting for the broker.

Alerts, summaries and session messages stay until acknowledged; strides sit in a bounded ring that
sheds the oldest under pressure (and counts them).

With a directory, the reliable messages are also kept on disk (``outbox_store``: SQLite, one row per
message), so a restart of the service, or of the machine, delivers what a broker outage held back. When
the disk fails (full, a size limit, read-only) the outbox says so once and goes on in memory.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from spinesense.publish.outbox_store import OutboxStore, StoreError

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT message to send."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    sheddable: bool = False
    """True for strides: may be dropped (and counted) when the broker cannot keep up."""
    row: int | None = field(default=None, compare=False)
    """Its row in the durable store (None: held in memory only)."""


class Outbox:
    """Two queues: reliable messages first, in order, then strides."""

    def __init__(
        self, max_reliable: int = 10_000, max_strides: int = 2_000, directory: Path | None = None
    ) -> None:
        """Bound both queues; load reliable messages a previous run left in ``directory``."""
        self.max_reliable = max_reliable
        self._reliable: deque[Message] = deque()
        self._strides: deque[Message] = deque(maxlen=max_strides)
        self.strides_shed = 0
        self._store: OutboxStore | None = None
        if directory is not None:
            try:
                self._store = OutboxStore(directory)
                self._reliable.extend(Message(t, p, q, r, row=i) for i, t, p, q, r in self._store.rows())
            except StoreError as exc:
                self._lose_store(exc, directory)
        if self._reliable:
            log.info("outbox: %d messages from a previous run still to deliver", len(self._reliable))

    def __len__(self) -> int:
        """Messages waiting."""
        return len(self._reliable) + len(self._strides)

    @property
    def strides_waiting(self) -> int:
        """Strides in the ring, not yet sent."""
        return len(self._strides)

    @property
    def path(self) -> Path | None:
        """The database that keeps the reliable messages across restarts (None: memory only)."""
        return None if self._store is None else self._store.path

    @property
    def durable(self) -> bool:
        """Whether undelivered reliable messages survive this process (False: memory only)."""
        return self._store is not None

    def put(self, message: Message) -> None:
        """Queue a message; a full stride ring sheds its oldest, a full reliable queue a superseded one."""
        if message.sheddable:
            if len(self._strides) == self._strides.maxlen:
                self.strides_shed += 1
            self._strides.append(message)
            return
        self.put_reliable([message])

    def put_reliable(self, messages: list[Message]) -> None:
        """Queue reliable messages in order, kept on disk in one transaction (one fsync for them all)."""
        for _ in range(len(self._reliable) + len(messages) - self.max_reliable):
            self._drop_one_reliable()
        if self._store is not None:
            try:
                rows = self._store.add_all([(m.topic, m.payload, m.qos, m.retain) for m in messages])
                messages = [replace(m, row=row) for m, row in zip(messages, rows, strict=True)]
            except StoreError as exc:
                self._lose_store(exc)
        self._reliable.extend(messages)

    def peek(self) -> Message | None:
        """The next message to send, without removing it."""
        if self._reliable:
            return self._reliable[0]
        return self._strides[0] if self._strides else None

    def ack(self, message: Message) -> None:
        """The broker has the message: remove it (it must be the one ``peek`` gave)."""
        if self._reliable and self._reliable[0] is message:
            self._forget(self._reliable.popleft())
        elif self._strides and self._strides[0] is message:
            self._strides.popleft()

    def close(self) -> None:
        """Close the store; what it holds waits for the next run."""
        if self._store is not None:
            self._store.close()

    def _drop_one_reliable(self) -> None:
        """Make room: a retained message superseded on its topic goes first, else the oldest (logged)."""
        latest: dict[str, int] = {m.topic: i for i, m in enumerate(self._reliable) if m.retain}
        for i, m in enumerate(self._reliable):
            if m.retain and latest[m.topic] != i:
                del self._reliable[i]
                self._forget(m)
                return
        dropped = self._reliable.popleft()
        self._forget(dropped)
        log.error("outbox full (%d): dropped a message for %s", self.max_reliable, dropped.topic)

    def _forget(self, message: Message) -> None:
        """Delete a message's row from the store."""
        if self._store is not None and message.row is not None:
            try:
                self._store.delete(message.row)
            except StoreError as exc:
                self._lose_store(exc)

    def _lose_store(self, exc: BaseException, directory: Path | None = None) -> None:
        """The disk failed: say so once, loudly, and keep the outbox in memory from now on."""
        where = self._store.path if self._store is not None else directory
        if self._store is not None:
            self._store.close()
        self._store = None
        log.error(
            "outbox: cannot write %s (%s): undelivered alerts and summaries are kept in memory only from now "
            "on, and are lost if this process stops before the broker takes them",
            where,
            exc,
        )
