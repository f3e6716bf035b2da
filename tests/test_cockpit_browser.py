"""The cockpit page in a real browser (Chromium), following a real replay through the whole service.

The library's ``Service`` serves the page itself (``web``), as ``spinesense replay --web`` runs it, into
Mosquitto with a WebSocket listener and into the embedded broker. The recording is held open at its end
until the page has shown what a live run shows (tiles, the alert banner, the spoken cue), so nothing
depends on timing; then the service stops and the page must say the runner is offline.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
from typing import TYPE_CHECKING, Any

import pytest
from playwright.async_api import Page, expect

from conftest import REPLAY_DATA
from fixtures_browser import ARTIFACTS, SPEECH_STUB
from fixtures_mqtt import collect, websocket_mosquitto
from spinesense.alerts import AlertConfig
from spinesense.config import Config
from spinesense.publish.broker import log as broker_log
from spinesense.service import Service
from spinesense.sources.replay import ReplaySource
from spinesense.testing import Listener
from spinesense.web import WebAddress, page_config
from spinesense.web.server import cockpit_server

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator
    from pathlib import Path

    import aiomqtt
    from playwright.async_api import Browser, ViewportSize

    from fixtures_mqtt import WebSocketBroker
    from spinesense.models import Record
    from spinesense.publish import BrokerSettings

pytestmark = pytest.mark.slow  # end to end (a real browser): `scripts/test --quick` skips it

RECORDING = REPLAY_DATA / "fukuchi" / "RBDS032.jsonl.gz"
"""40 s with a gyroscope: standing 10 s, then running at 3.5 m/s (synthesised from real pelvis motion)."""

TIGHT = AlertConfig.from_mapping({"low_cadence": {"limit": 250.0}})
"""Raises "low cadence" at the 8th running stride and keeps it active: a limit no runner reaches.
(Absolute limits apply from the first strides; the profile's baseline is what the page shows as learned.)"""

PHONE: ViewportSize = {"width": 360, "height": 800}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
HANG_GUARD_S = 60.0
"""Far above any stop (about a second): a stop that hangs fails the test instead of hanging the suite."""


class HeldOpen:
    """A recording as a live source whose stream is written by the test around the recording's records."""

    def __init__(self, stream: Callable[[ReplaySource], AsyncIterator[Record]]) -> None:
        """``stream`` gets the recording (as fast as it goes) and yields the records the service reads."""
        self.recording = ReplaySource(RECORDING, None)
        self.stream = stream

    async def start(self) -> dict[str, Any]:
        """The recording's header."""
        return await self.recording.start()

    def __aiter__(self) -> AsyncIterator[Record]:
        """What ``stream`` yields."""
        return self.stream(self.recording)


def _payloads(messages: list[aiomqtt.Message], sub: str) -> list[dict[str, object]]:
    """The JSON payloads received on ``spinesense/v1/<runner>/<sub>``."""
    return [json.loads(m.payload) for m in messages if str(m.topic).endswith(f"/{sub}")]


def _raised(messages: list[aiomqtt.Message]) -> list[dict[str, object]]:
    """The alerts raised so far."""
    return [a for a in _payloads(messages, "alert") if a["state"] == "raised"]


async def _open(browser: Browser, url: str, viewport: ViewportSize) -> Page:
    """A page on the cockpit with speech stubbed; returns once the page is connected to the broker."""
    page = await browser.new_page(viewport=viewport)
    await page.add_init_script(SPEECH_STUB)
    await page.goto(url)
    await expect(page.locator("#chip-broker")).to_have_text("broker connected")
    return page


async def test_the_cockpit_follows_a_run_speaks_its_alert_and_shows_offline_at_the_end(
    browser: Browser, websocket_broker: WebSocketBroker, tmp_path: Path
) -> None:
    runner = f"cockpit-{websocket_broker.kind}"
    config = Config(
        runner_id=runner,
        baseline={"cadence_spm": 170.0},
        broker=websocket_broker.settings,
        data_dir=tmp_path / "data",
        record=False,
        web=WebAddress(port=0),
        alerts=TIGHT,
    )
    pages: list[Page] = []
    ARTIFACTS.mkdir(exist_ok=True)

    async def live(listener: Listener, recording: ReplaySource) -> AsyncIterator[Record]:
        # The service has started its page server before it reads the first record.
        url = service.cockpit_url
        assert url is not None
        assert url.startswith("http://127.0.0.1:")
        pages.extend([await _open(browser, url, PHONE), await _open(browser, url, DESKTOP)])
        phone = pages[0]
        await phone.locator("#sound").click()
        await expect(phone.locator("#sound")).to_have_attribute("aria-pressed", "true")
        async for record in recording:
            yield record
        # Still live: the source does not end until the page has shown the alert.
        await listener.wait_for(lambda messages: bool(_raised(messages)))
        alert = _raised(listener.messages)[0]
        assert alert["kind"] == "low_cadence"
        for page in pages:
            await expect(page.locator("#banner-text")).to_have_text(str(alert["message"]))
            await expect(page.locator("#tile-cadence")).to_have_attribute("data-state", "alert")
            await expect(page.locator("#chip-runner")).to_have_text("runner online")
            await expect(page.locator("#tile-lean .number")).to_have_text(
                re.compile(r"^(forward|back) \d+°|upright$")
            )
            await expect(page.locator("#tile-drop .number")).to_have_text(re.compile(r"^L \d+°  R \d+°$"))
        await phone.wait_for_function("text => window.__spoken.includes(text)", arg=alert["message"])
        for page, name in zip(pages, ("phone", "desktop"), strict=True):
            shot = ARTIFACTS / f"cockpit-{name}-{websocket_broker.kind}.png"
            await page.screenshot(path=shot, full_page=True)

    async with Listener(websocket_broker.settings, f"spinesense/v1/{runner}/#") as listener:
        service = Service(HeldOpen(lambda recording: live(listener, recording)), config)
        async with service:
            await service.run()
        await listener.wait_for(
            lambda messages: any(p["state"] == "ended" for p in _payloads(messages, "session"))
        )
    phone, desktop = pages

    # Every stride reached the page, and the cadence tile shows the median of the last 8, as the rules do.
    strides = _payloads(listener.messages, "stride")
    await expect(phone.locator("#tile-run .detail")).to_have_text(f"{len(strides)} strides")
    last = [float(s["cadence_spm"]) for s in strides[-8:]]  # type: ignore[arg-type]
    shown = float(await phone.locator("#tile-cadence .number").inner_text())
    assert abs(shown - statistics.median(last)) <= 0.5
    # The cue was spoken once, not again for the same active alert.
    spoken = await phone.evaluate("window.__spoken")
    assert spoken.count(_raised(listener.messages)[0]["message"]) == 1

    # The service stopped: its last words (retained) say offline.
    await expect(phone.locator("#chip-runner")).to_have_text("runner offline")

    # The coach view (from a page server of its own: the service's has stopped) lists the runner from the
    # retained topics; a click opens its cockpit.
    page = page_config(websocket_broker.settings, "someone-else", TIGHT)
    async with cockpit_server(page, WebAddress()) as coach_url:
        await desktop.goto(f"{coach_url}?runner=%2B")
        row = desktop.locator(".runner", has_text=runner)
        await expect(row.locator(".status")).to_have_text("offline")
        await row.locator("a").click()
        await expect(desktop.locator("#title")).to_have_text(runner)
        await expect(desktop).to_have_url(re.compile(rf"\?runner={runner}$"))


@pytest.fixture(params=["mosquitto", "amqtt"])
def page_broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BrokerSettings | None]:
    """Mosquitto with a WebSocket listener, or None: the service starts an embedded broker (as the demo)."""
    if request.param == "amqtt":
        yield None
        return
    with websocket_mosquitto(tmp_path) as settings:
        yield settings


async def test_a_service_stops_promptly_while_its_cockpit_page_stays_open(
    browser: Browser,
    page_broker: BrokerSettings | None,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = Config(
        runner_id="open-page",
        broker=page_broker,
        data_dir=tmp_path / "data",
        record=False,
        web=WebAddress(port=0),
    )
    page_open = asyncio.Event()

    async def live(recording: ReplaySource) -> AsyncIterator[Record]:
        # Once the page listens: the recording, then a sensor with nothing to say (only stop() ends it).
        await page_open.wait()
        async for record in recording:
            yield record
        await asyncio.Event().wait()

    service = Service(HeldOpen(live), config)
    async with asyncio.timeout(HANG_GUARD_S):
        async with service:
            run = asyncio.create_task(service.run())
            assert service.cockpit_url is not None
            page = await _open(browser, service.cockpit_url, DESKTOP)
            await expect(page.locator("#chip-runner")).to_have_text("runner online")
            page_open.set()
            await expect(page.locator("#chip-sensor")).to_have_text("sensor streaming")
            service.stop()
            await run
        # Leaving the block (last words, page server, broker) with the page open: a hang fails here.
    # The embedded broker stopped by itself, not by giving up on the page at its bound (it warns then).
    assert not [r for r in caplog.records if r.name == broker_log.name], caplog.text

    # The page heard the service's last words and its run's end; an embedded broker went with the service.
    await expect(page.locator("#chip-runner")).to_have_text("runner offline")
    await expect(page.locator("#chip-sensor")).to_have_text("run ended")
    gone = re.compile("broker unreachable|broker: reconnecting")
    await expect(page.locator("#chip-broker")).to_have_text("broker connected" if page_broker else gone)
    if page_broker is not None:  # Mosquitto outlives the service: its retained status says offline
        status = await collect(page_broker, "spinesense/v1/open-page/status", until=1)
        assert [m.payload for m in status] == [b"offline"]
