"""The cockpit: a static page that reads the runner's topics over MQTT over WebSockets.

``server.cockpit_server`` serves it (aiohttp, imported only by the commands that serve the page).
"""

from spinesense.web.address import WebAddress
from spinesense.web.page import PageConfig, page_config, websocket_url

__all__ = ["PageConfig", "WebAddress", "page_config", "websocket_url"]
