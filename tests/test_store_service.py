"""The service's hook into the run store: a run is saved at its end and its load published, retained."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import TYPE_CHECKING

import jsonschema
import pytest

from conftest import REPLAY_DATA, REPO_ROOT
from fixtures_mqtt import collect
from spinesense.config import load_config
from spinesense.run import analyse
from spinesense.store import open_store
from spinesense.testing import Mosquitto

if TYPE_CHECKING:
    from pathlib import Path

CAPTURE = REPLAY_DATA / "fukuchi" / "RBDS032.jsonl.gz"
LOAD_SCHEMA = json.loads((REPO_ROOT / "docs" / "schemas" / "load.schema.json").read_text())


@pytest.mark.slow  # two whole runs end to end: `scripts/test --quick` skips it
def test_a_run_is_saved_at_its_end_and_its_load_published(mosquitto: Mosquitto, tmp_path: Path) -> None:
    broker = f"mqtt://127.0.0.1:{mosquitto.port}"
    data = tmp_path / "data"
    args = ["run", "--replay", str(CAPTURE), "--speed", "50", "--broker", broker, "--runner", "lou"]
    command = [sys.executable, "-m", "spinesense", *args, "--data-dir", str(data), "--distance-km", "7.5"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "no shoes in use" in done.stderr  # the load, shown at the start
    assert "saved as run 1 (runner 'lou')" in done.stderr
    messages = asyncio.run(collect(mosquitto.settings, "spinesense/v1/lou/load", until=1, wait_s=10))
    load = json.loads(messages[0].payload)
    jsonschema.validate(load, LOAD_SCHEMA)
    assert load["last_7_days"]["runs"] == 1
    assert load["last_7_days"]["distance_km"] == 7.5
    with open_store(load_config(data_dir=str(data), runner="lou")) as store:
        [run] = store.runs("lou")
        assert (run.distance_km, run.distance_source) == (7.5, "runner")
        assert len(store.strides(run.id)) == len(analyse(CAPTURE).strides)
    again = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert "already in the store as run 1" in again.stderr
