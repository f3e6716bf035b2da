"""The shipped Mosquitto config (deploy/mosquitto/) starts for real and serves every listener it promises.

Only what cannot be the same on a test machine is changed: the files under /etc and /var are the test's
own, and each listener gets a free loopback port. Everything else is the file as shipped.
"""

from __future__ import annotations

import re
import ssl
import subprocess
from pathlib import Path
from typing import Any

import aiomqtt

from conftest import REPO_ROOT
from fixtures_mqtt import PASSWORDS, _mosquitto, make_tls_files
from spinesense.publish.broker import free_port

DEPLOY = REPO_ROOT / "deploy" / "mosquitto"


def _for_this_machine(tmp_path: Path) -> tuple[str, dict[int, int], Path]:
    """The shipped config with the test's files and free ports; shipped port -> test port; the CA."""
    passwd = tmp_path / "passwd"
    for i, (user, password) in enumerate(PASSWORDS.items()):
        args = ["mosquitto_passwd", "-b", *(["-c"] if i == 0 else []), str(passwd), user, password]
        subprocess.run(args, check=True, capture_output=True)
    tls = make_tls_files(tmp_path)
    text = (DEPLOY / "mosquitto.conf").read_text()
    for shipped, ours in {
        "/etc/mosquitto/spinesense.passwd": passwd,
        "/etc/mosquitto/spinesense.acl": DEPLOY / "acl",
        "/etc/mosquitto/certs/server.pem": tls.cert,
        "/etc/mosquitto/certs/server.key": tls.key,
        "/etc/mosquitto/certs/ca.pem": tls.ca,
        "/var/lib/mosquitto/": f"{tmp_path}/",
    }.items():
        assert shipped in text
        text = text.replace(shipped, str(ours))
    ports: dict[int, int] = {}

    def loopback(match: re.Match[str]) -> str:
        shipped = int(match.group(1))
        ports[shipped] = free_port()
        return f"listener {ports[shipped]} 127.0.0.1"

    text = re.sub(r"^listener (\d+)(?: 127\.0\.0\.1)?$", loopback, text, flags=re.MULTILINE)
    return text, ports, tls.ca


def _client(port: int, user: str, **options: Any) -> aiomqtt.Client:
    """A client of the test's broker on ``port`` as ``user`` (passwords of the fixtures)."""
    return aiomqtt.Client("127.0.0.1", port, username=user, password=PASSWORDS[user], **options)


async def test_the_shipped_mosquitto_config_starts_and_serves_mqtt_and_websockets(tmp_path: Path) -> None:
    text, ports, ca = _for_this_machine(tmp_path)
    assert sorted(ports) == [1883, 8883, 8884, 9001]
    tls = ssl.create_default_context(cafile=str(ca))
    # The fixture waits until {port} accepts connections: the last listener Mosquitto opens, so all are open.
    last = max(ports, key=lambda shipped: text.index(f"listener {ports[shipped]} "))
    config = text.replace(f"listener {ports[last]} ", "listener {port} ")
    config += "log_type all\n"  # logging only: should a client fail below, the broker's side is printed
    with _mosquitto(tmp_path, config) as broker:
        ports[last] = broker.port
        try:
            await _browsers_get_what_runners_publish(ports, tls)
        finally:
            print((tmp_path / "log.txt").read_text())  # noqa: T201 - pytest shows it when the test fails


async def _browsers_get_what_runners_publish(ports: dict[int, int], tls: ssl.SSLContext) -> None:
    """A dashboard on each websockets listener gets what a runner publishes on each MQTT listener."""
    async with (
        _client(ports[9001], "dashboard", transport="websockets") as ws,
        _client(ports[8884], "dashboard", transport="websockets", tls_context=tls) as wss,
    ):
        for browser in (ws, wss):
            await browser.subscribe("spinesense/v1/alice/status", qos=1)
        async with _client(ports[1883], "alice") as local:
            await local.publish("spinesense/v1/alice/status", b"online", qos=1, retain=True)
        async with _client(ports[8883], "alice", tls_context=tls) as remote:
            await remote.publish("spinesense/v1/alice/status", b"offline", qos=1, retain=True)
        for browser in (ws, wss):
            got = [(await anext(browser.messages)).payload for _ in range(2)]
            assert got == [b"online", b"offline"]


def test_no_value_in_the_shipped_config_carries_a_comment() -> None:
    # Mosquitto reads "value   # note" as the value "value   # note" (the acl_file bug this replaces).
    for line in (DEPLOY / "mosquitto.conf").read_text().splitlines():
        assert line.startswith("#") or "#" not in line, line
