"""A broker that refuses us (a denied publish, wrong credentials, an untrusted certificate) or never
answers: an error the runner sees, exit code 3, and every message kept in the outbox (issue 17: 1, 4)."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from rich.console import Console

from conftest import REPLAY_DATA
from fixtures_mqtt import PASSWORDS, TlsFiles, lean_alert
from spinesense.cli.liveview import broker_state
from spinesense.publish import BrokerSettings, Publisher
from spinesense.publish.broker import free_port
from spinesense.testing import Listener, Mosquitto

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow  # end to end (whole runs, real brokers): `scripts/test --quick` skips it

SHIMMER_RUN = REPLAY_DATA / "alcantara" / "shimmer_sacral_run.jsonl.gz"


def _outbox_rows(data_dir: Path, runner: str) -> list[str]:
    """Topics of the messages waiting in a runner's outbox on disk ([] when there is none)."""
    path = data_dir / "outbox" / runner / "outbox.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        return [topic for (topic,) in db.execute("SELECT topic FROM message ORDER BY id")]


def _replay(
    data_dir: Path, broker: str, runner: str, password: str, *more: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPINESENSE_BROKER_PASSWORD": password}
    args = ["replay", str(SHIMMER_RUN), "--fast", "--broker", broker, "--runner", runner, *more]
    args += ["--data-dir", str(data_dir), "--no-record"]
    return subprocess.run(
        [sys.executable, "-m", "spinesense", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_a_denied_publish_is_an_error_and_every_message_stays_in_the_outbox(
    mosquitto_acl: Mosquitto, tmp_path: Path
) -> None:
    broker = f"mqtt://alice@127.0.0.1:{mosquitto_acl.port}"
    before = _outbox_rows(tmp_path, "bob")
    # alice's credentials may not write bob's subtree: Mosquitto answers every publish with reason 135.
    denied = _replay(tmp_path, broker, "bob", PASSWORDS["alice"])
    after = _outbox_rows(tmp_path, "bob")
    print(f"outbox before {len(before)}, after {len(after)}")  # noqa: T201 - the figure the issue asks for
    assert denied.returncode == 3, denied.stderr
    assert "refused a publish to spinesense/v1/bob/status (reason 135: Not authorized)" in denied.stderr
    assert "outbox left 0" not in denied.stderr
    assert before == []
    assert after.count("spinesense/v1/bob/session") == 2  # started, ended
    assert "spinesense/v1/bob/summary" in after
    # With bob's own credentials the next run delivers them, the first run's session first.
    sessions: list[str] = []

    async def next_run() -> None:
        listener_settings = BrokerSettings(
            "127.0.0.1", mosquitto_acl.port, "dashboard", PASSWORDS["dashboard"]
        )
        async with Listener(listener_settings, "spinesense/v1/bob/session") as listener:
            bob = f"mqtt://bob@127.0.0.1:{mosquitto_acl.port}"
            delivered = await asyncio.to_thread(_replay, tmp_path, bob, "bob", PASSWORDS["bob"])
            assert delivered.returncode == 0, delivered.stderr
            await listener.wait_for(lambda got: len(got) >= 4)
            sessions.extend(json.loads(m.payload)["state"] for m in listener.messages)

    asyncio.run(next_run())
    assert sessions == ["started", "ended", "started", "ended"]
    assert _outbox_rows(tmp_path, "bob") == []


def test_a_dead_broker_exits_3_and_keeps_the_messages(tmp_path: Path, short_flush: Path) -> None:
    dead = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens there
    proc = _replay(tmp_path, dead, "dee", "", "--config", str(short_flush))
    assert proc.returncode == 3, proc.stderr
    assert "unreachable" in proc.stderr.splitlines()[-1]
    assert "spinesense/v1/dee/summary" in _outbox_rows(tmp_path, "dee")


async def _refused(settings: BrokerSettings, tmp_path: Path) -> Publisher:
    """Publish one alert through a publisher the broker refuses; it gives up at once, not at the timeout."""
    async with (
        asyncio.timeout(30),  # far below flush_timeout_s: no waiting for a broker that said no
        Publisher(settings, "alice", outbox_dir=tmp_path / "outbox", flush_timeout_s=60) as pub,
    ):
        pub.publish_alert(lean_alert(1))
    assert pub.outbox_depth == 1
    return pub


async def test_wrong_credentials_are_a_refusal_not_an_outage(
    mosquitto_acl: Mosquitto, tmp_path: Path
) -> None:
    wrong = BrokerSettings("127.0.0.1", mosquitto_acl.port, "alice", "not-" + PASSWORDS["alice"])
    pub = await _refused(wrong, tmp_path)
    assert pub.failure is not None
    assert "refused the connection" in pub.failure


async def test_an_untrusted_certificate_is_a_refusal(
    mosquitto_tls: tuple[Mosquitto, TlsFiles], tmp_path: Path
) -> None:
    broker, _tls = mosquitto_tls
    untrusted = BrokerSettings("127.0.0.1", broker.port, tls=True)  # the system CAs do not know the test CA
    pub = await _refused(untrusted, tmp_path)
    assert pub.failure is not None
    assert "certificate is not trusted" in pub.failure


async def test_a_host_name_mismatch_is_a_refusal(
    mosquitto_tls: tuple[Mosquitto, TlsFiles], tmp_path: Path
) -> None:
    broker, tls = mosquitto_tls
    # The certificate names 127.0.0.1; "localhost" reaches the same broker under another name.
    mismatch = BrokerSettings("localhost", broker.port, tls=True).with_tls_files(ca_file=tls.ca)
    pub = await _refused(mismatch, tmp_path)
    assert pub.failure is not None
    assert "mismatch" in pub.failure.lower()


async def test_the_live_panel_shows_the_refusal(mosquitto_acl: Mosquitto, tmp_path: Path) -> None:
    wrong = BrokerSettings("127.0.0.1", mosquitto_acl.port, "alice", "not-" + PASSWORDS["alice"])
    pub = await _refused(wrong, tmp_path)
    console = Console(record=True, width=200)
    console.print(broker_state(pub))
    assert "refused the connection" in console.export_text()
