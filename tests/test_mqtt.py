"""The MQTT publisher against real brokers: topic tree, retained state and will, outage, ACL, TLS."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from typing import TYPE_CHECKING

import aiomqtt
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from fixtures_mqtt import PASSWORDS, TlsFiles, collect, lean_alert
from spinesense.errors import ConfigError
from spinesense.models import Stride
from spinesense.publish import BrokerSettings, Publisher, SessionClock
from spinesense.publish._client import AckingClient
from spinesense.publish.outbox import Message, Outbox
from spinesense.publish.publisher import STRIDE_EXPIRY_S
from spinesense.testing import Listener, Mosquitto

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

STRIDE = Stride(
    index=3, t_start_s=12.5, t_end_s=13.2, side="left", running=True, cadence_spm=171.0, gct_ms=231.0
)


async def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait until ``condition()`` holds: a flag or list another task sets (TimeoutError after ``seconds``)."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - polling state another task sets
            await asyncio.sleep(0.02)


async def _wait_connected(publisher: Publisher) -> None:
    await _wait_for(lambda: publisher.connected)


STATUS = "spinesense/v1/alex/status"
RETAINED_TOPICS = {
    STATUS,
    "spinesense/v1/alex/alerts/active",
    "spinesense/v1/alex/summary",
    "spinesense/v1/alex/session",
    "homeassistant/device/spinesense_alex/config",
}


def _retained(messages: list[aiomqtt.Message]) -> dict[str, bytes]:
    """The last payload of each topic."""
    return {str(m.topic): m.payload for m in messages}


async def test_whole_tree_live_and_retained(any_broker: BrokerSettings) -> None:
    async with Listener(any_broker, "spinesense/v1/alex/#") as live:  # subscribed (SUBACK) on entry
        async with Publisher(any_broker, "alex", clock=SessionClock(1_700_000_000_000)) as pub:
            await _wait_connected(pub)
            pub.publish_session({"state": "started"})
            pub.publish_stride(STRIDE)
            pub.publish_alert(lean_alert(1))
            pub.publish_active([lean_alert(1)])
            pub.publish_summary({"strides": 1, "cadence_spm_median": 171.0})
        await live.wait_for(lambda got: len(got) >= 7)
    messages = {str(m.topic): m for m in live.messages}
    stride = json.loads(messages["spinesense/v1/alex/stride"].payload)
    assert stride["gct_ms"] == 231.0
    assert stride["time_ms"] == 1_700_000_012_500
    assert json.loads(messages["spinesense/v1/alex/alert"].payload)["message"] == "lean 1"
    # A dashboard connecting later gets the retained state: offline status, active alerts, summary, session
    # and discovery. (amqtt may repeat a retained topic: wait for the last status, take the last of each.)
    async with Listener(any_broker, "#") as later:
        await later.wait_for(
            lambda got: _retained(got).keys() >= RETAINED_TOPICS and _retained(got)[STATUS] == b"offline"
        )
    retained = _retained(later.messages)
    assert retained["spinesense/v1/alex/status"] == b"offline"
    assert json.loads(retained["spinesense/v1/alex/alerts/active"])["alerts"][0]["kind"] == "forward_lean"
    assert json.loads(retained["spinesense/v1/alex/summary"])["cadence_spm_median"] == 171.0
    discovery = json.loads(retained["homeassistant/device/spinesense_alex/config"])
    assert discovery["cmps"]["cadence_spm"]["state_topic"] == "spinesense/v1/alex/summary"
    assert "alert_forward_lean" in discovery["cmps"]


PUBLISHER_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from spinesense.publish import BrokerSettings, Publisher, SessionClock
    async def main():
        async with Publisher(BrokerSettings("127.0.0.1", int(sys.argv[1])), "crashy") as pub:
            while not pub.connected:
                await asyncio.sleep(0.05)
            print("up", flush=True)
            await asyncio.sleep(60)
    asyncio.run(main())
    """
)


def test_a_killed_service_shows_offline_through_its_will(mosquitto: Mosquitto) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", PUBLISHER_SCRIPT, str(mosquitto.port)], stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"up"
        online = asyncio.run(collect(mosquitto.settings, "spinesense/v1/crashy/status", until=1))
        assert online[0].payload == b"online"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        after = asyncio.run(collect(mosquitto.settings, "spinesense/v1/crashy/status", until=1))
        assert after[0].payload == b"offline"
    finally:
        proc.kill()


async def test_a_broker_outage_loses_no_alert(mosquitto: Mosquitto) -> None:
    settings = mosquitto.settings
    # A dashboard with a persistent session: the broker keeps its QoS 1 messages while it is away.
    received: list[int] = []
    subscribed, settled = asyncio.Event(), asyncio.Event()

    async def dashboard() -> None:
        while len(received) < 30:
            try:
                async with aiomqtt.Client(
                    settings.host, settings.port, identifier="dashboard", clean_session=False
                ) as client:
                    await client.subscribe("spinesense/v1/alex/alert", qos=1)
                    subscribed.set()
                    async for message in client.messages:
                        received.append(int(json.loads(message.payload)["values"]["value"]))
                        if len(received) == 10:
                            # The broker takes a client's packets in order: once it acknowledges
                            # this publish, it has our acknowledgements of the ten (no redelivery).
                            await client.publish("dashboard/settled", qos=1)
                            settled.set()
                        if len(received) >= 30:
                            return
            except aiomqtt.MqttError:
                await asyncio.sleep(0.2)

    watcher = asyncio.create_task(dashboard())
    async with asyncio.timeout(10):
        await subscribed.wait()
    async with Publisher(settings, "alex", reconnect_max_s=0.5, flush_timeout_s=30) as pub:
        await _wait_connected(pub)
        for n in range(10):
            pub.publish_alert(lean_alert(n))
        await _wait_for(lambda: settled.is_set() and pub.outbox_depth == 0)  # all ten settled both ways
        await asyncio.to_thread(mosquitto.stop)
        for n in range(10, 20):  # during the outage: they wait in the outbox
            pub.publish_alert(lean_alert(n))
            pub.publish_stride(STRIDE)
        await _wait_for(lambda: not pub.connected)  # the publisher found the broker gone
        assert pub.outbox_depth >= 10
        await asyncio.to_thread(mosquitto.start)
        for n in range(20, 30):
            pub.publish_alert(lean_alert(n))
    async with asyncio.timeout(30):
        await watcher
    assert sorted(received) == list(range(30))
    assert received == sorted(received), "alerts arrived out of order"


async def test_one_runner_cannot_publish_into_another_runners_topics(mosquitto_acl: Mosquitto) -> None:
    base = mosquitto_acl.settings
    dashboard = BrokerSettings(base.host, base.port, "dashboard", PASSWORDS["dashboard"])
    alice = BrokerSettings(base.host, base.port, "alice", PASSWORDS["alice"])
    async with Listener(dashboard, "spinesense/v1/+/alert") as watcher:
        async with aiomqtt.Client(
            alice.host, alice.port, username="alice", password=alice.password
        ) as client:
            await client.publish("spinesense/v1/bob/alert", b'{"forged": true}', qos=1)
            await client.publish("spinesense/v1/alice/alert", b'{"own": true}', qos=1)
        # The broker handles one client's publishes in order: once the second is in, the first
        # would have come before it had the broker let it through.
        await watcher.wait_for(lambda got: any(m.payload == b'{"own": true}' for m in got))
    got = watcher.messages
    assert [(str(m.topic), m.payload) for m in got] == [("spinesense/v1/alice/alert", b'{"own": true}')]


async def test_tls_with_a_private_ca(mosquitto_tls: tuple[Mosquitto, TlsFiles]) -> None:
    broker, tls = mosquitto_tls
    settings = BrokerSettings.from_url(f"mqtts://127.0.0.1:{broker.port}").with_tls_files(ca_file=tls.ca)
    async with Publisher(settings, "tls") as pub:
        await _wait_connected(pub)
        pub.publish_summary({"strides": 0})
    import ssl  # noqa: PLC0415

    context = ssl.create_default_context(cafile=str(tls.ca))
    async with aiomqtt.Client("127.0.0.1", broker.port, tls_context=context) as client:
        await client.subscribe("spinesense/v1/tls/summary")
        async with asyncio.timeout(5):
            async for message in client.messages:
                assert json.loads(message.payload)["strides"] == 0
                break


async def test_a_client_certificate_opens_a_broker_that_requires_one(
    mosquitto_mtls: tuple[Mosquitto, TlsFiles], caplog: pytest.LogCaptureFixture
) -> None:
    broker, tls = mosquitto_mtls
    plain = BrokerSettings.from_url(f"mqtts://127.0.0.1:{broker.port}").with_tls_files(ca_file=tls.ca)
    with caplog.at_level(logging.WARNING):
        async with Publisher(plain, "nocert", flush_timeout_s=0.5) as pub:
            # The TLS layer reports the broker's refusal (or, failing that, the publisher its retry).
            await _wait_for(
                lambda: any(r.name == "mqtt" or "retrying" in r.getMessage() for r in caplog.records)
            )
            assert not pub.connected  # the broker refused a client without a certificate
            assert pub.connections == 0
    with_cert = plain.with_tls_files(ca_file=tls.ca, cert_file=tls.client_cert, key_file=tls.client_key)
    async with Publisher(with_cert, "alice") as pub:
        await _wait_connected(pub)
        assert pub.connected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://host", "scheme must be mqtt:// or mqtts://"),
        ("mqtt://", "no host name"),
        ("mqtt://host:99999", "port is not a number"),
        ("mqtt://host/path", "no path"),
    ],
)
def test_a_bad_broker_url_names_the_key_and_the_reason(url: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason) as info:
        BrokerSettings.from_url(url)
    assert info.value.key == "broker.url"


def test_the_password_never_shows() -> None:
    settings = BrokerSettings.from_url("mqtts://alice:s3cret@broker.example:8883")
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in settings.display()
    assert settings.display() == "mqtts://alice:***@broker.example:8883"


def test_outbox_sheds_strides_counts_them_and_keeps_alerts_on_disk(tmp_path: Path) -> None:
    outbox = Outbox(max_strides=3, directory=tmp_path)
    for n in range(5):
        outbox.put(Message("s", bytes([n]), 0, sheddable=True))
    outbox.put(Message("a", b"alert"))
    assert outbox.strides_shed == 2
    assert outbox.peek() == Message("a", b"alert")
    again = Outbox(directory=tmp_path)  # a restart of the service
    assert again.peek() == Message("a", b"alert")
    first = again.peek()
    assert first is not None
    again.ack(first)
    assert Outbox(directory=tmp_path).peek() is None


async def test_a_stride_is_on_the_wire_before_the_event_loop_turns(mosquitto: Mosquitto) -> None:
    """With the connection up and nothing queued, a stride is written to the socket as it is published.

    aiomqtt defers each write by two turns, the sender task would take one more, and on a loop serving
    hundreds of runners a turn can take tens of milliseconds. The subscriber runs in its own thread, so it
    sees what reaches the broker while this test holds the event loop still.
    """
    settings = mosquitto.settings
    subscribed, arrived = threading.Event(), threading.Event()
    strides: list[bytes | bytearray] = []

    def on_message(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        strides.append(message.payload)
        arrived.set()

    subscriber = paho.Client(CallbackAPIVersion.VERSION2)
    subscriber.on_subscribe = lambda *_: subscribed.set()
    subscriber.on_message = on_message
    subscriber.connect(settings.host, settings.port)
    subscriber.subscribe("spinesense/v1/ana/stride")
    subscriber.loop_start()
    try:
        assert await asyncio.to_thread(subscribed.wait, 10)
        async with Publisher(settings, "ana") as publisher:
            publisher.publish_stride(STRIDE)  # the first: the sender is then connected and idle
            await _wait_for(lambda: len(strides) == 1 and publisher.outbox_depth == 0)
            arrived.clear()
            publisher.publish_stride(dataclasses.replace(STRIDE, index=4))
            on_the_wire = arrived.wait(10)  # blocks the loop on purpose: no turn at all
        assert on_the_wire
        assert [json.loads(p)["index"] for p in strides] == [3, 4]
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()


async def test_a_stride_does_not_wait_behind_a_reliable_message(mosquitto: Mosquitto) -> None:
    """A summary queued (and then awaiting its acknowledgement) does not hold a stride back; a session's
    start does.

    Each reliable message waits for its PUBACK before the next goes; on a loop serving hundreds of runners
    that round trip took the strides queued behind it hundreds of milliseconds. Strides and summaries are
    on different topics, whose order MQTT keeps per topic only.
    """
    settings = mosquitto.settings
    subscribed, arrived = threading.Event(), threading.Event()
    topics: list[str] = []

    def on_message(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        topics.append(message.topic.rsplit("/", 1)[-1])
        arrived.set()

    subscriber = paho.Client(CallbackAPIVersion.VERSION2)
    subscriber.on_subscribe = lambda *_: subscribed.set()
    subscriber.on_message = on_message
    subscriber.connect(settings.host, settings.port)
    subscriber.subscribe([(f"spinesense/v1/ana/{sub}", 0) for sub in ("stride", "summary", "session")])
    subscriber.loop_start()
    try:
        assert await asyncio.to_thread(subscribed.wait, 10)
        async with Publisher(settings, "ana") as publisher:
            # A session's start goes first: the stride after it waits until the outbox has emptied.
            publisher.publish_session({"state": "started"})
            publisher.publish_stride(STRIDE)
            assert publisher.outbox.strides_waiting == 1
            await _wait_for(lambda: topics == ["session", "stride"] and publisher.outbox_depth == 0)
            arrived.clear()
            publisher.publish_summary({"strides": 1})  # queued for the sender, which has not run yet
            publisher.publish_stride(dataclasses.replace(STRIDE, index=4))
            on_the_wire = arrived.wait(5)  # blocks the loop on purpose: the sender cannot run
            assert publisher.outbox_depth == 1  # the summary, still queued
            await _wait_for(lambda: len(topics) == 4 and publisher.outbox_depth == 0)
        assert on_the_wire
        assert topics == ["session", "stride", "stride", "summary"]
        assert publisher.strides_sent == 2
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()


async def test_strides_wait_in_the_outbox_once_the_socket_is_behind(mosquitto: Mosquitto) -> None:
    """A stalled broker (SIGSTOP, a real fault) reads nothing: once the socket's buffers are full, strides
    go to the outbox, where the oldest are shed and counted, instead of piling up in the client unbounded."""
    assert mosquitto.process is not None
    async with (
        Listener(mosquitto.settings, "spinesense/v1/ana/stride") as inbox,
        Publisher(mosquitto.settings, "ana") as publisher,
    ):
        publisher.publish_stride(STRIDE)
        await inbox.next()  # delivered: the sender is connected and idle, strides go out at once
        mosquitto.process.send_signal(signal.SIGSTOP)
        try:
            for index in range(40_000):  # some 20 MB, more than the loopback socket's buffers hold
                publisher.publish_stride(dataclasses.replace(STRIDE, index=index))
            assert publisher.outbox.strides_waiting == 2_000  # the ring of strides is full
            assert publisher.strides_shed > 0
        finally:
            mosquitto.process.send_signal(signal.SIGCONT)


async def test_mqtt5_carries_content_type_and_stride_expiry_where_the_broker_speaks_it(
    any_broker: BrokerSettings,
) -> None:
    got: list[aiomqtt.Message] = []
    speaks5 = any_broker.mqtt5 is not False  # Mosquitto does; the embedded amqtt broker is set to 3.1.1
    version = aiomqtt.ProtocolVersion.V5 if speaks5 else aiomqtt.ProtocolVersion.V311
    async with aiomqtt.Client(any_broker.host, any_broker.port, protocol=version) as client:
        await client.subscribe("spinesense/v1/eve/+", qos=1)
        async with Publisher(any_broker, "eve") as pub:
            await _wait_connected(pub)
            pub.publish_stride(STRIDE)
            pub.publish_alert(lean_alert(1))
            async with asyncio.timeout(10):
                async for message in client.messages:
                    if str(message.topic).endswith(("/stride", "/alert")):
                        got.append(message)
                    if len(got) == 2:
                        break
        assert pub.protocol == version
    by_leaf = {str(m.topic).rsplit("/", 1)[1]: m for m in got}
    if speaks5:
        props = by_leaf["stride"].properties
        assert getattr(props, "ContentType", None) == "application/json"
        assert 0 < getattr(props, "MessageExpiryInterval", 0) <= STRIDE_EXPIRY_S
        assert not hasattr(by_leaf["alert"].properties, "MessageExpiryInterval")  # alerts never expire
    else:
        assert json.loads(by_leaf["stride"].payload)["gct_ms"] == 231.0  # plain 3.1.1 payloads


async def test_a_write_queued_from_another_thread_for_a_socket_closed_meanwhile_is_dropped_quietly() -> None:
    """paho's connect thread can queue a write just before the connection closes; aiomqtt then raised in
    the event loop ("Bad file descriptor" tracebacks at the end of a served run)."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _, context: errors.append(context))
    client = AckingClient("127.0.0.1", 1)  # never connected: only its write path is used
    ours, theirs = socket.socketpair()

    def queue_a_write_then_close() -> None:
        client._on_socket_register_write(client._client, None, ours)
        ours.close()  # before the loop's next turn sets the watch up

    with theirs:
        await asyncio.to_thread(queue_a_write_then_close)
        await asyncio.sleep(0)  # a turn after the one that ran it
    assert errors == []
