"""An aiomqtt client that keeps PUBACK reason codes and the TLS error, and writes without delay.

MQTT 5 brokers answer a QoS 1 publish they refuse (an ACL, a quota, a payload too big) with a PUBACK
whose reason code is 0x80 or more; paho hands that code to ``on_publish``, and aiomqtt drops it, so the
refused message would look delivered. MQTT 3.1.1 has no such code: a 3.1.1 broker either acknowledges
and drops the message (Mosquitto) or closes the connection, so a refusal there cannot be seen.

aiomqtt sends every packet from a writer callback that it registers with ``call_soon_threadsafe``: a
message leaves two event-loop turns after ``publish``, and on a loop serving hundreds of runners a turn
can take tens of milliseconds. On the loop's own thread this client writes at once instead.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING, Any

import aiomqtt
from aiomqtt.exceptions import MqttConnectError
from paho.mqtt.client import MQTT_ERR_SUCCESS
from paho.mqtt.reasoncodes import ReasonCode

if TYPE_CHECKING:
    import socket

    import paho.mqtt.client as mqtt
    from paho.mqtt.properties import Properties

REFUSED_AT_CONNECT = {
    0x86: "bad user name or password",
    0x87: "not authorized",
    0x8A: "banned",
    0x8C: "bad authentication method",
}
"""CONNACK reason codes that no retry can fix (3.1.1's return codes 4 and 5 map to 0x86 and 0x87)."""


class BrokerRefusal(Exception):  # noqa: N818 - a refusal, not a programming error
    """The broker will not take our messages: bad credentials, an untrusted certificate, a denied publish.

    Retrying cannot help; the message says what was refused and why, without the password.
    """


class AckingClient(aiomqtt.Client):
    """``aiomqtt.Client`` whose ``publish`` raises ``BrokerRefusal`` on a refusing PUBACK (MQTT 5)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401 - aiomqtt.Client's own arguments
        """As ``aiomqtt.Client``."""
        super().__init__(*args, **kwargs)
        self.refused: ReasonCode | None = None
        """The reason code of the latest refusing PUBACK (publishes are awaited one at a time)."""
        self.tls_error: ssl.SSLCertVerificationError | None = None
        """Why the broker's certificate was not trusted, when that is why connecting failed."""

    async def publish_checked(
        self, topic: str, payload: bytes, qos: int, *, retain: bool, properties: Properties | None = None
    ) -> None:
        """Publish and wait for the acknowledgement; BrokerRefusal when the PUBACK refuses the message."""
        self.refused = None
        await self.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        if self.refused is not None:
            code, self.refused = self.refused, None
            raise BrokerRefusal(f"the broker refused a publish to {topic} (reason {code.value}: {code})")

    def send_now(self, topic: str, payload: bytes, properties: Properties | None) -> bool:
        """Publish at QoS 0, awaiting nothing, when the socket has caught up; False when nothing was sent.

        On the loop's thread the packet is written at once (``_on_socket_register_write``). Nothing is
        sent while earlier bytes still wait for the socket (the caller queues the message, where a broker
        that cannot keep up makes strides shed and replays wait), nor when the connection is down or the
        write broke it.
        """
        if self._client.want_write():
            return False
        info = self._client.publish(topic, payload, qos=0, retain=False, properties=properties)
        if info.rc != MQTT_ERR_SUCCESS:
            return False
        return info.is_published() or not self._disconnected.done()

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: Any,  # noqa: ANN401 - paho's user data is whatever the caller set
        mid: int,
        reason_code: ReasonCode,
        properties: Properties,
    ) -> None:
        """Keep a refusing reason code, then let aiomqtt release the waiting ``publish``."""
        if reason_code.is_failure:
            self.refused = reason_code
        super()._on_publish(client, userdata, mid, reason_code, properties)

    def _on_socket_register_write(
        self,
        client: mqtt.Client,
        userdata: Any,  # noqa: ANN401, ARG002 - paho's user data is whatever the caller set
        sock: socket.socket,
    ) -> None:
        """Bytes to send: on the event loop's thread, write them now (what the socket takes).

        What the socket cannot take yet is written when it becomes writable. paho calls this from its
        connect thread too, so the watch is set up on the loop's thread, and only if the socket is still
        open by then (aiomqtt's own version raised in the loop when a connection closed in between).
        """
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:  # not on any event loop's thread
            on_loop = False
        if not on_loop:
            self._loop.call_soon_threadsafe(self._write_when_writable, client, sock)
            return
        self._write(client)
        if client.want_write():
            self._write_when_writable(client, sock)

    def _write_when_writable(self, client: mqtt.Client, sock: socket.socket) -> None:
        """Write the rest once the socket can take it; nothing if the socket has closed meanwhile."""
        if (fd := sock.fileno()) != -1:
            self._loop.add_writer(fd, self._write, client)

    def _write(self, client: mqtt.Client) -> None:
        """Write what paho has queued; an error (a broken pipe) ends the connection, as in aiomqtt."""
        try:
            client.loop_write()
        except Exception as exc:  # noqa: BLE001 - any failure to write means the link is gone
            if not self._disconnected.done():
                self._disconnected.set_exception(exc)

    def _client_connect(self) -> None:
        """Connect, keeping a certificate verification error (aiomqtt turns it into a bare message)."""
        try:
            super()._client_connect()
        except ssl.SSLCertVerificationError as exc:
            self.tls_error = exc
            raise


def refusal(client: AckingClient, exc: aiomqtt.MqttError) -> BrokerRefusal | None:
    """The refusal behind a failed connection attempt, or None when a retry may succeed (broker away)."""
    if client.tls_error is not None:
        return BrokerRefusal(
            f"TLS: the broker's certificate is not trusted ({client.tls_error.verify_message})"
        )
    if isinstance(exc, MqttConnectError):
        value = exc.rc.value if isinstance(exc.rc, ReasonCode) else int(exc.rc or 0)
        if value in REFUSED_AT_CONNECT:
            return BrokerRefusal(
                f"the broker refused the connection (reason {value}: {REFUSED_AT_CONNECT[value]})"
            )
    return None
