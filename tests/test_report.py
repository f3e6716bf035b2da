"""The post-run report, checked the way a person sees it: rendered by headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image

from spinesense.cli import main
from spinesense.cli.commands import EXIT_OK
from test_service import _leaning_capture

if TYPE_CHECKING:
    from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    capture = folder / "leaning.jsonl"
    _leaning_capture(capture)
    config = folder / "config.toml"
    config.write_text("[thresholds]\nwarmup_s = 5.0\nbaseline_s = 15.0\n")
    out = folder / "run.html"
    assert main(["report", str(capture), "-o", str(out), "--config", str(config)]) == EXIT_OK
    return out


def _chromium(*args: str) -> subprocess.CompletedProcess[bytes]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium)")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args]
    return subprocess.run(cmd, capture_output=True, check=True, timeout=120)


def test_the_page_is_self_contained(report: Path) -> None:
    page = report.read_text()
    assert "<script" not in page
    assert "http://" not in page
    assert "https://" not in page


def test_a_person_sees_the_reading_the_alert_and_the_numbers(report: Path) -> None:
    dom = _chromium("--dump-dom", report.as_uri()).stdout.decode()
    assert "Your run in brief" in dom
    assert "1 alert during the run: forward lean." in dom
    assert "You leaned 1" in dom  # "You leaned 1x° more forward at the end than at the start."
    assert "run tall" in dom
    assert dom.count("<svg") >= 6  # time series and per-side plots
    assert "Pelvic tilt range: not measured in this run." in dom  # no gyroscope: said, not drawn


def test_the_plots_are_drawn_with_the_alert_marked(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    _chromium(f"--screenshot={shot}", "--window-size=900,2600", report.as_uri())
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    blue = (
        (abs(pixels[..., 0] - 0x1F) < 30)
        & (abs(pixels[..., 1] - 0x6F) < 30)
        & (abs(pixels[..., 2] - 0xB2) < 30)
    )
    red = (pixels[..., 0] > 190) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)
    assert blue.sum() > 2000, "metric lines not drawn"
    assert red.sum() > 100, "alert markers not drawn"
    rows_with_lines = np.flatnonzero(blue.any(axis=1))
    assert np.ptp(rows_with_lines) > 600  # several plots down the page, not one
