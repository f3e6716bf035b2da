"""Messages waiting for the broker.

Alerts, summaries and session messages stay until acknowledged; strides sit in a bounded ring that
sheds the oldest under pressure (and counts them).

With a directory, the reliable messages are also kept in ``outbox.jsonl`` there, so a restart of the
service delivers what a broker outage held back.
"""

from __future__ import annotations

import base64
import json
import logging
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

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
        self.path: Path | None = None
        """The file that keeps the reliable messages across restarts (None: memory only)."""
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            self.path = directory / "outbox.jsonl"
            self._load()

    def __len__(self) -> int:
        """Messages waiting."""
        return len(self._reliable) + len(self._strides)

    def put(self, message: Message) -> None:
        """Queue a message; a full stride ring sheds its oldest, a full reliable queue a superseded one."""
        if message.sheddable:
            if len(self._strides) == self._strides.maxlen:
                self.strides_shed += 1
            self._strides.append(message)
            return
        if len(self._reliable) >= self.max_reliable:
            self._drop_one_reliable()
        self._reliable.append(message)
        self._save()

    def peek(self) -> Message | None:
        """The next message to send, without removing it."""
        if self._reliable:
            return self._reliable[0]
        return self._strides[0] if self._strides else None

    def ack(self, message: Message) -> None:
        """The broker has the message: remove it (it must be the one ``peek`` gave)."""
        if self._reliable and self._reliable[0] is message:
            self._reliable.popleft()
            self._save()
        elif self._strides and self._strides[0] is message:
            self._strides.popleft()

    def _drop_one_reliable(self) -> None:
        """Make room: a retained message superseded on its topic goes first, else the oldest (logged)."""
        latest: dict[str, int] = {m.topic: i for i, m in enumerate(self._reliable) if m.retain}
        for i, m in enumerate(self._reliable):
            if m.retain and latest[m.topic] != i:
                del self._reliable[i]
                return
        dropped = self._reliable.popleft()
        log.error("outbox full (%d): dropped a message for %s", self.max_reliable, dropped.topic)

    def _save(self) -> None:
        """Rewrite the file with the reliable queue (small: alerts and summaries, not strides)."""
        if self.path is None:
            return
        lines = [
            json.dumps(
                {
                    "topic": m.topic,
                    "payload": base64.b64encode(m.payload).decode(),
                    "qos": m.qos,
                    "retain": m.retain,
                }
            )
            for m in self._reliable
        ]
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        tmp.replace(self.path)

    def _load(self) -> None:
        """Read what a previous run could not deliver; a damaged line is reported and skipped."""
        assert self.path is not None  # noqa: S101 - only called with a directory
        if not self.path.exists():
            return
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                raw = json.loads(line)
                self._reliable.append(
                    Message(
                        raw["topic"], base64.b64decode(raw["payload"]), int(raw["qos"]), bool(raw["retain"])
                    )
                )
            except (ValueError, KeyError, TypeError):
                log.warning("%s: line %d is damaged; skipped", self.path, number)
        if self._reliable:
            log.info("outbox: %d messages from a previous run still to deliver", len(self._reliable))
