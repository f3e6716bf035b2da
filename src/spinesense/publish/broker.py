"""The embedded broker (amqtt, in-process, loopback only): the zero-setup default when none is set.

Besides MQTT over TCP it listens for MQTT over WebSockets, so the cockpit page (web/) reaches it too.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from amqtt.broker import Broker

from spinesense.publish.settings import BrokerSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

log = logging.getLogger(__name__)
SHUTDOWN_S = 5.0
"""How long the broker may take to stop: a browser still connected over WebSockets can hold it open."""


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
    ws_port = free_port()
    config = {
        "listeners": {
            "default": {"type": "tcp", "bind": f"127.0.0.1:{port}"},
            "websockets": {"type": "ws", "bind": f"{websocket_host}:{ws_port}"},
        },
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }
    broker = Broker(config)
    await broker.start()
    try:
        yield BrokerSettings(
            host="127.0.0.1", port=port, mqtt5=False, websocket_url=f"ws://127.0.0.1:{ws_port}/"
        )
    finally:
        try:
            async with asyncio.timeout(SHUTDOWN_S):
                await broker.shutdown()
        except TimeoutError:
            log.warning("embedded broker not stopped within %.0f s (a page still connected?)", SHUTDOWN_S)
