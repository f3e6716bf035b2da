"""The MQTT publisher: never blocks the caller, reconnects by itself, loses no alert.

Callers enqueue (``publish_*``); one background task owns the connection and drains the outbox,
removing a reliable message only after the broker acknowledged it (QoS 1). A stride published while that
task is connected and no stride waits is written at once instead (QoS 0, nothing to acknowledge), also
while a reliable message awaits its acknowledgement. ``status`` is
retained and is also the last will, so a crash shows ``offline``; a clean exit publishes ``offline``
itself after the outbox is empty (the will is then not sent). MQTT 5 is tried first (message expiry on
strides, content type); brokers that only speak 3.1.1 get 3.1.1.

A recording replayed into the broker is not a live sensor: its service awaits ``room()`` before feeding
more records, so the outbox never fills and no stride is shed. A live run never waits; when the broker
cannot keep up its oldest strides are shed (counted in ``strides_shed``).

A refusal no retry can fix (wrong credentials, an untrusted certificate, a publish the broker denies
with an MQTT 5 reason code) stops the sending for good: it is logged once, kept in ``failure``, and the
messages stay in the outbox for a later run with the right settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from typing import TYPE_CHECKING, Any, Self

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from spinesense.publish._client import AckingClient, BrokerRefusal, refusal
from spinesense.publish.clock import SessionClock
from spinesense.publish.homeassistant import discovery_message
from spinesense.publish.outbox import Message, Outbox
from spinesense.publish.topics import Topics, alert_payload, encode, stride_payload

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from types import TracebackType

    from spinesense.alerts import BaselineState
    from spinesense.models import Alert, Stride
    from spinesense.publish.settings import BrokerSettings

log = logging.getLogger(__name__)

STRIDE_EXPIRY_S = 60
"""A stride older than this is of no use to a live dashboard (MQTT 5 message expiry)."""
ACK_TIMEOUT_S = 5.0
"""A reliable message unacknowledged this long ends the connection (a stalled broker): the sender reconnects,
and strides queue meanwhile (counted if shed) instead of going into a connection that may never deliver
them. Long, because on a loop serving hundreds of runners an acknowledgement's round trip takes two turns of
the loop, each up to a second or more when the load peaks."""
HIGH_WATER = 1000
"""Messages waiting at which ``room()`` makes a replay wait (below the outbox's 2000-stride ring)."""


class Publisher:
    """Publishes one runner's topic tree; use as ``async with Publisher(settings, runner) as pub``."""

    def __init__(
        self,
        settings: BrokerSettings,
        runner: str,
        *,
        outbox_dir: Path | None = None,
        clock: SessionClock | None = None,
        flush_timeout_s: float | None = None,
        reconnect_max_s: float = 5.0,
        home_assistant: bool = True,
    ) -> None:
        """Prepare (nothing connects before ``__aenter__``); ``clock`` stamps every ``time_ms``.

        ``flush_timeout_s``: how long leaving waits for the outbox to empty (None: the settings' own).
        """
        self.settings = settings
        self.topics = Topics(runner)
        self.outbox = Outbox(directory=outbox_dir)
        self.clock = clock or SessionClock()
        """Sensor time -> UTC for every ``time_ms``; the session starts it at its first block."""
        self.flush_timeout_s = settings.flush_timeout_s if flush_timeout_s is None else flush_timeout_s
        self.reconnect_max_s = reconnect_max_s
        self.home_assistant = home_assistant
        self.connected = False
        self.connections = 0
        self.protocol: aiomqtt.ProtocolVersion | None = None
        self.failure: str | None = None
        """Why the broker refused us for good (credentials, TLS, a denied publish); None while all is well."""
        self._client_id = f"spinesense-{runner}-{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._away = False
        """True from a failed connection attempt to the next success (``room()`` does not wait then)."""
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.strides_sent = 0
        """Strides handed to the broker's connection (each stride is sent, waiting in the outbox, or shed)."""
        self._sending_client: AckingClient | None = None
        """The connection the sender drains the outbox through, once it is up (strides may go straight)."""
        self._session_queued = False
        """A session message is queued: strides wait until the outbox has emptied, so none arrives before
        its session's start (nor before what an earlier run left in the outbox)."""
        self._together: list[Message] | None = None
        """Reliable messages held inside ``together``, queued as one when it ends."""

    @property
    def outbox_depth(self) -> int:
        """Messages not yet acknowledged by the broker."""
        return len(self.outbox)

    @property
    def strides_shed(self) -> int:
        """Strides dropped because the broker could not keep up."""
        return self.outbox.strides_shed

    async def room(self) -> None:
        """Wait while ``HIGH_WATER`` messages or more wait, until half have gone: a replay's backpressure.

        Returns at once while the broker is away or has refused us (a replay then goes on, as a live run
        would, and strides may be shed), so a replay never hangs on a broker that is not there.
        """
        if self._has_room(HIGH_WATER):
            return
        while not self._has_room(HIGH_WATER // 2 + 1):
            self._room.clear()
            await self._room.wait()

    def _has_room(self, limit: int) -> bool:
        """Fewer than ``limit`` messages wait, or waiting is pointless (broker away, refused, sender gone)."""
        done = self._task is None or self._task.done()
        return len(self.outbox) < limit or self._away or self.failure is not None or done

    async def __aenter__(self) -> Self:
        """Start the connection task (the first connection happens in the background)."""
        self._task = asyncio.create_task(self._run(), name="mqtt-publisher")
        self._task.add_done_callback(lambda _: self._room.set())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Flush the outbox, publish ``offline`` and disconnect; report what could not be delivered."""
        self._closing = True
        self._wake.set()
        assert self._task is not None  # noqa: S101 - set in __aenter__
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self.flush_timeout_s)
        except TimeoutError:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if len(self.outbox):
            where = f"kept in {self.outbox.path}" if self.outbox.durable else "lost"
            log.error(
                "broker %s %s: %d messages not delivered (%s)",
                self.settings.display(),
                "refused them" if self.failure else "unreachable",
                len(self.outbox),
                where,
            )
        self.outbox.close()

    @property
    def undelivered(self) -> str | None:
        """Why messages are left after closing (a refusal, or no broker); None when all went out."""
        if self.failure:
            return f"broker {self.settings.display()}: {self.failure}"
        if len(self.outbox):
            return f"broker {self.settings.display()} unreachable: {len(self.outbox)} messages not delivered"
        return None

    def publish_stride(self, stride: Stride) -> None:
        """Send a stride now if connected and no stride is queued, else queue it (QoS 0; may be shed).

        Sent now, it leaves in this turn of the event loop instead of the sender's next one (with hundreds
        of runners on one loop, a turn can take tens of milliseconds); queued behind other strides, it
        keeps its place. It does not wait behind reliable messages (a summary, a baseline: other topics,
        whose order MQTT keeps per topic only): each of those waits for its acknowledgement before the
        next is sent, and on a loaded loop that round trip took strides hundreds of milliseconds. Only a
        session's start (with what an earlier run left) goes out before the strides that follow it.
        """
        message = Message(
            self.topics.stride,
            encode(stride_payload(stride, self.clock.ms(stride.t_start_s))),
            0,
            sheddable=True,
        )
        client = self._sending_client
        if (
            client is None
            or self.outbox.strides_waiting
            or self._session_queued
            or not client.send_now(message.topic, message.payload, self._props(message))
        ):
            self._put(message)
        else:
            self.strides_sent += 1

    def publish_alert(self, alert: Alert) -> None:
        """Queue an alert event (QoS 1, kept until acknowledged)."""
        self._put(Message(self.topics.alert, encode(alert_payload(alert, self.clock.ms(alert.t_s)))))

    def publish_active(self, alerts: list[Alert]) -> None:
        """Queue the retained list of alerts active now."""
        payload = {"alerts": [alert_payload(a, self.clock.ms(a.t_s)) for a in alerts]}
        self._put(Message(self.topics.alerts_active, self._stamped(payload), retain=True))

    def publish_summary(self, summary: dict[str, Any]) -> None:
        """Queue the retained rolling summary (flat JSON)."""
        self._put(Message(self.topics.summary, self._stamped(summary), retain=True))

    def publish_session(self, session: dict[str, Any]) -> None:
        """Queue the retained session message (start, or end with the session summary)."""
        self._session_queued = True
        self._put(Message(self.topics.session, self._stamped(session), retain=True))

    def publish_baseline(self, state: BaselineState) -> None:
        """Queue the retained baseline state (learning with the seconds left, or the values)."""
        self._put(Message(self.topics.baseline, self._stamped(state.to_json()), retain=True))

    def publish_load(self, load: dict[str, Any]) -> None:
        """Queue the retained training load (docs/schemas/load.schema.json)."""
        self._put(Message(self.topics.load, self._stamped(load), retain=True))

    def publish_notice(self, text: str) -> None:
        """Queue a notice from the pipeline (re-alignment, gaps)."""
        self._put(Message(self.topics.notice, self._stamped({"text": text})))

    def _stamped(self, payload: dict[str, Any]) -> bytes:
        """``payload`` as JSON, led by the session clock's present (``time_ms``)."""
        return encode({"time_ms": self.clock.now_ms(), **payload})

    @contextlib.contextmanager
    def together(self) -> Iterator[None]:
        """Queue the reliable messages published inside as one: on disk in one transaction, one fsync.

        The messages that leave together (an alert and the active list; a run's summary, active list and
        end): with hundreds of runners on one loop, each fsync is a millisecond or more the loop waits.
        """
        if self._together is not None:  # inside another block: its messages join that one's, in order
            yield
            return
        self._together = []
        try:
            yield
        finally:
            held, self._together = self._together, None
            if held:
                self.outbox.put_reliable(held)
                self._wake.set()

    def _put(self, message: Message) -> None:
        """Enqueue and wake the sender (or hold a reliable message for ``together``)."""
        if self._together is not None and not message.sheddable:
            self._together.append(message)
            return
        self.outbox.put(message)
        self._wake.set()

    def _client(self, protocol: aiomqtt.ProtocolVersion) -> AckingClient:
        """A client for one connection attempt, with the will set."""
        s = self.settings
        tls = None
        if s.tls:
            tls = aiomqtt.TLSParameters(
                ca_certs=str(s.ca_file) if s.ca_file else None,
                certfile=str(s.cert_file) if s.cert_file else None,
                keyfile=str(s.key_file) if s.key_file else None,
            )
        return AckingClient(
            s.host,
            s.port,
            username=s.username,
            password=s.password,
            identifier=self._client_id,
            protocol=protocol,
            will=aiomqtt.Will(self.topics.status, b"offline", qos=1, retain=True),
            tls_params=tls,
            timeout=ACK_TIMEOUT_S,
            keepalive=10,
        )

    async def _run(self) -> None:
        """Connect, drain, reconnect with backoff; return once closing and everything is delivered."""
        backoff = 0.2
        candidates = [aiomqtt.ProtocolVersion.V5, aiomqtt.ProtocolVersion.V311]
        if self.settings.mqtt5 is not None:
            self.protocol = candidates[0] if self.settings.mqtt5 else candidates[1]
        attempt = 0
        while True:
            protocol = self.protocol or candidates[attempt % 2]
            client = self._client(protocol)
            try:
                async with client:
                    self.protocol, self.connected, backoff = protocol, True, 0.2
                    self._away = False
                    self.connections += 1
                    log.info(
                        "connected to %s (MQTT %s)",
                        self.settings.display(),
                        "5" if protocol == candidates[0] else "3.1.1",
                    )
                    await self._drain(client)
                    return
            except BrokerRefusal as exc:
                self._refused(str(exc))
                return
            except aiomqtt.MqttError as exc:
                if (refused := refusal(client, exc)) is not None:
                    self._refused(str(refused))
                    return
                if self.connected or attempt == 0:
                    log.warning("broker %s: %s; retrying, messages stay queued", self.settings.display(), exc)
                self.connected, self._away = False, True
                self._room.set()
                attempt += 1
                if self._closing and not len(self.outbox) and self.connections:
                    return
                await asyncio.sleep(backoff * (1 + random.random() / 2))  # noqa: S311 - jitter, not crypto
                backoff = min(backoff * 2, self.reconnect_max_s)

    def _refused(self, why: str) -> None:
        """Stop sending for good: say why once; what is queued stays in the outbox."""
        self.failure, self.connected = why, False
        self._room.set()
        log.error(
            "broker %s: %s; nothing more is sent, messages stay in the outbox", self.settings.display(), why
        )

    async def _drain(self, client: AckingClient) -> None:
        """Send ``online`` and discovery, then queued messages as they come; ``offline`` when closing."""
        await client.publish_checked(self.topics.status, b"online", 1, retain=True)
        if self.home_assistant:
            topic, payload = discovery_message(self.topics)
            await client.publish_checked(topic, encode(payload), 1, retain=True)
        self._sending_client = client
        try:
            await self._send_queued(client)
        finally:
            self._sending_client = None

    async def _send_queued(self, client: AckingClient) -> None:
        """Send queued messages as they come, each acknowledged before the next; ``offline`` when closing."""
        while True:
            message = self.outbox.peek()
            if message is None:
                self._session_queued = False
                if self._closing:
                    await client.publish_checked(self.topics.status, b"offline", 1, retain=True)
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            await client.publish_checked(
                message.topic,
                message.payload,
                message.qos,
                retain=message.retain,
                properties=self._props(message),
            )
            self.outbox.ack(message)
            self.strides_sent += message.sheddable
            if len(self.outbox) <= HIGH_WATER // 2:
                self._room.set()

    def _props(self, message: Message) -> Properties | None:
        """MQTT 5 properties (None on 3.1.1): JSON content type, and an expiry for strides.

        Built once; paho only reads them.
        """
        if self.protocol != aiomqtt.ProtocolVersion.V5:
            return None
        return _STRIDE_PROPERTIES if message.sheddable else _JSON_PROPERTIES


def _json_properties(expiry_s: int | None) -> Properties:
    """Properties of a JSON message, expiring after ``expiry_s`` (None: never)."""
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.ContentType = "application/json"
    if expiry_s is not None:
        props.MessageExpiryInterval = expiry_s
    return props


_JSON_PROPERTIES = _json_properties(None)
_STRIDE_PROPERTIES = _json_properties(STRIDE_EXPIRY_S)
