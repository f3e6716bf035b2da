"""A real browser for the cockpit tests: Debian's Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from playwright.async_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
"""Screenshots the browser tests leave for people to look at (gitignored)."""

SPEECH_STUB = """
window.__spoken = [];
SpeechSynthesis.prototype.speak = function (utterance) { window.__spoken.push(utterance.text); };
"""
"""Stands for the speech engine, which headless Chromium lacks: records what the page asked it to say."""


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium; skip the test when /usr/bin/chromium is absent (.ci/run installs it)."""
    if not HAVE_CHROMIUM:
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does)")
    from playwright.async_api import async_playwright  # noqa: PLC0415 - only the browser tests need it

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()
