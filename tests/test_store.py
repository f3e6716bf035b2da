"""The run store on a real SQLite file and on PostgreSQL: round trip, idempotency, migrations, crashes."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from conftest import REPLAY_DATA
from fixtures_mqtt import lean_alert
from spinesense.processing.summary import session_summary
from spinesense.run import analyse
from spinesense.store import SCHEMA_VERSION, NewRun, RunStore, ShoeError, StoreError
from spinesense.store._shoes import wear_slope
from spinesense.store.session import capture_hash

if TYPE_CHECKING:
    from pathlib import Path

    from spinesense.models import Stride

CAPTURE = REPLAY_DATA / "fukuchi" / "RBDS032.jsonl.gz"


@pytest.fixture(scope="module")
def strides() -> list[Stride]:
    return analyse(CAPTURE).strides


def _run(strides: list[Stride], day: int = 2, runner: str = "ana", **extra: object) -> NewRun:
    fields: dict[str, object] = {
        "runner": runner,
        "start_utc": dt.datetime(2026, 11, day, 7, 0, tzinfo=dt.UTC),
        "strides": strides,
        "alerts": [lean_alert(3)],
        "summary": session_summary(strides),
        "sensor": "synthetic sacral IMU",
        "source": "test",
        "capture_hash": capture_hash(CAPTURE),
        "capture_path": str(CAPTURE),
        "distance_km": 1.5,
        "distance_source": "runner",
    }
    return NewRun(**{**fields, **extra})  # type: ignore[arg-type]


def test_a_run_comes_back_as_it_was_saved(store_url: str, strides: list[Stride]) -> None:
    with RunStore(store_url) as store:
        store.shoes.add("ana", "Pegasus", 100.0)
        result = store.save(_run(strides))
        assert result.created
        assert store.strides(result.run_id) == strides
        assert store.alerts(result.run_id) == [lean_alert(3)]
        [run] = store.runs("ana")
    assert run.start_utc == dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC)
    assert run.shoes == "Pegasus"
    assert run.figures.steps == 2 * len(strides)
    assert run.figures.impact_load_bw == pytest.approx(2 * sum(s.vgrf_peak_bw or 0 for s in strides))
    assert run.metric("cadence_spm") == session_summary(strides)["cadence_spm_median"]
    assert run.alerts_raised == 1


def test_the_same_capture_saved_twice_is_stored_once(store_url: str, strides: list[Stride]) -> None:
    with RunStore(store_url) as store:
        first = store.save(_run(strides))
        again = store.save(_run(strides, day=9))
        other_runner = store.save(_run(strides, runner="ben"))
        assert (again.created, again.run_id) == (False, first.run_id)
        assert other_runner.created
        assert len(store.runs("ana")) == 1
        with store.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM strides")).scalar() == 2 * len(strides)


def test_the_schema_is_migrated_once_and_a_newer_one_is_refused(store_url: str) -> None:
    RunStore(store_url).engine.dispose()
    with RunStore(store_url) as store, store.engine.begin() as connection:
        versions = connection.execute(sa.text("SELECT version FROM schema_version")).scalars().all()
        assert versions == list(range(1, SCHEMA_VERSION + 1))
        connection.execute(
            sa.text("INSERT INTO schema_version VALUES (:v, :t)"),
            {"v": SCHEMA_VERSION + 1, "t": dt.datetime.now(dt.UTC)},
        )
    with pytest.raises(StoreError, match="newer than this spinesense"):
        RunStore(store_url)


OPEN_ON_CUE = """
import sys
from spinesense.store import RunStore
print("ready", flush=True)
sys.stdin.readline()  # every process is released at once, to open the same new store together
RunStore(sys.argv[1]).engine.dispose()
print("opened", flush=True)
"""


def test_processes_opening_a_new_store_at_once_migrate_it_once(store_url: str) -> None:
    """``serve --processes K`` opens one store from K processes: none may fail on another's migration."""
    command = [sys.executable, "-c", OPEN_ON_CUE, store_url]
    openers = [
        subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    for opener in openers:
        assert opener.stdout is not None
        assert opener.stdout.readline() == "ready\n"
    for opener in openers:
        assert opener.stdin is not None
        opener.stdin.write("go\n")
        opener.stdin.flush()
    for opener in openers:
        out, err = opener.communicate(timeout=60)
        assert (opener.returncode, out) == (0, "opened\n"), err
    with RunStore(store_url) as store, store.engine.begin() as connection:
        versions = connection.execute(sa.text("SELECT version FROM schema_version")).scalars().all()
        assert sorted(versions) == list(range(1, SCHEMA_VERSION + 1))


def test_shoes_add_use_retire_and_their_distance(store_url: str, strides: list[Stride]) -> None:
    with RunStore(store_url) as store:
        store.shoes.add("ana", "Pegasus", 495.0)
        store.shoes.add("ana", "Nova")
        with pytest.raises(ShoeError, match="already exist"):
            store.shoes.add("ana", "Nova")
        store.save(_run(strides, distance_km=10.0))
        store.shoes.use("ana", "Nova")
        store.save(_run(strides, day=3, capture_hash="b" * 64, distance_km=None, distance_source=None))
        pegasus, nova = store.shoes.list("ana")
        assert (pegasus.km, pegasus.runs, pegasus.state(800.0)) == (505.0, 1, "warning")
        assert pegasus.message(800.0) is not None
        assert pegasus.state(505.0) == "limit"
        assert (nova.in_use, nova.km, nova.runs_without_distance) == (True, 0.0, 1)
        store.shoes.retire("ana", "Pegasus")
        with pytest.raises(ShoeError, match="retired"):
            store.shoes.use("ana", "Pegasus")
        with pytest.raises(ShoeError, match="no shoes named"):
            store.shoes.use("ana", "Ghost")


def test_a_bad_url_or_an_unreachable_server_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="expected sqlite"):
        RunStore("mysql://nowhere/db")
    with pytest.raises(StoreError, match="store postgresql"):
        RunStore("postgresql://nobody@127.0.0.1:1/none")


CRASH = """
import datetime as dt, os, sys
import sqlalchemy as sa
from spinesense.store import NewRun, RunStore
from spinesense.store._schema import runs
store = RunStore(sys.argv[1])
start = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
store.save(NewRun("ana", start, [], [], {"duration_s": 60.0}, "s", "committed", "a" * 64))
connection = store.engine.connect()
transaction = connection.begin()
connection.execute(runs.insert().values(
    runner="ana", start_utc=start, duration_s=1.0, running_s=1.0, steps=2, impact_load_bw=5.0, sensor="s",
    source="torn", capture_hash="c" * 64, alerts_raised=0, summary={}))
print("inserted", flush=True)
os._exit(9)  # the process dies in the middle of the second run's transaction
"""


def test_a_crash_mid_save_keeps_every_committed_run_and_no_half_run(store_url: str) -> None:
    crashed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASH), store_url], capture_output=True, text=True, check=False
    )
    assert (crashed.returncode, crashed.stdout) == (9, "inserted\n"), crashed.stderr
    with RunStore(store_url) as store:
        assert [r.source for r in store.runs("ana")] == ["committed"]


def test_the_wear_signal_is_the_force_trend_over_the_distance_on_the_shoes() -> None:
    km = [40.0, 120.0, 200.0, 280.0]
    assert wear_slope(km, [2.40 + 0.001 * k for k in km]) == pytest.approx(0.1)  # BW per 100 km
    assert wear_slope([1.0, 2.0, 3.0], [2.4, 2.5, 2.6]) is None  # 2 km tell nothing of wear
    assert wear_slope(km[:2], [2.4, 2.5]) is None
