"""`--log-format json`: what a log collector reads on stderr is one JSON object per line, errors included."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conftest import REPO_ROOT
from spinesense.capture import read_capture
from spinesense.cli.logformat import JsonFormatter, TextFormatter
from spinesense.logs import NOTICE_LOGGER, STATUS_LOGGER, current_runner, runner_scope

if TYPE_CHECKING:
    from spinesense.testing import Mosquitto

RUN = REPO_ROOT / "replay_data" / "alcantara" / "shimmer_sacral_run.jsonl.gz"  # 5.8 s of running


def _spinesense(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spinesense", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _records(stderr: str) -> list[dict[str, Any]]:
    """Every stderr line as JSON (fails the test on the first line that is not)."""
    records = [json.loads(line) for line in stderr.splitlines()]
    for record in records:
        assert {"time", "level", "logger", "message"} <= record.keys(), record
    return records


def test_run_in_json_format_writes_only_json_records_on_stderr(mosquitto: Mosquitto, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[runner]\nid = "jo"\n[broker]\nurl = "mqtt://127.0.0.1:{mosquitto.port}"\n')
    proc = _spinesense(
        "--log-format", "json", "run", "--replay", str(RUN), "--speed", "20",
        "--config", str(config), "--data-dir", str(tmp_path / "captures"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    records = _records(proc.stderr)
    status = {k: v for r in records if r["logger"] == STATUS_LOGGER for k, v in r.items()}
    assert status["runner"] == "jo"
    assert status["broker"].endswith(str(mosquitto.port))
    # The totals record counts what stdout showed, one line per stride.
    assert status["strides"] == sum(line.startswith("stride ") for line in proc.stdout.splitlines()) >= 4
    capture = Path(status["capture"])
    assert capture.parent == tmp_path / "captures"
    assert sum(1 for _ in read_capture(capture).records()) > 50


def test_an_error_is_one_json_record_with_its_exit_code_when_chosen_by_environment(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    proc = _spinesense("info", str(missing), env={"SPINESENSE_LOG_FORMAT": "json"})
    assert proc.returncode == 1
    [record] = _records(proc.stderr)
    assert record["level"] == "error"
    assert record["logger"] == "spinesense.info"
    assert record["exit_code"] == 1
    assert str(missing) in record["message"]


def test_an_unknown_log_format_in_the_environment_is_a_usage_error_naming_the_variable() -> None:
    proc = _spinesense("info", "x", env={"SPINESENSE_LOG_FORMAT": "xml"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "spinesense: SPINESENSE_LOG_FORMAT='xml': expected one of text, json"
    ]


def _record(name: str, msg: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(name, logging.WARNING, __file__, 1, msg, None, None)
    record.__dict__.update(extra)
    return record


def test_json_records_keep_extras_and_tracebacks_and_survive_values_json_cannot_hold() -> None:
    try:
        raise ValueError("bad frame")  # noqa: TRY301 - a real traceback to format
    except ValueError:
        record = _record("spinesense.capture", "frame %d rejected", path=Path("captures/c.jsonl"))
        record.args = (7,)
        record.exc_info = sys.exc_info()
    out = JsonFormatter().format(record)
    assert "\n" not in out
    entry = json.loads(out)
    assert entry["message"] == "frame 7 rejected"
    assert entry["level"] == "warning"
    assert entry["path"] == "captures/c.jsonl"
    assert "ValueError: bad frame" in entry["exception"]


def test_text_format_shows_status_lines_bare_and_library_messages_with_their_source() -> None:
    text = TextFormatter()
    assert text.format(_record(STATUS_LOGGER, "capture written to x")) == "capture written to x"
    assert text.format(_record("spinesense.capture", "torn line")) == "WARNING spinesense.capture: torn line"


def test_inside_a_runner_scope_every_line_names_its_runner_and_outside_none_does() -> None:
    text, as_json = TextFormatter(), JsonFormatter()
    note = _record(NOTICE_LOGGER, "forward direction found from braking")
    line = _record(STATUS_LOGGER, "5 strides")
    library = _record("spinesense.sources.ble_link", "sensor link down (%s)")
    library.args = ("gone",)
    with runner_scope("ana"):
        assert text.format(note) == "note: [ana] forward direction found from braking"
        assert text.format(line) == "[ana] 5 strides"
        assert text.format(library) == "WARNING spinesense.sources.ble_link: [ana] sensor link down (gone)"
        entry = json.loads(as_json.format(note))
        assert (entry["runner"], entry["message"]) == ("ana", "forward direction found from braking")
        assert current_runner() == "ana"
    # A single runner's `run` has no scope: its lines are as they always were.
    assert current_runner() is None
    assert text.format(note) == "note: forward direction found from braking"
    assert text.format(line) == "5 strides"
    assert "runner" not in json.loads(as_json.format(note))
