"""The outbox across a service restart and a broker that refuses the runner's credentials."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

from fixtures_mqtt import PASSWORDS, lean_alert
from spinesense.publish import BrokerSettings, Publisher
from spinesense.testing import Listener, Mosquitto

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


async def test_alerts_queued_while_the_broker_is_down_survive_a_service_restart(
    mosquitto: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = tmp_path / "outbox"
    await asyncio.to_thread(mosquitto.stop)
    # The service gives up waiting for the broker and exits; its alerts stay in the outbox on disk.
    async with Publisher(mosquitto.settings, "alex", outbox_dir=outbox, flush_timeout_s=1) as pub:
        for n in range(5):
            pub.publish_alert(lean_alert(n))
    assert "5 messages not delivered (kept in" in caplog.text
    await asyncio.to_thread(mosquitto.start)
    async with Listener(mosquitto.settings, "spinesense/v1/alex/alert") as dashboard:
        # The next run, with the same outbox, delivers them first and in order, then its own.
        async with Publisher(mosquitto.settings, "alex", outbox_dir=outbox, flush_timeout_s=30) as pub:
            pub.publish_alert(lean_alert(5))
        await dashboard.wait_for(lambda got: len(got) >= 6)
    values = [json.loads(m.payload)["values"]["value"] for m in dashboard.messages]
    assert values == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


async def test_refused_credentials_are_reported_without_the_password(
    mosquitto_acl: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    base = mosquitto_acl.settings
    wrong = BrokerSettings(base.host, base.port, "alice", "not-" + PASSWORDS["alice"])
    caplog.set_level(logging.WARNING)
    async with Publisher(wrong, "alice", flush_timeout_s=1) as pub:
        pub.publish_alert(lean_alert(1))
    assert not pub.connected
    assert pub.outbox_depth == 1, "an undelivered alert must be reported, not dropped"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("alice@" in w or "alice:***@" in w for w in warnings), warnings
    assert any("not authori" in w.lower() for w in warnings), warnings
    assert all(PASSWORDS["alice"] not in w for w in warnings)
