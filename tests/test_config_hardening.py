"""Configuration mistakes the audit made silently work (issue 17: 4, 6): each is now a clear error
naming the key (exit code 2), or a warning where the run can still be right."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest

from conftest import REPLAY_DATA
from spinesense.cli import main
from spinesense.cli.commands import EXIT_USAGE
from spinesense.config import load_config
from spinesense.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("[thresholds]\nmin_quality = 5\n", "thresholds.min_quality", "fraction between 0 and 1"),
        ("[thresholds.high_impact]\nratio = 0.5\n", "thresholds.high_impact.ratio", "must be above 1"),
        (
            "[thresholds.overstriding]\nbraking_ratio = 1\n",
            "thresholds.overstriding.braking_ratio",
            "above 1",
        ),
        ("[runner]\nid = '..'\n", "runner.id", "not only dots"),
        ("[runner]\nid = '.'\n", "runner.id", "not only dots"),
        ("[runner]\nid = ''\n", "runner.id", "1-64"),
        ("[broker]\nurl = 'mqtt://h'\nca_file = 'ca.pem'\n", "broker.ca_file", "need an mqtts://"),
    ],
)
def test_impossible_values_name_the_key(tmp_path: Path, text: str, key: str, reason: str) -> None:
    (tmp_path / "ca.pem").write_text("not read: refused before")
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=reason) as info:
        load_config(path, env={})
    assert info.value.key == key


@pytest.mark.parametrize("runner", ["", ".", ".."])
def test_empty_or_dot_runner_ids_from_a_flag_are_refused(runner: str) -> None:
    with pytest.raises(ConfigError, match=r"runner\.id"):
        load_config(None, env={}, runner=runner)


@pytest.mark.parametrize(
    ("name", "hint"),
    [("SPINESENSE_BROKER_ULR", "SPINESENSE_BROKER_URL"), ("SPINESENSE_RUNER", "SPINESENSE_RUNNER")],
)
def test_a_mistyped_environment_variable_is_an_error(name: str, hint: str) -> None:
    with pytest.raises(ConfigError, match=f"did you mean {hint}") as info:
        load_config(None, env={name: "x"})
    assert info.value.key == name


def test_a_config_file_that_is_not_utf8_is_an_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[runner]\nid = "J\xf6rg"\n')  # Latin-1
    assert main(["config", "check", "--config", str(path)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "not UTF-8" in err
    assert "Traceback" not in err


def test_a_password_in_the_broker_flag_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    config = load_config(None, env={}, broker="mqtt://alice:s3cret@h")
    assert config.broker is not None
    assert config.broker.password == "s3cret"  # still works
    assert "see in `ps`" in caplog.text
    assert "s3cret" not in caplog.text


def test_a_relative_data_dir_flag_is_relative_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    path = config_dir / "config.toml"
    path.write_text("[data]\ndir = 'captures'\n")
    monkeypatch.chdir(tmp_path)
    assert load_config(path, env={}).data_dir == config_dir / "captures"  # in the file: beside the file
    assert load_config(path, env={}, data_dir="mine").data_dir == tmp_path / "mine"
    assert load_config(path, env={"SPINESENSE_DATA_DIR": "env"}).data_dir == tmp_path / "env"


def test_broker_keys_without_a_url_are_warned_about_where_a_run_publishes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[broker]\nflush_timeout_s = 5\n")
    caplog.set_level(logging.WARNING)
    assert main(["config", "show", "--config", str(path)]) == 0  # needs no broker URL: nothing to say
    assert "no effect" not in caplog.text
    short = REPLAY_DATA / "alcantara" / "shimmer_sacral_run.jsonl.gz"
    command = ["run", "--replay", str(short), "--speed", "50", "--no-record", "--data-dir", str(tmp_path)]
    assert main([*command, "--config", str(path)]) == 0
    assert "broker.flush_timeout_s: no effect without a broker URL" in caplog.text
