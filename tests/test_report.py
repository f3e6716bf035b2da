"""The post-run report, checked the way a person sees it: rendered by Chromium (Playwright), at phone and
desktop width, with screenshots left in test-artifacts/ for people to look at."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conftest import REPLAY_DATA
from spinesense.alerts import AlertConfig
from spinesense.cli import main
from spinesense.cli.commands import EXIT_OK, EXIT_USAGE
from test_history import dated_copy
from test_service import _leaning_capture

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.slow  # end to end (a real browser): `scripts/test --quick` skips it

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
"""Screenshots for people to look at (gitignored)."""
DEMO_SPEED = "0:00=3.5,5:00=4.5,6:30=3.5,9:00=2.5"
"""The demo run's treadmill speeds (replay_data/README.md)."""
RBDS0041_SPEED = "0:00=2.5,0:40=3.5,1:10=4.5"
"""RBDS0041's trials: 2.5, 3.5 then 4.5 m/s (replay_data/fukuchi/RBDS0041_truth.json)."""


def _report(out: Path, *args: str) -> Path:
    assert main(["report", *args, "-o", str(out)]) == EXIT_OK
    return out


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Four runs: a lean alert with a learned baseline, a short run without one, speed steps, the demo."""
    folder = tmp_path_factory.mktemp("report")
    capture = folder / "leaning.jsonl"
    _leaning_capture(capture)
    fast = folder / "fast.toml"
    fast.write_text("[thresholds]\nwarmup_s = 5.0\nbaseline_s = 15.0\n")
    rbds0041 = str(REPLAY_DATA / "fukuchi" / "RBDS0041.jsonl.gz")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPINESENSE_DATA_DIR", str(folder / "data"))  # an empty data dir: no run store
        return {
            "leaning": _report(folder / "leaning.html", str(capture), "--config", str(fast)),
            "short": _report(folder / "short.html", str(REPLAY_DATA / "fukuchi" / "RBDS032.jsonl.gz")),
            "steps": _report(folder / "steps.html", rbds0041, "--speed", RBDS0041_SPEED),
            "steps_unknown": _report(folder / "steps_unknown.html", rbds0041),
            "demo": _report(
                folder / "demo.html",
                str(REPLAY_DATA / "demo" / "fatigue_run.jsonl.gz"),
                "--speed",
                DEMO_SPEED,
            ),
        }


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; skipped when it is not installed (apt-get install chromium)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only the browser tests need it

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


def _open(browser: Browser, page_file: Path, width: int = 1280, height: int = 800) -> Page:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(page_file.as_uri())
    return page


def test_the_page_is_self_contained(reports: dict[str, Path]) -> None:
    page = reports["demo"].read_text()
    assert "<script" not in page
    assert not re.search(r"(src|href)=\"https?://", page)


def test_axes_have_time_ticks_units_and_a_grid(browser: Browser, reports: dict[str, Path]) -> None:
    page = _open(browser, reports["demo"])
    figure = page.locator("figure", has_text="Cadence (steps/min)")
    texts = figure.locator("svg text").all_text_contents()
    assert "time (min)" in texts
    assert "steps/min" in texts  # the unit on the y axis
    ticks = [int(t) for t in texts if t.isdigit()]
    assert {0, 2, 4, 6, 8, 10} <= set(ticks)  # minutes along x, and steps/min values along y
    assert figure.locator("svg [id^=xtick], svg [id^=ytick]").count() >= 8


def test_baseline_band_only_when_learned(browser: Browser, reports: dict[str, Path]) -> None:
    learned = _open(browser, reports["leaning"])
    assert learned.locator("svg [id^=baseline-band-trunk_lean_deg]").count() == 1
    assert "Green band: your baseline" in learned.inner_text("body")
    short = _open(browser, reports["short"])
    assert short.locator("svg [id^=baseline-band]").count() == 0
    text = short.inner_text("body")
    assert "No baseline band: no personal baseline was learned in this run" in text
    assert "no personal baseline" in text  # the reading says so too
    assert "against your own baseline" not in text


def test_absolute_limits_are_drawn_from_the_alert_config(browser: Browser, reports: dict[str, Path]) -> None:
    page = _open(browser, reports["demo"])
    texts = " ".join(page.locator("svg text").all_text_contents())
    limits = AlertConfig.default().rules
    assert f"limit: below {limits['low_cadence']['limit']:g} steps/min" in texts
    assert f"limit: above {limits['pelvic_drop']['limit']:g} °" in texts
    assert f"limit: above {limits['high_impact']['limit']:g} body weights" in texts


def test_alert_spans_are_labelled_raised_and_cleared(browser: Browser, reports: dict[str, Path]) -> None:
    page = _open(browser, reports["demo"])
    drop = page.locator("#chart-pelvic-drop svg")
    assert drop.locator("[id^=alert-pelvic_drop_right]").count() >= 1
    labels = drop.locator("text").all_text_contents()
    assert "right raised" in labels
    assert "cleared" in labels
    alerts = page.inner_text("#alerts")
    assert re.search(r"pelvic drop right: raised at \d+:\d\d,\s*cleared at \d+:\d\d", alerts)
    assert re.search(r"low cadence: raised at \d+:\d\d,\s*still active at the end", alerts)
    lean = _open(browser, reports["leaning"])
    assert "forward lean raised" in lean.locator("svg text").all_text_contents()


def test_pelvic_drop_per_side_and_balance(browser: Browser, reports: dict[str, Path]) -> None:
    page = _open(browser, reports["demo"])
    legend = page.locator("#chart-pelvic-drop svg text").all_text_contents()
    assert {"left stance", "right stance"} <= set(legend)
    balance = page.locator("#chart-balance svg text").all_text_contents()
    assert "contact time: left share" in balance
    assert "50 % = even" in balance


def test_speed_steps_are_not_read_as_fatigue(browser: Browser, reports: dict[str, Path]) -> None:
    known = _open(browser, reports["steps"]).inner_text("#reading")
    assert "Your speed changed (2.5, 3.5, 4.5 m/s)" in known
    assert "start and end are not compared" in known
    assert "shorter at the end" not in known
    assert "tiring" not in known
    unknown = _open(browser, reports["steps_unknown"]).inner_text("#reading")
    assert "Speed unknown" in unknown
    assert "may come from the pace rather than from tiring" in unknown


def test_like_for_like_when_a_speed_comes_back(browser: Browser, reports: dict[str, Path]) -> None:
    """The demo runs 3.5 m/s twice but ends at 2.5 m/s: said, not compared."""
    page = _open(browser, reports["demo"])
    reading = page.inner_text("#reading")
    assert "the end was not run at a speed you ran earlier" in reading
    assert page.locator("#chart-speed svg").count() == 1


def test_the_run_date_is_shown_when_the_recording_has_it(browser: Browser, reports: dict[str, Path]) -> None:
    assert "Run on Thursday 01 January 2026" in _open(browser, reports["steps"]).inner_text(".date")
    assert "does not say when" in _open(browser, reports["leaning"]).inner_text(".date")


@pytest.mark.parametrize(("name", "width", "height"), [("phone", 360, 800), ("desktop", 1280, 800)])
def test_readable_at_phone_and_desktop_width(
    browser: Browser, reports: dict[str, Path], name: str, width: int, height: int
) -> None:
    page = _open(browser, reports["demo"], width, height)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"report-demo-{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    tick = page.locator("figure", has_text="Cadence").locator("svg text", has_text="time (min)")
    box = tick.bounding_box()
    assert box is not None
    assert box["height"] >= 11  # the axis labels stay legible (px on screen)
    body = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body >= 16


def test_without_o_it_writes_to_the_data_dir_not_beside_the_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = tmp_path / "card" / "leaning.jsonl"
    recording.parent.mkdir()
    _leaning_capture(recording)
    data = tmp_path / "data"
    monkeypatch.setenv("SPINESENSE_DATA_DIR", str(data))
    assert main(["report", str(recording)]) == EXIT_OK
    written = data / "reports" / "leaning.html"
    assert written.exists()
    assert f"wrote {written}" in capsys.readouterr().out
    assert list(recording.parent.iterdir()) == [recording]


def test_a_bad_speed_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    recording = str(REPLAY_DATA / "fukuchi" / "RBDS032.jsonl.gz")
    assert main(["report", recording, "--speed", "fast"]) == EXIT_USAGE
    assert "--speed: 'fast' is not SPEED or M:SS=SPEED" in capsys.readouterr().err


def test_without_a_run_store_the_4_weeks_section_says_why(browser: Browser, reports: dict[str, Path]) -> None:
    text = _open(browser, reports["steps"]).inner_text("#history")
    assert text.strip() == "Not compared with earlier runs: no run store yet (runs are saved at their end)."


def test_help_does_not_load_the_report_libraries() -> None:
    code = (
        "import sys\nfrom spinesense.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted({'matplotlib', 'jinja2'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_run_against_the_last_4_weeks_from_the_run_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three runs saved in the two weeks before RBDS0041 (dated 2026-01-01), then its report."""
    monkeypatch.setenv("SPINESENSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SPINESENSE_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    earlier = REPLAY_DATA / "fukuchi" / "RBDS032.jsonl.gz"
    for day in (dt.date(2025, 12, 19), dt.date(2025, 12, 23), dt.date(2025, 12, 28)):
        assert main(["import", str(dated_copy(earlier, tmp_path, day)), "--runner", "ana"]) == EXIT_OK
    capsys.readouterr()
    out = tmp_path / "today.html"
    rbds0041 = str(REPLAY_DATA / "fukuchi" / "RBDS0041.jsonl.gz")
    assert main(["report", rbds0041, "--runner", "ana", "-o", str(out)]) == EXIT_OK
    text = re.sub(r"<[^>]+>", "", out.read_text().split('id="history">')[1].split("</section>")[0])
    assert "Against your 3 runs of the 4 weeks before" in text
    assert re.search(r"cadence: \d+ steps/min today, \d+ steps/min usually", text)
    assert "Load of the 7 days up to this run: 1 run," in text  # 26 December to 1 January
    # 19 and 23 December: the 7 days before lie wholly within the history, so the change is given.
    assert "That is -50% on the 7 days before it." in text
    assert "needs 28 days of history (14 so far)" in text  # 19 December to 1 January
    other = tmp_path / "other.html"
    assert main(["report", rbds0041, "--runner", "bo", "-o", str(other)]) == EXIT_OK
    assert "No earlier runs in the last 4 weeks" in other.read_text()
