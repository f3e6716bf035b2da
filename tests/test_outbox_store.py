"""The durable outbox on SQLite: one row per reliable message, deleted on acknowledgement, an older
outbox.jsonl moved in once (issue 17: 1, 8)."""

from __future__ import annotations

import base64
import json
import signal
import sqlite3
import subprocess
import sys
from typing import TYPE_CHECKING

from spinesense.publish import BrokerSettings, Publisher
from spinesense.publish.broker import free_port
from spinesense.publish.outbox import Message, Outbox
from spinesense.publish.outbox_store import DB_NAME, LEGACY_NAME, OutboxStore

if TYPE_CHECKING:
    from pathlib import Path


def _rows(folder: Path) -> list[tuple[str, bytes]]:
    with sqlite3.connect(folder / DB_NAME) as db:
        return [(t, bytes(p)) for t, p in db.execute("SELECT topic, payload FROM message ORDER BY id")]


def test_one_row_per_reliable_message_deleted_on_ack(tmp_path: Path) -> None:
    outbox = Outbox(directory=tmp_path)
    outbox.put(Message("a", b"1"))
    outbox.put(Message("s", b"stride", 0, sheddable=True))  # strides never touch the disk
    outbox.put(Message("b", b"2"))
    assert _rows(tmp_path) == [("a", b"1"), ("b", b"2")]
    first = outbox.peek()
    assert first is not None
    outbox.ack(first)
    assert _rows(tmp_path) == [("b", b"2")]
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    outbox.close()


def test_an_older_jsonl_outbox_is_moved_in_once(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {"topic": f"t{n}", "payload": base64.b64encode(b"p%d" % n).decode(), "qos": 1, "retain": n == 1}
        )
        for n in range(3)
    ]
    (tmp_path / LEGACY_NAME).write_text("\n".join([lines[0], "{damaged", lines[1], lines[2]]) + "\n")
    outbox = Outbox(directory=tmp_path)
    assert not (tmp_path / LEGACY_NAME).exists()
    got = []
    while (message := outbox.peek()) is not None:
        got.append((message.topic, message.payload, message.retain))
        outbox.ack(message)
    assert got == [("t0", b"p0", False), ("t1", b"p1", True), ("t2", b"p2", False)]
    outbox.close()
    assert Outbox(directory=tmp_path).peek() is None  # moved once, delivered once


FULL = 2
"""``PRAGMA synchronous`` of FULL: every commit fsyncs."""


def test_after_an_ack_the_store_fsyncs_every_commit_again(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path)
    store.delete(store.add("a", b"1", 1, retain=False))  # the delete alone goes without its own fsync
    assert store._db.execute("PRAGMA synchronous").fetchone() == (FULL,)
    store.close()


def test_an_acknowledged_message_stays_deleted_when_the_process_is_killed(tmp_path: Path) -> None:
    script = f"""
import os, signal
from pathlib import Path
from spinesense.publish.outbox_store import OutboxStore
store = OutboxStore(Path({str(tmp_path)!r}))
acked = store.add("a", b"1", 1, False)
store.add("b", b"2", 1, False)
store.delete(acked)
os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint
"""
    # A killed process keeps every WAL frame it wrote, fsynced or not: this shows the delete is committed
    # (and stays), not that it skipped its fsync (benchmarks/README.md times that).
    done = subprocess.run([sys.executable, "-c", script], check=False)
    assert done.returncode == -signal.SIGKILL
    assert _rows(tmp_path) == [("b", b"2")]


async def test_messages_published_together_are_committed_as_one(tmp_path: Path) -> None:
    """A run's last messages reach the disk in one transaction: none of them before the block ends."""
    nobody = BrokerSettings("127.0.0.1", free_port())  # nothing listens: the messages stay queued
    async with Publisher(nobody, "ana", outbox_dir=tmp_path, flush_timeout_s=0) as publisher:
        with publisher.together():
            publisher.publish_summary({"strides": 3})
            publisher.publish_active([])
            publisher.publish_session({"state": "ended"})
            assert _rows(tmp_path) == []
            assert publisher.outbox_depth == 0
        leaves = [topic.removeprefix("spinesense/v1/ana/") for topic, _ in _rows(tmp_path)]
        assert leaves == ["summary", "alerts/active", "session"]
        assert publisher.outbox_depth == 3
