"""Done-when of the run store: three weeks of replayed captures given dates, then `spinesense history`.

Weeks 1 and 2 hold the same two runs (Mon, Thu); week 3 holds each of them twice, so its load is
exactly double: the weekly-rise alert must fire there and nowhere before.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import io
import json
from typing import TYPE_CHECKING

import pytest

from conftest import REPLAY_DATA
from fixtures_store import sqlite_or_postgres
from spinesense.cli import main
from spinesense.store._records import RunFigures, StoredRun
from spinesense.store.load import ACWR_LIMIT, load_status, weeks

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

RUNS = {
    "r41": REPLAY_DATA / "fukuchi" / "RBDS0041.jsonl.gz",
    "r32": REPLAY_DATA / "fukuchi" / "RBDS032.jsonl.gz",
}
MONDAY = dt.date(2026, 11, 2)
PLAN = [(0, "r41"), (3, "r32"), (7, "r41"), (10, "r32"), (14, "r41"), (15, "r41"), (17, "r32"), (18, "r32")]
"""(day after MONDAY, capture): the two running captures (Mon, Thu) for two weeks, then each twice."""


def dated_copy(source: Path, folder: Path, day: dt.date) -> Path:
    """The capture with the run's date in its header (the date is the only change)."""
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        header, rest = handle.readline(), handle.read()
    fields = json.loads(header)
    fields["start_utc"] = f"{day.isoformat()}T07:00:00Z"
    out = folder / f"{day.isoformat()}-{source.name}"
    with gzip.open(out, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(fields) + "\n" + rest)
    return out


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def history(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, object], str, str]]:
    """Import the plan into a fresh store; return history --json, history's table, and the imports' lines."""
    folder = tmp_path_factory.mktemp("week")
    common = ["--runner", "ana"]
    with pytest.MonkeyPatch.context() as patch, sqlite_or_postgres(request.param, folder) as url:
        patch.setenv("SPINESENSE_STORE_URL", url)
        patch.setenv("SPINESENSE_DATA_DIR", str(folder / "data"))
        patch.setenv("SPINESENSE_CONFIG", str(folder / "none.toml"))
        (folder / "none.toml").write_text("")
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            assert main(["shoes", "add", "Pegasus", "--km", "499.0", *common]) == 0
            for offset, name in PLAN:
                copy = dated_copy(RUNS[name], folder, MONDAY + dt.timedelta(days=offset))
                assert main(["import", str(copy), *common]) == 0
            assert main(["import", str(copy), *common]) == 0  # the same capture again: stored once
        imports = err.getvalue()
        table = io.StringIO()
        with contextlib.redirect_stdout(table):
            assert main(["history", *common]) == 0
        as_json = io.StringIO()
        with contextlib.redirect_stdout(as_json):
            assert main(["history", "--json", *common]) == 0
        yield json.loads(as_json.getvalue()), table.getvalue(), imports


def test_every_run_is_listed_with_its_shoes_and_distance(history: tuple[dict[str, object], str, str]) -> None:
    data, table, imports = history
    runs = data["runs"]
    assert isinstance(runs, list)
    assert len(runs) == len(PLAN)
    assert "already in the store as run 8" in imports
    assert [r["start_utc"][:10] for r in runs] == [
        (MONDAY + dt.timedelta(days=d)).isoformat() for d, _ in PLAN
    ]
    assert all(r["shoes"] == "Pegasus" and r["distance_source"] == "estimate" for r in runs)
    assert all(r["steps"] > 50 and r["cadence_spm"] > 140 for r in runs)
    assert "Pegasus" in table
    assert "past 500 km" in imports  # the shoes crossed the warning distance during the three weeks


def test_the_week_that_doubles_the_load_raises_the_alert(history: tuple[dict[str, object], str, str]) -> None:
    data, table, imports = history
    runs, weekly = data["runs"], data["weeks"]
    assert isinstance(runs, list)
    assert isinstance(weekly, list)
    assert [w["runs"] for w in weekly] == [2, 2, 4]
    assert [w["change"] for w in weekly] == [None, 0.0, 1.0]
    assert weekly[2]["impact_load_bw"] == pytest.approx(2 * weekly[1]["impact_load_bw"], rel=1e-3)
    assert not any(r["load_alerts"] for r in runs[:4])  # steady weeks: no alert
    assert runs[-1]["load_alerts"] == ["weekly_rise"]
    assert runs[-1]["weekly_change"] == pytest.approx(1.0, abs=1e-3)
    assert "ALERT weekly_rise" in table
    assert "ALERT weekly_rise (warning): load up 100%" in imports
    load = data["load"]
    assert isinstance(load, dict)
    assert load["alerts"][0]["kind"] == "weekly_rise"


def _stored(day: dt.date, load_bw: float) -> StoredRun:
    start = dt.datetime.combine(day, dt.time(7), dt.UTC)
    return StoredRun(
        0, "ana", start, 1800.0, RunFigures(1800.0, 5000, load_bw), "", "", None, None, None, None, 0, {}
    )


def test_acwr_is_the_7_over_28_day_rolling_average_and_alerts_above_the_limit() -> None:
    steady = [
        _stored(MONDAY + dt.timedelta(days=d), 10_000.0) for d in range(0, 21, 2)
    ]  # 3 weeks, every 2nd day
    before = load_status(steady, MONDAY + dt.timedelta(days=20))
    assert before.acwr is None  # 21 days: not enough history for the chronic window
    heavy = [_stored(MONDAY + dt.timedelta(days=d), 10_000.0) for d in range(21, 28)]  # then every day
    status = load_status(steady + heavy, MONDAY + dt.timedelta(days=27))
    acute = 7 * 10_000.0 / 7
    chronic = (len(steady) + 7) * 10_000.0 / 28
    assert status.acwr is not None
    assert status.acwr == pytest.approx(acute / chronic, abs=1e-3)
    assert status.acwr > ACWR_LIMIT
    assert [a.kind for a in status.alerts] == ["acwr_high", "weekly_rise"]
    assert [w.totals.runs for w in weeks(steady + heavy)] == [4, 3, 4, 7]


def test_no_weekly_change_against_days_before_the_first_run() -> None:
    """A week after the first run, the 7 days before are mostly before the history: unknown, not empty."""
    runs = [_stored(MONDAY, 10_000.0), _stored(MONDAY + dt.timedelta(days=3), 5_000.0)]
    runs.append(_stored(MONDAY + dt.timedelta(days=7), 10_000.0))
    assert load_status(runs, MONDAY + dt.timedelta(days=7)).weekly_change is None  # 8 days of history
    runs.append(_stored(MONDAY + dt.timedelta(days=13), 20_000.0))
    status = load_status(runs, MONDAY + dt.timedelta(days=13))  # 14 days: both weeks known
    assert status.weekly_change == pytest.approx(30_000.0 / 15_000.0 - 1.0, abs=1e-3)
    assert [a.kind for a in status.alerts] == ["weekly_rise"]


def test_metric_trend_and_shoe_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--runner", "ida"]
    for offset in (0, 7):
        copy = dated_copy(RUNS["r32"], tmp_path, MONDAY + dt.timedelta(days=offset))
        assert main(["import", str(copy), "--distance-km", "8", *common]) == 0
    capsys.readouterr()
    assert main(["history", "--metric", "cadence_spm", *common]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("cadence_spm per run")
    assert [line.split()[1] for line in lines[1:]] == ["2026-11-02", "2026-11-09"]
    assert main(["history", "--metric", "no_such_metric", *common]) == 2
    assert "no stored run has it" in capsys.readouterr().err
    assert main(["shoes", "add", "Nova", "--km", "790", *common]) == 0
    assert main(["shoes", "add", "Pegasus", *common]) == 0
    assert main(["shoes", "use", "Ghost", *common]) == 2
    assert "no shoes named 'Ghost'" in capsys.readouterr().err
    copy = dated_copy(RUNS["r41"], tmp_path, MONDAY + dt.timedelta(days=8))
    assert main(["import", str(copy), "--distance-km", "12", *common]) == 0
    assert "ALERT shoes (critical): shoes 'Nova': 802 km, at the 800 km limit" in capsys.readouterr().err
    assert main(["shoes", "retire", "Nova", *common]) == 0
    assert main(["shoes", "list", *common]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()[2:-1]}
    assert rows == {"Nova": ["802.0", "1", "retired", "-"], "Pegasus": ["0.0", "0", "ok", "-"]}
