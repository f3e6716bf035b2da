"""The cockpit's server side: where it listens, what /config.json says, the page's files, the WebSockets."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import aiomqtt
import pytest

from conftest import REPLAY_DATA
from spinesense.alerts import AlertConfig
from spinesense.config import Config, load_config
from spinesense.errors import ConfigError
from spinesense.publish import BrokerSettings, embedded_broker
from spinesense.service import Service
from spinesense.sources.replay import ReplaySource
from spinesense.web import WebAddress, page_config, websocket_url
from spinesense.web.server import STATIC, cockpit_server

RECORDING = REPLAY_DATA / "fukuchi" / "RBDS032.jsonl.gz"
BROKER = BrokerSettings(host="127.0.0.1", port=1883, websocket_url="ws://127.0.0.1:9001/")


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("8080", "127.0.0.1", 8080),
        ("0.0.0.0:80", "0.0.0.0", 80),  # noqa: S104 - parsed, not bound
        ("[::1]:8080", "::1", 8080),
        ("0", "127.0.0.1", 0),
    ],
)
def test_a_listen_address_is_a_port_with_loopback_unless_a_host_is_given(
    text: str, host: str, port: int
) -> None:
    assert WebAddress.parse(text) == WebAddress(host, port)


@pytest.mark.parametrize("text", ["", "http", "host:", ":8080", "8080:x", "70000"])
def test_a_bad_listen_address_names_the_key(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^web\.listen: "):
        WebAddress.parse(text)


def test_web_listen_comes_from_the_file_and_the_flag_wins(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[web]\nlisten = 8080\n[broker]\nurl = "mqtt://b.example"\nwebsocket_url = "wss://b.example/mqtt"\n'
    )
    from_file = load_config(config, env={})
    assert from_file.web == WebAddress("127.0.0.1", 8080)
    assert from_file.origin["web.listen"] == "file"
    assert from_file.broker is not None
    assert websocket_url(from_file.broker) == "wss://b.example/mqtt"
    assert load_config(config, env={}, web="0.0.0.0:9000").web == WebAddress("0.0.0.0", 9000)  # noqa: S104
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    assert load_config(empty, env={}).web is None


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ("[web]\nlisten = true\n", "web.listen: must be a port"),
        ("[web]\nport = 8080\n", "web.port: unknown key"),
        (
            '[broker]\nurl = "mqtt://b"\nwebsocket_url = "http://b:9001"\n',
            "broker.websocket_url: must be ws://",
        ),
    ],
)
def test_bad_web_settings_name_the_key(tmp_path: Path, table: str, error: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(table)
    with pytest.raises(ConfigError, match=error):
        load_config(config, env={})


def test_a_configured_broker_without_a_websocket_url_is_assumed_where_the_shipped_mosquitto_listens() -> None:
    assert websocket_url(BrokerSettings.from_url("mqtt://broker.lan")) == "ws://broker.lan:9001/"
    assert websocket_url(BrokerSettings.from_url("mqtts://broker.lan")) == "wss://broker.lan:8884/"


def test_the_page_colours_tiles_by_the_rules_own_thresholds() -> None:
    alerts = AlertConfig.from_mapping({"pelvic_drop": {"limit": 7.0}, "cooldown_s": 60.0})
    page = page_config(BROKER, "alex", alerts)
    assert page.cooldown_s == 60.0
    assert page.limits["pelvic_drop_deg"] == [
        {
            "rule": "pelvic_drop",
            "direction": "above",
            "limit": 7.0,
            "delta": alerts.rules["pelvic_drop"]["delta"],
        }
    ]
    assert [r["direction"] for r in page.limits["trunk_lean_deg"]] == ["above", "below"]


async def test_the_server_gives_the_page_its_config_and_its_files() -> None:
    page = page_config(BROKER, "alex", AlertConfig.default())
    async with cockpit_server(page, WebAddress()) as url, aiohttp.ClientSession() as http:
        assert url.startswith("http://127.0.0.1:")
        async with http.get(url) as response:
            html = await response.text()
        assert 'src="static/vendor/mqtt.min.js"' in html
        assert 'src="static/cockpit.js"' in html
        async with http.get(f"{url}config.json") as response:
            assert await response.json() == page.to_json()
        async with http.get(f"{url}static/vendor/mqtt.min.js") as response:
            vendored = await response.read()
        versions = (STATIC / "vendor" / "VERSIONS").read_text()
        assert hashlib.sha256(vendored).hexdigest() in versions
        async with http.get(f"{url}static/../../config.py") as response:
            assert response.status in (403, 404)


async def test_a_taken_port_is_a_clear_error_unless_any_port_will_do() -> None:
    page = page_config(BROKER, "alex", AlertConfig.default())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(
            ConfigError, match=rf"web\.listen: cannot serve on 127\.0\.0\.1:{port}: the port is in use"
        ):
            async with cockpit_server(page, WebAddress(port=port)):
                pass
        async with cockpit_server(page, WebAddress(port=port, exact=False)) as url:
            assert url.startswith("http://127.0.0.1:")
            assert f":{port}/" not in url


async def test_the_embedded_broker_speaks_mqtt_over_websockets_to_browsers() -> None:
    async with embedded_broker() as settings:
        assert settings.websocket_url is not None
        ws_port = int(settings.websocket_url.rsplit(":", 1)[1].strip("/"))
        async with aiomqtt.Client("127.0.0.1", ws_port, transport="websockets") as browser:
            await browser.subscribe("spinesense/v1/alex/status", qos=1)
            async with aiomqtt.Client(settings.host, settings.port) as service:
                await service.publish("spinesense/v1/alex/status", b"online", qos=1, retain=True)
            message = await anext(browser.messages)
        assert message.payload == b"online"


async def test_the_service_serves_the_page_on_its_broker_until_it_shuts_down() -> None:
    config = Config(runner_id="alex", record=False, web=WebAddress())
    async with aiohttp.ClientSession() as http:
        async with Service(ReplaySource(RECORDING, None), config) as service:
            url, publisher = service.cockpit_url, service.publisher
            assert url is not None
            assert publisher is not None
            async with http.get(f"{url}config.json") as response:
                page = await response.json()
            assert page["runner"] == "alex"
            assert page["broker_ws_url"] == publisher.settings.websocket_url
            await service.run()
            async with http.get(url) as response:  # still served until the service shuts down
                assert response.status == 200
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(url)


def test_a_page_without_publishing_is_a_clear_error() -> None:
    config = Config(record=False, web=WebAddress())
    with pytest.raises(ValueError, match="reads the broker: serve it with publish=True"):
        Service(ReplaySource(RECORDING, None), config, publish=False)


def test_replay_with_web_publishes_and_says_where_the_page_is_first(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "spinesense", "replay", str(RECORDING)),
            *("--web", "0", "--fast", "--data-dir", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    first, *later = done.stderr.splitlines()
    assert first.startswith("cockpit: open http://127.0.0.1:")
    assert "broker over WebSockets: ws://127.0.0.1:" in first
    assert any(line.startswith("publishing to mqtt://127.0.0.1:") for line in later), done.stderr


@pytest.mark.parametrize("command", ["--help", "demo --help"])
def test_the_web_server_is_not_loaded_unless_a_page_is_served(command: str) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "spinesense", *command.split()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "spinesense.cli" in imported  # the import log is there
    assert not {name for name in imported if name.split(".")[0] == "aiohttp"}
