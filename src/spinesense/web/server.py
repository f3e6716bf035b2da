"""The cockpit's web server (aiohttp): the static page and /config.json, in the service's event loop."""

from __future__ import annotations

import errno
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from spinesense.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from spinesense.web.address import WebAddress
    from spinesense.web.page import PageConfig

STATIC = Path(str(resources.files("spinesense.web").joinpath("static")))
"""The page: HTML, CSS, JS and the vendored MQTT.js (package data)."""

PAGE_CONFIG: web.AppKey[PageConfig] = web.AppKey("page_config")


async def _index(_request: web.Request) -> web.FileResponse:
    """The page (the runner or coach view is chosen by the page from ``?runner=``)."""
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def _config(request: web.Request) -> web.Response:
    """Which broker and runner the page should use, and the alert limits to colour the tiles by."""
    return web.json_response(request.app[PAGE_CONFIG].to_json(), headers={"Cache-Control": "no-store"})


def make_app(page: PageConfig) -> web.Application:
    """The cockpit application: ``/``, ``/config.json`` and ``/static/``."""
    app = web.Application()
    app[PAGE_CONFIG] = page
    app.router.add_get("/", _index)
    app.router.add_get("/config.json", _config)
    app.router.add_static("/static/", STATIC)
    return app


@asynccontextmanager
async def cockpit_server(page: PageConfig, address: WebAddress) -> AsyncIterator[str]:
    """Serve the cockpit on ``address`` for the duration of the block; yield the page's URL.

    A port in use or a host that is not this machine's is a ConfigError naming ``web.listen``.
    """
    runner = web.AppRunner(make_app(page), access_log=None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, address.host, address.port).start()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or address.exact:
                reason = "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
                where = f"{address.host}:{address.port}"
                raise ConfigError("web.listen", f"cannot serve on {where}: {reason}") from None
            await web.TCPSite(runner, address.host, 0).start()
        port = int(runner.addresses[0][1])
        yield address.url(port)
    finally:
        await runner.cleanup()
