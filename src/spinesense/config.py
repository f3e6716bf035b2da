"""Configuration: one TOML file, then environment variables, then command-line flags.

Each overrides the one before. Every problem is a ConfigError naming the key and the reason
(docs/configuration.md).
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from spinesense.alerts import AlertConfig, RunnerProfile, check_baseline
from spinesense.alerts.config import default_toml
from spinesense.errors import ConfigError
from spinesense.publish.settings import DEFAULT_FLUSH_TIMEOUT_S, BrokerSettings
from spinesense.web.address import WebAddress
from spinesense.web.page import websocket_url

if TYPE_CHECKING:
    from collections.abc import Mapping

log = logging.getLogger(__name__)

DEFAULT_PATH = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "spinesense" / "config.toml"
DEFAULT_DATA_DIR = (
    Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "spinesense" / "captures"
)
STORE_SCHEMES = ("sqlite:///", "sqlite+pysqlite:///", "postgresql://", "postgresql+psycopg://")
"""The databases the run store works with."""
DEFAULT_SHOE_LIMIT_KM = 800.0
"""The high end of the usual 500-800 km replacement range of running shoes."""
RUNNER_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

ENV = {
    "SPINESENSE_CONFIG": "config file path",
    "SPINESENSE_RUNNER": "runner.id",
    "SPINESENSE_BODY_MASS_KG": "runner.body_mass_kg",
    "SPINESENSE_SENSOR": "sensor.name",
    "SPINESENSE_BROKER_URL": "broker.url",
    "SPINESENSE_BROKER_PASSWORD": "broker.password (never written to a file)",
    "SPINESENSE_DATA_DIR": "data.dir",
    "SPINESENSE_STORE_URL": "store.url",
    "SPINESENSE_LOG_FORMAT": "stderr format, text or json (the global --log-format wins)",
}
"""Environment variables and the key each one sets."""
TOOL_ENV = {
    "SPINESENSE_DATASETS": "the reference datasets, for the tests and benchmarks",
    "SPINESENSE_CACHE": "where benchmarks keep what they generate",
    "SPINESENSE_TEST_POSTGRES": "the PostgreSQL server the store tests create their databases on",
    "SPINESENSE_MQTT_HOST": "the Node-RED flow's broker host (docs/dashboards.md)",
    "SPINESENSE_MQTT_PORT": "the Node-RED flow's broker port",
    "SPINESENSE_MQTT_USER": "the Node-RED flow's broker user",
    "SPINESENSE_MQTT_PASSWORD": "the Node-RED flow's broker password",
}
"""Variables of the tests, benchmarks and the shipped dashboards: allowed, but no configuration key."""
TLS_FILES = ("ca_file", "cert_file", "key_file")
"""The ``[broker]`` keys naming TLS files, in ``BrokerSettings.with_tls_files``' order."""

SECTIONS: dict[str, set[str]] = {
    "runner": {"id", "body_mass_kg", "baseline"},
    "sensor": {"name"},
    "broker": {
        "url",
        "password_file",
        "ca_file",
        "cert_file",
        "key_file",
        "websocket_url",
        "flush_timeout_s",
    },
    "data": {"dir", "record"},
    "web": {"listen"},
    "store": {"url"},
    "shoes": {"limit_km"},
    "thresholds": set(),  # validated by alerts.AlertConfig
}


@dataclass(frozen=True)
class Config:
    """The effective configuration and where each value came from."""

    runner_id: str = "runner"
    body_mass_kg: float | None = None
    baseline: dict[str, float] | None = None
    sensor: str | None = None
    broker: BrokerSettings | None = None
    """None: the embedded broker (the zero-setup default)."""
    broker_password_file: Path | None = None
    """The file of the broker password (``broker.password_file``); the environment's password wins."""
    unused_broker_keys: tuple[str, ...] = ()
    """``[broker]`` keys given without a broker URL: the embedded broker has no use for them (a service
    that publishes says so; a command that does not, ``report`` or ``config show``, needs no URL)."""
    data_dir: Path = DEFAULT_DATA_DIR
    record: bool = True
    web: WebAddress | None = None
    """Where to serve the cockpit page (docs/cockpit.md); None: not served."""
    store_url: str | None = None
    """The run store's database URL; None: the SQLite file ``runs.sqlite`` in ``data_dir``."""
    shoe_limit_km: float = DEFAULT_SHOE_LIMIT_KM
    distance_km: float | None = None
    """This run's distance as the runner gives it (--distance-km)."""
    watch_file: Path | None = None
    """The watch's FIT/GPX/TCX recording of this run (--watch)."""
    alerts: AlertConfig = field(default_factory=AlertConfig.default)
    origin: dict[str, str] = field(default_factory=dict)
    """Key -> "default", "file", "env" or "flag"."""

    @property
    def profile(self) -> RunnerProfile:
        """The runner profile for the alert rules."""
        return RunnerProfile(body_mass_kg=self.body_mass_kg, baseline=self.baseline)

    def shown(self) -> dict[str, str]:
        """Every effective value as text, for `config show`: of the password only whether there is one."""
        broker = self.broker
        return {
            "runner.id": self.runner_id,
            "runner.body_mass_kg": str(self.body_mass_kg),
            "runner.baseline": str(self.baseline),
            "sensor.name": str(self.sensor),
            "broker.url": broker.display() if broker else "(embedded broker)",
            "broker.password": "(set, not shown)" if broker and broker.password is not None else "(none)",
            "broker.password_file": str(self.broker_password_file),
            "broker.ca_file": str(broker.ca_file if broker else None),
            "broker.cert_file": str(broker.cert_file if broker else None),
            "broker.key_file": str(broker.key_file if broker else None),
            "broker.websocket_url": websocket_url(broker) if broker else "(the embedded broker's)",
            "broker.flush_timeout_s": f"{broker.flush_timeout_s if broker else DEFAULT_FLUSH_TIMEOUT_S:g}",
            "data.dir": str(self.data_dir),
            "data.record": str(self.record).lower(),
            "web.listen": f"{self.web.host}:{self.web.port}" if self.web else "off",
            "store.url": self.store_url or f"(SQLite file in {self.data_dir})",
            "shoes.limit_km": f"{self.shoe_limit_km:g}",
            "thresholds": "defaults" if self.origin.get("thresholds") == "default" else "from file",
        }


def _parse_toml(path: Path) -> dict[str, Any]:
    """The file's TOML; ConfigError when it cannot be read, is not UTF-8 or not TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError("config", f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            "config", f"{path} is not UTF-8 text (byte {exc.start} is {exc.object[exc.start]:#04x})"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", f"{path} is not valid TOML: {exc}") from None


def _read_file(path: Path) -> dict[str, Any]:
    """The TOML file as a table; ConfigError for unreadable or unknown content."""
    table = _parse_toml(path)
    for section, value in table.items():
        if section not in SECTIONS:
            raise ConfigError(section, f"unknown section (known: {', '.join(sorted(SECTIONS))})")
        if not isinstance(value, dict):
            raise ConfigError(section, "must be a table ([section])")
        if section != "thresholds":
            for key in value:
                if key not in SECTIONS[section]:
                    raise ConfigError(
                        f"{section}.{key}", f"unknown key (known: {', '.join(sorted(SECTIONS[section]))})"
                    )
    url = table.get("broker", {}).get("url")
    if isinstance(url, str) and urlsplit(url).password:
        raise ConfigError(
            "broker.url", "no password in the file: use SPINESENSE_BROKER_PASSWORD or broker.password_file"
        )
    return table


def _mass(key: str, value: object) -> float:
    """A plausible body mass in kg."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(key, f"must be a number of kilograms, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 20 <= value <= 250:
        raise ConfigError(key, f"must be a body mass between 20 and 250 kg, got {value!r}")
    return float(value)


def _path(key: str, value: object, base: Path) -> Path:
    """A path from the file (relative to the file's folder, ~ expanded)."""
    if not isinstance(value, str) or not value:
        raise ConfigError(key, f"must be a path, got {value!r}")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _websocket_url(value: object) -> str:
    """A ``ws://`` or ``wss://`` URL for browsers (the cockpit page)."""
    if isinstance(value, str):
        parts = urlsplit(value)
        if parts.scheme in ("ws", "wss") and parts.hostname:
            return value
    raise ConfigError("broker.websocket_url", f"must be ws://host:port/ or wss://host:port/, got {value!r}")


def _check_env(env: Mapping[str, str]) -> None:
    """ConfigError for a ``SPINESENSE_*`` variable nobody reads: a typo must never fall back to defaults."""
    known = {*ENV, *TOOL_ENV}
    for name in sorted(env):
        if name.startswith("SPINESENSE_") and name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(sorted(ENV))}"
            raise ConfigError(name, f"unknown environment variable ({hint})")


def _runner_id(value: object) -> str:
    """A runner id usable as one MQTT topic level and one folder name."""
    if not isinstance(value, str) or not RUNNER_ID.match(value) or not value.strip("."):
        raise ConfigError(
            "runner.id", f"must be 1-64 letters, digits, '.', '_' or '-', not only dots, got {value!r}"
        )
    return value


def _web(listen: object) -> WebAddress | None:
    """Where to serve the cockpit: a port or ``"HOST:PORT"`` (None: not served)."""
    if listen is None:
        return None
    if isinstance(listen, bool) or not isinstance(listen, str | int):
        raise ConfigError("web.listen", f'must be a port or "HOST:PORT", got {listen!r}')
    return WebAddress.parse(str(listen))


def _limit_km(value: object) -> float:
    """A shoe distance limit in km."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 100 <= value <= 5000:
        raise ConfigError("shoes.limit_km", f"must be a distance between 100 and 5000 km, got {value!r}")
    return float(value)


def _flush_timeout_s(value: object) -> float:
    """How long a run's end waits for an unreachable broker, in seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 600:
        raise ConfigError("broker.flush_timeout_s", f"must be between 0 and 600 seconds, got {value!r}")
    return float(value)


def _store_url(value: object) -> str | None:
    """The run store's database URL, or None for the default SQLite file."""
    if value is None:
        return None
    if not str(value).startswith(STORE_SCHEMES):
        raise ConfigError("store.url", f"must start with sqlite:/// or postgresql://, got {value!r}")
    return str(value)


def _this_run(flags: Mapping[str, Any]) -> tuple[float | None, Path | None]:
    """This run's distance and watch file from the flags (``distance_km``, ``watch``)."""
    distance_km, watch = flags.get("distance_km"), flags.get("watch")
    if distance_km is not None and not 0 < distance_km <= 1000:
        raise ConfigError("--distance-km", f"must be a distance above 0 and up to 1000 km, got {distance_km}")
    return distance_km, None if watch is None else Path(watch)


def _broker(
    url: str, table: dict[str, Any], env: Mapping[str, str], base: Path, origin: dict[str, str]
) -> tuple[BrokerSettings, Path | None]:
    """The broker at ``url`` with its password (environment, else ``password_file``) and TLS files.

    Also the password file's path, for `config show`; where each broker key came from goes into ``origin``.
    """
    settings = BrokerSettings.from_url(url)
    tls_keys = [f"broker.{k}" for k in TLS_FILES if k in table]
    if tls_keys and not settings.tls:
        raise ConfigError(
            tls_keys[0],
            f"TLS files need an mqtts:// broker URL; {settings.display()} would run in plain text",
        )
    origin.update({f"broker.{k}": "file" for k in SECTIONS["broker"] - {"url"} if k in table})
    password = env.get("SPINESENSE_BROKER_PASSWORD")
    password_path = (
        _path("broker.password_file", table["password_file"], base) if "password_file" in table else None
    )
    if password is not None:
        origin["broker.password"] = "env"
    elif password_path is not None:
        try:
            password = password_path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                "broker.password_file", f"cannot read {password_path}: {exc.strerror}"
            ) from None
        origin["broker.password"] = "file"
    elif settings.password is not None:  # in the URL given by a flag or the environment
        origin["broker.password"] = origin["broker.url"]
    if password is not None:
        settings = replace(settings, password=password)
    if "websocket_url" in table:
        settings = replace(settings, websocket_url=_websocket_url(table["websocket_url"]))
    if "flush_timeout_s" in table:
        settings = replace(settings, flush_timeout_s=_flush_timeout_s(table["flush_timeout_s"]))
    settings = settings.with_tls_files(
        *(_path(f"broker.{k}", table[k], base) if k in table else None for k in TLS_FILES)
    )
    return settings, password_path


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None, **flags: Any) -> Config:  # noqa: ANN401
    """Build the effective configuration: defaults < file < environment < flags (None flags are unset)."""
    env = os.environ if env is None else env
    _check_env(env)
    origin: dict[str, str] = {}
    explicit = path is not None or "SPINESENSE_CONFIG" in env
    path = path or Path(env.get("SPINESENSE_CONFIG", DEFAULT_PATH))
    file: dict[str, Any] = {}
    if path.is_file():
        file = _read_file(path)
    elif explicit:
        raise ConfigError("config", f"{path}: no such file (create one with `spinesense config init`)")
    base = path.parent
    runner, broker, data = file.get("runner", {}), file.get("broker", {}), file.get("data", {})

    def pick(key: str, file_value: object, env_name: str | None, flag: object) -> object:
        for source, value in (
            ("flag", flag),
            ("env", env.get(env_name) if env_name else None),
            ("file", file_value),
        ):
            if value is not None:
                origin[key] = source
                return value
        origin[key] = "default"
        return None

    given_id = pick("runner.id", runner.get("id"), "SPINESENSE_RUNNER", flags.get("runner"))
    runner_id = _runner_id("runner" if given_id is None else given_id)
    mass = pick(
        "runner.body_mass_kg",
        runner.get("body_mass_kg"),
        "SPINESENSE_BODY_MASS_KG",
        flags.get("body_mass_kg"),
    )
    baseline = pick("runner.baseline", runner.get("baseline"), None, None)
    if baseline is not None:
        baseline = check_baseline(baseline)
    sensor = pick("sensor.name", file.get("sensor", {}).get("name"), "SPINESENSE_SENSOR", flags.get("sensor"))
    url = pick("broker.url", broker.get("url"), "SPINESENSE_BROKER_URL", flags.get("broker"))
    if origin["broker.url"] == "flag" and urlsplit(str(url)).password:
        log.warning(
            "the --broker URL holds a password, which other users of this machine see in `ps`: "
            "use SPINESENSE_BROKER_PASSWORD or broker.password_file"
        )
    if url is None:  # the embedded broker: the other [broker] keys have no use
        settings, password_path, unused = None, None, tuple(f"broker.{key}" for key in sorted(broker))
    else:
        settings, password_path = _broker(str(url), broker, env, base, origin)
        unused = ()
    data_dir = pick("data.dir", data.get("dir"), "SPINESENSE_DATA_DIR", flags.get("data_dir"))
    if not isinstance(data.get("record", True), bool):
        raise ConfigError("data.record", f"must be true or false, got {data['record']!r}")
    record = pick("data.record", data.get("record"), None, False if flags.get("no_record") else None)
    listen = pick("web.listen", file.get("web", {}).get("listen"), None, flags.get("web"))
    store_url = pick("store.url", file.get("store", {}).get("url"), "SPINESENSE_STORE_URL", None)
    limit_km = pick("shoes.limit_km", file.get("shoes", {}).get("limit_km"), None, None)
    distance_km, watch = _this_run(flags)
    thresholds = file.get("thresholds", {})
    origin["thresholds"] = "file" if thresholds else "default"
    return Config(
        runner_id=runner_id,
        body_mass_kg=None if mass is None else _mass("runner.body_mass_kg", mass),
        baseline=baseline or None,
        sensor=None if sensor is None else str(sensor),
        broker=settings,
        broker_password_file=password_path,
        unused_broker_keys=unused,
        # A path in the file is relative to the file; from a flag or the environment, to the current folder.
        data_dir=DEFAULT_DATA_DIR
        if data_dir is None
        else _path("data.dir", str(data_dir), base if origin["data.dir"] == "file" else Path.cwd()),
        record=record is not False,
        web=_web(listen),
        store_url=_store_url(store_url),
        shoe_limit_km=DEFAULT_SHOE_LIMIT_KM if limit_km is None else _limit_km(limit_km),
        distance_km=distance_km,
        watch_file=watch,
        alerts=AlertConfig.from_mapping(thresholds),
        origin=origin,
    )


STARTER = """# spinesense configuration (docs/configuration.md). Precedence: this file < environment < flags.

[runner]
id = "runner"              # MQTT topics: spinesense/v1/<id>/...; with Mosquitto's ACL, the MQTT user name
# body_mass_kg = 68.0      # optional
# [runner.baseline]        # optional: your baseline from earlier runs (else learned after the warm-up)
# trunk_lean_deg = 4.0

[sensor]
# name = "SpineSense-1A2B" # a name or a BLE address; default: the first reference sensor found

[broker]
# url = "mqtts://runner@broker.example:8883"   # default: the embedded broker on 127.0.0.1
# password_file = "broker.password"            # or SPINESENSE_BROKER_PASSWORD; never put it in the URL here
# ca_file = "ca.pem"
# cert_file = "client.pem"
# key_file = "client.key"
# flush_timeout_s = 10     # how long a run's end waits for a broker that is away (the outbox keeps the rest)

[data]
# dir = "~/.local/share/spinesense/captures"   # raw captures of every run
record = true

[web]
# listen = "8080"          # serve the cockpit page on http://127.0.0.1:8080/ during `run` (docs/cockpit.md)
[store]
# url = "postgresql://coach@db.example/spinesense"  # default: runs.sqlite in the data directory

[shoes]
# limit_km = 800           # alert when the shoes in use reach this distance (a warning from 500 km)

"""


def starter_file() -> str:
    """A commented starter configuration, with the alert thresholds and their reasons."""
    return STARTER + default_toml().split("\n\n", 1)[1]
