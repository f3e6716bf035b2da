"""The cockpit page's behaviour in a real browser, on messages a run cannot produce on demand.

The real Publisher sends real strides (from a recording, one metric changed) and alert events through
the embedded broker; the page must colour tiles against the baseline band, count the baseline down, and
speak each alert once per cooldown, with a tone where the browser has no speech.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from typing import TYPE_CHECKING

import aiomqtt
import pytest
from playwright.async_api import expect

from conftest import REPLAY_DATA
from fixtures_browser import SPEECH_STUB
from spinesense import analyse
from spinesense.alerts import AlertConfig
from spinesense.config import Config
from spinesense.models import Alert
from spinesense.publish import Publisher, embedded_broker
from spinesense.publish.topics import encode, stride_payload
from spinesense.service import Service
from spinesense.sources.replay import ReplaySource
from spinesense.store.load import LoadAlert, LoadStatus, Totals
from spinesense.web import WebAddress, page_config
from spinesense.web.server import cockpit_server

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from playwright.async_api import Browser, Page

    from spinesense.models import Stride
    from spinesense.publish import BrokerSettings

pytestmark = pytest.mark.slow  # end to end (a real browser): `scripts/test --quick` skips it

RUNNER = "pat"
RECORDING = REPLAY_DATA / "fukuchi" / "RBDS032.jsonl.gz"
CUE_STUBS = """
window.__vibrations = 0;
navigator.vibrate = () => { window.__vibrations += 1; return true; };
window.__tones = 0;
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) { window.__tones += 1; return start.apply(this, args); };
"""
"""Stand for the vibration motor and count the tones (headless Chromium has neither a motor nor speakers)."""
NO_SPEECH = "delete window.speechSynthesis; delete window.SpeechSynthesisUtterance;"
"""A browser without speech synthesis (some Android WebViews, Linux browsers without a speech engine)."""


async def test_a_page_opened_from_another_address_reaches_the_embedded_broker_there(browser: Browser) -> None:
    # 127.0.0.2 stands for the machine's network address as a phone sees it (loopback: nothing leaves).
    config = Config(runner_id=RUNNER, record=False, web=WebAddress("127.0.0.2", 0))
    async with Service(ReplaySource(RECORDING), config) as service:
        url, publisher = service.cockpit_url, service.publisher
        assert url is not None
        assert publisher is not None
        broker = publisher.settings
        assert url.startswith("http://127.0.0.2:")
        page = await browser.new_page()
        await page.goto(url)
        await expect(page.locator("#chip-broker")).to_have_text("broker connected")
        assert broker.websocket_url is not None
        ws_port = broker.websocket_url.rsplit(":", 1)[1]
        assert await page.evaluate("window.spinesense.client.options.hostname") == "127.0.0.2"
        assert await page.evaluate("String(window.spinesense.client.options.port)") == ws_port.strip("/")


def _running_strides() -> list[Stride]:
    """The running strides of a real recording."""
    return [s for s in analyse(RECORDING).strides if s.running]


def _lean(n: int) -> Alert:
    """A raised forward-lean alert, numbered so the page's showing it can be told apart."""
    return Alert(
        "forward_lean", "warning", "raised", f"Lean number {n}: run tall", {"value": 12.0}, n, n + 8, n
    )


@pytest.fixture
async def cockpit(browser: Browser) -> AsyncIterator[tuple[BrokerSettings, str]]:
    """The embedded broker and the cockpit page for RUNNER (default thresholds: cooldown 120 s)."""
    async with embedded_broker() as broker:
        page = page_config(broker, RUNNER, AlertConfig.default())
        async with cockpit_server(page, WebAddress()) as url:
            yield broker, url


async def _open(browser: Browser, url: str, *scripts: str) -> Page:
    """The cockpit with init scripts, connected, cues on."""
    page = await browser.new_page(viewport={"width": 360, "height": 800})
    for script in scripts:
        await page.add_init_script(script)
    await page.goto(url)
    await expect(page.locator("#chip-broker")).to_have_text("broker connected")
    await page.locator("#sound").click()
    return page


async def _show(publisher: Publisher, page: Page, alert: Alert) -> None:
    """Publish ``alert`` and the active list after it, as the service does; wait until the banner says it."""
    publisher.publish_alert(alert)
    publisher.publish_active([alert] if alert.state == "raised" else [])
    await expect(page.locator("#banner-text")).to_have_text(alert.message)


async def test_an_alert_is_spoken_and_felt_once_per_cooldown(
    browser: Browser, cockpit: tuple[BrokerSettings, str]
) -> None:
    broker, url = cockpit
    page = await _open(browser, url, SPEECH_STUB, CUE_STUBS)
    first, again = _lean(1), _lean(2)
    cleared = dataclasses.replace(first, state="cleared", message="Back to normal")
    side = dataclasses.replace(first, kind="side_lean", message="Leaning to the left")
    async with Publisher(broker, RUNNER) as publisher:
        for alert in (first, cleared, again):  # again: within the 120 s cooldown, shown but not spoken
            await _show(publisher, page, alert)
        await page.locator("#sound").click()
        await expect(page.locator("#sound")).to_have_text("Muted")
        await _show(publisher, page, side)
    assert await page.evaluate("window.__spoken") == [first.message, cleared.message]
    assert await page.evaluate("window.__vibrations") == 1


async def test_without_speech_synthesis_a_tone_plays(
    browser: Browser, cockpit: tuple[BrokerSettings, str]
) -> None:
    broker, url = cockpit
    page = await _open(browser, url, NO_SPEECH, CUE_STUBS)
    async with Publisher(broker, RUNNER) as publisher:
        await _show(publisher, page, _lean(1))
    assert await page.evaluate("window.__tones") == 1


async def test_tiles_are_coloured_against_the_learned_baseline_and_the_countdown_shows(
    browser: Browser, cockpit: tuple[BrokerSettings, str]
) -> None:
    broker, url = cockpit
    page = await _open(browser, url, SPEECH_STUB)
    strides = _running_strides()
    lean = page.locator("#tile-lean")
    topic = f"spinesense/v1/{RUNNER}/baseline"
    async with aiomqtt.Client(broker.host, broker.port) as client, Publisher(broker, RUNNER) as publisher:
        await client.publish(
            topic, json.dumps({"state": "learning", "seconds_left": 133}), qos=1, retain=True
        )
        # 2:13, counted down by the page on its own by at most 10 s until the service's next update.
        await expect(page.locator("#baseline")).to_have_text(
            re.compile(r"^learning your baseline: 2:(0[3-9]|1[0-3]) left$")
        )
        learned = {"state": "learned", "values": {"trunk_lean_deg": 3.0}}
        await client.publish(topic, json.dumps(learned), qos=1, retain=True)
        await expect(page.locator("#baseline")).to_have_text(re.compile(r"^baseline learned"))
        # Forward lean fires at baseline + 8° (defaults): 5° over is past half way, 9° over is past the limit.
        for lean_deg, state, words in (
            (4.0, "ok", "forward 4°"),
            (8.0, "watch", "forward 8°"),
            (12.0, "alert", "forward 12°"),
        ):
            for stride in strides[:8]:
                publisher.publish_stride(dataclasses.replace(stride, trunk_lean_deg=lean_deg))
            await expect(lean.locator(".number")).to_have_text(words)
            await expect(lean).to_have_attribute("data-state", state)
        # A tile without a rule has no colour of its own.
        await expect(page.locator("#tile-vo")).to_have_attribute("data-state", "plain")


async def test_the_training_load_reads_in_a_runners_words(
    browser: Browser, cockpit: tuple[BrokerSettings, str]
) -> None:
    broker, url = cockpit
    page = await _open(browser, url, SPEECH_STUB)
    week = Totals(runs=3, running_s=5400.0, steps=16000, impact_load_bw=41000.0, distance_km=15.2)
    rise = LoadAlert("acwr_high", "warning", "Load rose fast: ease off this week", {"acwr": 1.62})
    load = LoadStatus(dt.date(2026, 12, 5), week, Totals(runs=2), 35, 1.62, 0.45, [rise]).payload()
    shoes = {"name": "Pegasus", "km": 512.0, "limit_km": 800.0, "state": "warning"}
    load["shoes"] = {**shoes, "message": "512 km: think of new shoes", "wear_bw_per_100km": None}
    async with Publisher(broker, RUNNER) as publisher:
        publisher.publish_load(load)
    panel = page.locator("#load")
    await expect(panel).to_be_visible()
    await expect(panel).to_contain_text("3 runs · 1:30 h · 16000 steps · 15.2 km · impact 41.0 kBW")
    await expect(panel).to_contain_text("+45%")
    await expect(panel).to_contain_text("1.62 (rolling average 7 d / 28 d")
    await expect(panel).to_contain_text(rise.message)
    await expect(panel).to_contain_text("Pegasus: 512 of 800 km · 512 km: think of new shoes")
    await expect(panel).to_have_attribute("data-state", "watch")


async def test_a_page_opened_mid_run_counts_the_run_from_its_start(
    browser: Browser, cockpit: tuple[BrokerSettings, str]
) -> None:
    broker, url = cockpit
    page = await _open(browser, url, SPEECH_STUB)
    started_ms = 1_780_000_000_000
    stride = dataclasses.replace(_running_strides()[0], index=40)
    topic = f"spinesense/v1/{RUNNER}"
    async with aiomqtt.Client(broker.host, broker.port) as client:
        start = {"time_ms": started_ms, "state": "started", "gyroscope": True}
        await client.publish(f"{topic}/session", json.dumps(start), qos=1, retain=True)
        # The page opened a minute into the run: the 41st stride is the first it sees.
        await client.publish(f"{topic}/stride", encode(stride_payload(stride, started_ms + 61_000)), qos=1)
    run = page.locator("#tile-run")
    await expect(run.locator(".number")).to_have_text("1:01")
    await expect(run.locator(".detail")).to_have_text("41 strides")
