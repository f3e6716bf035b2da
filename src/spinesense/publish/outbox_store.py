"""The durable half of the outbox: reliable messages in SQLite, one row each, deleted on acknowledgement.

WAL journal with ``synchronous=FULL``: each put (or batch of puts) is one small transaction fsynced
before it returns, so a power cut loses no message the outbox accepted (``NORMAL`` would only survive a
crash of the process, not of the machine). An acknowledgement's delete is not fsynced on its own: it
reaches the disk with the next put's fsync (or the checkpoint when the outbox closes), which halves the
fsyncs, all on the event loop (with 300 runners in one process, the runs ending together made ~140 in a
second). A crash of the process keeps the delete; only a power cut in between can bring an acknowledged
message back, and it is then sent twice: at least once, as QoS 1 promises, never lost. An
``outbox.jsonl`` left by an older spinesense is moved into the database once, then removed.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)

DB_NAME = "outbox.sqlite3"
LEGACY_NAME = "outbox.jsonl"
SCHEMA = """
CREATE TABLE IF NOT EXISTS message (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids never reused, so id order is send order
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL
)
"""

Row = tuple[int, str, bytes, int, bool]
"""(id, topic, payload, qos, retain)."""
StoreError = (sqlite3.Error, OSError)
"""What a full disk, a size limit, a read-only directory or a damaged database raise."""


class OutboxStore:
    """Reliable messages on disk, in the order they were put; every call commits (a put or a batch fsyncs)."""

    def __init__(self, directory: Path) -> None:
        """Open (or create) ``directory/outbox.sqlite3``; raises one of ``StoreError`` when it cannot."""
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / DB_NAME
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=5.0)
        try:
            # Deletes go without their own fsync only in WAL (see the module docstring).
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()
            self._wal = mode is not None and str(mode[0]).lower() == "wal"
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(SCHEMA)
            self._migrate(directory / LEGACY_NAME)
        except BaseException:
            self._db.close()
            raise

    def rows(self) -> list[Row]:
        """Every stored message, oldest first."""
        cursor = self._db.execute("SELECT id, topic, payload, qos, retain FROM message ORDER BY id")
        return [(i, t, bytes(p), int(q), bool(r)) for i, t, p, q, r in cursor]

    def add(self, topic: str, payload: bytes, qos: int, retain: bool) -> int:
        """Store one message; its row id."""
        return self.add_all([(topic, payload, qos, retain)])[0]

    def add_all(self, messages: list[tuple[str, bytes, int, bool]]) -> list[int]:
        """Store (topic, payload, qos, retain) messages in one transaction (one fsync); their row ids."""
        ids = []
        with self._db:  # commits, or rolls back what an error left half done
            self._db.execute("BEGIN")
            for topic, payload, qos, retain in messages:
                cursor = self._db.execute(
                    "INSERT INTO message (topic, payload, qos, retain) VALUES (?, ?, ?, ?)",
                    (topic, payload, qos, int(retain)),
                )
                assert cursor.lastrowid is not None  # noqa: S101 - an INSERT always sets it
                ids.append(cursor.lastrowid)
        return ids

    def delete(self, row: int) -> None:
        """Forget a message the broker has acknowledged (or that was dropped to make room); no fsync."""
        # Without WAL (a file system that refuses it) the rollback journal fsyncs every commit, as before.
        if self._wal:
            self._db.execute("PRAGMA synchronous=NORMAL")  # see the module docstring
        try:
            self._db.execute("DELETE FROM message WHERE id = ?", (row,))
        finally:
            if self._wal:
                self._db.execute("PRAGMA synchronous=FULL")

    def close(self) -> None:
        """Close the database (a clean close also folds the WAL back into the file)."""
        with contextlib.suppress(*StoreError):
            self._db.close()

    def _migrate(self, legacy: Path) -> None:
        """Move an older ``outbox.jsonl``'s messages into the database in one transaction; remove it."""
        if not legacy.is_file():
            return
        rows = []
        for number, line in enumerate(legacy.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            try:
                raw = json.loads(line)
                rows.append(
                    (str(raw["topic"]), base64.b64decode(raw["payload"]), int(raw["qos"]), int(raw["retain"]))
                )
            except (ValueError, KeyError, TypeError, binascii.Error):
                log.warning("%s: line %d is damaged; skipped", legacy, number)
        with self._db:  # one transaction: all of them or none
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO message (topic, payload, qos, retain) VALUES (?, ?, ?, ?)", rows
            )
        legacy.unlink()
        log.info("outbox: moved %d messages from %s into %s", len(rows), legacy, self.path)
