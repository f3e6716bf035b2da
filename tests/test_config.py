"""Configuration: file < environment < flags, errors that name the key, secrets never shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from spinesense.cli import main
from spinesense.cli.commands import EXIT_OK, EXIT_USAGE
from spinesense.config import ENV, SECTIONS, load_config, starter_file
from spinesense.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_flags_beat_environment_beat_file(tmp_path: Path) -> None:
    path = _file(
        tmp_path, '[runner]\nid = "from-file"\nbody_mass_kg = 70\n[broker]\nurl = "mqtt://file-host"\n'
    )
    assert load_config(path, env={}).runner_id == "from-file"
    env = {"SPINESENSE_RUNNER": "from-env", "SPINESENSE_BROKER_URL": "mqtt://env-host:1884"}
    config = load_config(path, env=env)
    assert (config.runner_id, config.broker and config.broker.host) == ("from-env", "env-host")
    config = load_config(path, env=env, runner="from-flag", broker="mqtts://flag-host")
    assert config.runner_id == "from-flag"
    assert config.broker is not None
    assert (config.broker.host, config.broker.port, config.broker.tls) == ("flag-host", 8883, True)
    assert config.body_mass_kg == 70.0
    assert config.origin["runner.id"] == "flag"
    assert config.origin["runner.body_mass_kg"] == "file"


def test_no_file_means_defaults_and_the_embedded_broker(tmp_path: Path) -> None:
    del tmp_path
    config = load_config(None, env={})  # no file at the default path on a fresh machine
    assert config.broker is None
    assert config.alerts.warmup_s == 180.0


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("[runer]\nid = 'x'\n", "runer", "unknown section"),
        ("[runner]\nname = 'x'\n", "runner.name", "unknown key"),
        ("[runner]\nbody_mass_kg = 7\n", "runner.body_mass_kg", "between 20 and 250"),
        ("[broker]\nurl = 'mqtt://u:secret@h'\n", "broker.url", "no password in the file"),
        ("[broker]\nurl = 'ftp://h'\n", "broker.url", "scheme"),
        ("[data]\nrecord = 'yes'\n", "data.record", "true or false"),
        ("[broker]\nurl = 'mqtt://h'\nflush_timeout_s = 0\n", "broker.flush_timeout_s", "between 0 and 600"),
        ("[store]\nurl = 'mysql://h/db'\n", "store.url", "sqlite:/// or postgresql://"),
        ("[shoes]\nlimit_km = 5\n", "shoes.limit_km", "between 100 and 5000 km"),
        ("[thresholds.forward_lean]\ndelta = -1\n", "thresholds.forward_lean.delta", "zero or positive"),
        ("[runner\n", "config", "not valid TOML"),
    ],
)
def test_a_bad_file_names_the_key_and_the_reason(tmp_path: Path, text: str, key: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason) as info:
        load_config(_file(tmp_path, text), env={})
    assert info.value.key == key


def test_the_password_comes_from_env_or_file_and_is_never_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pw").write_text("file-secret\n")
    path = _file(tmp_path, '[broker]\nurl = "mqtts://alice@h"\npassword_file = "pw"\n')
    config = load_config(path, env={})
    assert config.broker is not None
    assert config.broker.password == "file-secret"
    from_env = load_config(path, env={"SPINESENSE_BROKER_PASSWORD": "env-secret"}).broker
    assert from_env is not None
    assert from_env.password == "env-secret"
    monkeypatch.setenv("SPINESENSE_BROKER_PASSWORD", "env-secret")
    assert main(["config", "show", "--config", str(path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "secret" not in out
    assert "mqtts://alice:***@h:8883" in out


def _shown(capsys: pytest.CaptureFixture[str], path: Path) -> dict[str, tuple[str, str]]:
    """`config show`: key -> (value, origin)."""
    assert main(["config", "show", "--config", str(path)]) == EXIT_OK
    lines = capsys.readouterr().out.split("\n\n")[0].splitlines()
    return {
        key: (rest.rsplit("  (", 1)[0].strip(), rest.rsplit("(", 1)[1].rstrip(")"))
        for key, rest in (line.split(" ", 1) for line in lines)
    }


def test_show_names_every_key_of_the_file_with_its_origin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ENV:  # the tests' own SPINESENSE_DATA_DIR among them
        monkeypatch.delenv(variable, raising=False)
    for name in ("pw", "ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_text("file-secret\n")
    broker = {
        "url": '"mqtts://alice@h"',
        "password_file": '"pw"',
        "ca_file": '"ca.pem"',
        "cert_file": '"client.pem"',
        "key_file": '"client.key"',
        "websocket_url": '"wss://h:9443/mqtt"',
        "flush_timeout_s": "2.5",
    }
    text = (
        '[runner]\nid = "ana"\nbody_mass_kg = 60\nbaseline = { cadence_spm = 170 }\n[sensor]\nname = "S"\n'
        '[data]\ndir = "d"\nrecord = false\n[web]\nlisten = 8081\n[store]\nurl = "sqlite:///r.sqlite"\n'
        "[shoes]\nlimit_km = 700\n[thresholds]\nwarmup_s = 60\n[broker]\n"
        + "".join(f"{k} = {v}\n" for k, v in broker.items())
    )
    shown = _shown(capsys, _file(tmp_path, text))
    # Every key the file may hold is shown (thresholds as a whole), every key shown is one it may hold (or
    # the password), and each one set in the file says so.
    keys = {f"{section}.{key}" for section, names in SECTIONS.items() for key in names} | {"thresholds"}
    assert keys <= set(shown) <= keys | {"broker.password"}
    assert {key: origin for key, (_, origin) in shown.items() if origin != "file"} == {}
    assert {k: shown[f"broker.{k}"] for k in broker} == {
        "url": ("mqtts://alice:***@h:8883", "file"),
        "password_file": (str(tmp_path / "pw"), "file"),
        "ca_file": (str(tmp_path / "ca.pem"), "file"),
        "cert_file": (str(tmp_path / "client.pem"), "file"),
        "key_file": (str(tmp_path / "client.key"), "file"),
        "websocket_url": ("wss://h:9443/mqtt", "file"),
        "flush_timeout_s": ("2.5", "file"),
    }
    assert shown["broker.password"] == ("(set, not shown)", "file")
    monkeypatch.setenv("SPINESENSE_BROKER_PASSWORD", "env-secret")
    assert _shown(capsys, tmp_path / "config.toml")["broker.password"] == ("(set, not shown)", "env")
    # Without them: the defaults, and no password.
    shown = _shown(capsys, _file(tmp_path, '[broker]\nurl = "mqtt://h"\n'))
    assert shown["broker.flush_timeout_s"] == ("10", "default")
    assert shown["broker.websocket_url"] == ("ws://h:9001/", "default")
    assert shown["broker.key_file"] == ("None", "default")
    assert shown["broker.password"] == ("(set, not shown)", "env")
    monkeypatch.delenv("SPINESENSE_BROKER_PASSWORD")
    assert _shown(capsys, tmp_path / "config.toml")["broker.password"] == ("(none)", "default")


def test_init_writes_a_starter_that_checks_and_bad_values_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "new" / "config.toml"
    assert main(["config", "init", str(path)]) == EXIT_OK
    assert path.read_text() == starter_file()
    assert main(["config", "check", "--config", str(path)]) == EXIT_OK
    assert main(["config", "init", str(path)]) == EXIT_USAGE  # no silent overwrite
    path.write_text(path.read_text().replace('id = "runner"', 'id = "two words"'))
    assert main(["config", "check", "--config", str(path)]) == EXIT_USAGE
    assert "runner.id" in capsys.readouterr().err
