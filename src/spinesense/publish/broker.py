"""The embedded broker (amqtt, in-process, loopback only): the zero-setup default when none is set.

Besides MQTT over TCP it listens for MQTT over WebSockets, so the cockpit page (web/) reaches it too.
That listener is ours (websockets), handed to amqtt as an external one, so that stopping closes every
page's connection before the broker stops: amqtt stops its clients' sessions first, and on Python 3.11 a
session whose packet arrives just as it is cancelled can swallow the cancellation and wait for the page
to go (``asyncio.wait_for``, fixed in 3.12).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from amqtt.adapters import WebSocketsReader, WebSocketsWriter
from amqtt.broker import Broker
from websockets.asyncio.server import serve
from websockets.typing import Subprotocol

from spinesense.publish.settings import BrokerSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from websockets.asyncio.server import ServerConnection

log = logging.getLogger(__name__)
SHUTDOWN_S = 5.0
"""How long the broker may take to stop (its pages are closed first: it takes milliseconds)."""
WEBSOCKETS = "websockets"
"""The name of the WebSocket listener in the broker's configuration."""


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def embedded_broker(
    port: int | None = None, websocket_host: str = "127.0.0.1"
) -> AsyncIterator[BrokerSettings]:
    """Run an anonymous MQTT 3.1.1 broker on 127.0.0.1 for the duration of the block.

    Its WebSocket listener (for browsers) binds ``websocket_host``: loopback, unless the cockpit is
    served to other machines too.
    """
    port = port or free_port()
    config = {
        "listeners": {
            "default": {"type": "tcp", "bind": f"127.0.0.1:{port}"},
            WEBSOCKETS: {"type": "external"},  # served below: amqtt is handed each connection
        },
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }
    broker = Broker(config)

    async def page_connected(websocket: ServerConnection) -> None:
        await broker.external_connected(WebSocketsReader(websocket), WebSocketsWriter(websocket), WEBSOCKETS)

    await broker.start()
    pages = None
    try:
        # One port chosen for every address the host has (IPv4 and IPv6): port 0 would give each its own.
        ws_port = free_port()
        pages = await serve(page_connected, websocket_host, ws_port, subprotocols=[Subprotocol("mqtt")])
        yield BrokerSettings(
            host="127.0.0.1", port=port, mqtt5=False, websocket_url=f"ws://127.0.0.1:{ws_port}/"
        )
    finally:
        try:
            async with asyncio.timeout(SHUTDOWN_S):
                if pages is not None:  # every page's connection closed first, and its session ended
                    pages.close()
                    await pages.wait_closed()
                await broker.shutdown()
        except TimeoutError:
            log.warning("embedded broker not stopped within %.0f s", SHUTDOWN_S)
