"""The cockpit as the service runs it: the page for one runner's session on the broker the service chose.

aiohttp (``web.server``) is imported only here, when a page is served, so commands and library users that
serve none never load it.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from spinesense.logs import status
from spinesense.web.page import page_config

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from spinesense.config import Config
    from spinesense.publish import BrokerSettings
    from spinesense.web.address import WebAddress


def websocket_host(config: Config) -> str:
    """Where the embedded broker's WebSocket listens: where the page is served, so the page reaches it.

    Loopback unless the page is served to other machines (``web.listen`` on a non-loopback host).
    """
    web = config.web
    return web.host if web is not None and web.public else "127.0.0.1"


@asynccontextmanager
async def serve_cockpit(config: Config, web: WebAddress, broker: BrokerSettings) -> AsyncIterator[str]:
    """Serve ``config``'s runner's cockpit on ``web`` for the block, reading ``broker``; yield the URL.

    Says where the page is; warns when the embedded broker's WebSocket is open to the network. A port in
    use or a host not this machine's is a ConfigError naming ``web.listen``.
    """
    from spinesense.web.server import cockpit_server  # noqa: PLC0415 - aiohttp only when the page is served

    page = page_config(broker, config.runner_id, config.alerts)
    async with cockpit_server(page, web) as url:
        status(f"cockpit: open {url} (broker over WebSockets: {page.broker_ws_url})", cockpit=url)
        if config.broker is None and web.public:
            status(
                f"cockpit: the embedded broker's WebSocket listens on {web.host} without a password: "
                "anyone on this network can read and publish (docs/cockpit.md)"
            )
        yield url
