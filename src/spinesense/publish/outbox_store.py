"""The durable half of the outbox: reliable messages in SQLite, one row each, deleted on acknowledgement.

WAL journal. A put commits its row at once, so a crash of the process keeps it; a thread shared by every
outbox then fsyncs the WAL, so a power cut keeps it too: a message reaches the disk within one fsync of
being accepted (about a millisecond here), and the event loop never waits for the disk. With 300 runners
in one process, the loop waited 0.7 ms a put (up to 13 ms), about 5 % of its time, when SQLite fsynced
each commit itself (``synchronous=FULL``). An acknowledgement's delete reaches the disk with the next
put's fsync (or the checkpoint when the outbox closes): only a power cut in between can bring an
acknowledged message back, and it is then sent twice: at least once, as QoS 1 promises, never lost. A
file system that refuses WAL gets a rollback journal that fsyncs every commit itself. An ``outbox.jsonl``
left by an older spinesense is moved into the database once, then removed.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import os
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
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
_SYNCER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-fsync")
"""Fsyncs every outbox's WAL after its puts, off the event loop (its thread starts with the first put)."""


class OutboxStore:
    """Reliable messages on disk, in the order they were put; every call commits (see the module docstring).

    Opened in one thread, it may be used and closed in another, one at a time.
    """

    def __init__(self, directory: Path) -> None:
        """Open (or create) ``directory/outbox.sqlite3``; raises one of ``StoreError`` when it cannot."""
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / DB_NAME
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=5.0, check_same_thread=False)
        self._sync: Future[None] | None = None
        self._sync_queued = False
        self._wal_fd: int | None = None
        """The WAL file, held open so the syncer's job is one fsync (each system call hands over the GIL)."""
        try:
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()
            self._wal = mode is not None and str(mode[0]).lower() == "wal"
            # In WAL, commits are written, not fsynced: the syncer thread fsyncs them (module docstring).
            self._db.execute(f"PRAGMA synchronous={'NORMAL' if self._wal else 'FULL'}")
            self._db.execute(SCHEMA)  # in WAL, this creates the WAL file
            if self._wal:
                self._wal_fd = os.open(f"{self.path}-wal", os.O_RDONLY)
            self._migrate(directory / LEGACY_NAME)
        except BaseException:
            self.close()
            raise

    def rows(self) -> list[Row]:
        """Every stored message, oldest first."""
        cursor = self._db.execute("SELECT id, topic, payload, qos, retain FROM message ORDER BY id")
        return [(i, t, bytes(p), int(q), bool(r)) for i, t, p, q, r in cursor]

    def add(self, topic: str, payload: bytes, qos: int, retain: bool) -> int:
        """Store one message (committed now, fsynced by the syncer thread within one fsync); its row id."""
        cursor = self._db.execute(
            "INSERT INTO message (topic, payload, qos, retain) VALUES (?, ?, ?, ?)",
            (topic, payload, qos, int(retain)),
        )
        assert cursor.lastrowid is not None  # noqa: S101 - an INSERT always sets it
        if self._wal_fd is not None and not self._sync_queued:  # a queued fsync not yet begun covers it too
            self._sync_queued = True
            self._sync = _SYNCER.submit(self._fsync_wal)
        return cursor.lastrowid

    def delete(self, row: int) -> None:
        """Forget a message the broker has acknowledged (or that was dropped to make room); no fsync."""
        self._db.execute("DELETE FROM message WHERE id = ?", (row,))

    def wait_synced(self) -> None:
        """Block until every row put so far is fsynced (the syncer thread's last job has run)."""
        if self._sync is not None:
            self._sync.result()

    def _fsync_wal(self) -> None:
        """In the syncer thread: fsync the WAL, so every commit written before now survives a power cut."""
        self._sync_queued = False  # from here on, a put needs a new fsync
        try:
            if self._wal_fd is not None:
                os.fsync(self._wal_fd)
        except OSError as exc:
            log.error(  # noqa: TRY400 - the reason is in the line
                "outbox: cannot fsync %s-wal (%s): the last messages may not survive a power cut",
                self.path,
                exc,
            )

    def close(self) -> None:
        """Wait for the last fsync, then close the database (a clean close folds the WAL into the file)."""
        with contextlib.suppress(*StoreError):
            self.wait_synced()
            self._db.close()
        if self._wal_fd is not None:
            os.close(self._wal_fd)
            self._wal_fd = None

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
        self._fsync_wal()  # on disk before the file they came from is gone
        legacy.unlink()
        log.info("outbox: moved %d messages from %s into %s", len(rows), legacy, self.path)
