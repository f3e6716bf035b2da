"""Real MQTT brokers for the tests: Mosquitto on a free loopback port (plain, with passwords + ACL,
with TLS from a CA made at run time), and the embedded amqtt broker.

The broker process and the subscriber (``Listener``) come from the plugin, spinesense.testing; here are
the variants only this suite needs."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import aiomqtt
import pytest

from spinesense.models import Alert
from spinesense.publish import BrokerSettings, embedded_broker
from spinesense.publish.broker import free_port
from spinesense.testing import PLAIN_MOSQUITTO, Listener, Mosquitto, mosquitto_path, running_mosquitto

__all__ = [  # the plugin's broker process and subscriber, by the names the suite's tests import from here
    "PASSWORDS",
    "Listener",
    "Mosquitto",
    "TlsFiles",
    "any_broker",
    "collect",
    "lean_alert",
    "make_tls_files",
    "mosquitto",
    "mosquitto_acl",
    "mosquitto_mtls",
    "mosquitto_tls",
    "websocket_mosquitto",
]

PASSWORDS = {"alice": "alice-secret", "bob": "bob-secret", "dashboard": "dash-secret"}


def lean_alert(n: int) -> Alert:
    """A raised forward-lean alert numbered ``n`` (message ``lean n``), to tell deliveries apart."""
    return Alert("forward_lean", "warning", "raised", f"lean {n}", {"value": float(n)}, n, n + 8, float(n))


@contextlib.contextmanager
def _mosquitto(tmp_path: Path, config_text: str) -> Iterator[Mosquitto]:
    """Start one broker for a test and always stop it (skip the test without Mosquitto)."""
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    with running_mosquitto(tmp_path, config_text) as broker:
        yield broker


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """Anonymous Mosquitto with persistence (so a restart keeps sessions)."""
    with _mosquitto(tmp_path, PLAIN_MOSQUITTO) as broker:
        yield broker


@pytest.fixture
def mosquitto_acl(tmp_path: Path) -> Iterator[Mosquitto]:
    """Mosquitto with a password per runner and the ACL of docs/mqtt.md (each runner owns its subtree)."""
    passwd = tmp_path / "passwd"
    for i, (user, password) in enumerate(PASSWORDS.items()):
        args = ["mosquitto_passwd", "-b", *(["-c"] if i == 0 else []), str(passwd), user, password]
        subprocess.run(args, check=True, capture_output=True)
    acl = Path(__file__).resolve().parents[1] / "deploy" / "mosquitto" / "acl"
    config = f"listener {{port}} 127.0.0.1\nallow_anonymous false\npassword_file {passwd}\nacl_file {acl}\n"
    with _mosquitto(tmp_path, config) as broker:
        yield broker


@dataclass
class TlsFiles:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made for one test."""

    ca: Path
    cert: Path
    key: Path
    client_cert: Path
    client_key: Path


def make_tls_files(folder: Path) -> TlsFiles:
    """Create a throwaway CA and a server and a client certificate signed by it (valid one day)."""
    from cryptography import x509  # noqa: PLC0415 - only the TLS tests need it
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "spinesense test CA")])

    def certificate(cn: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
        )

    def write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, key_path: Path) -> None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )

    ca = (
        certificate("spinesense test CA", ca_key, ca_name)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    server = (
        certificate("127.0.0.1", server_key, ca_name)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    client = certificate("alice", client_key, ca_name).sign(ca_key, hashes.SHA256())
    files = TlsFiles(
        folder / "ca.pem",
        folder / "server.pem",
        folder / "server.key",
        folder / "alice.pem",
        folder / "alice.key",
    )
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    write(files.cert, server, server_key, files.key)
    write(files.client_cert, client, client_key, files.client_key)
    return files


@contextlib.contextmanager
def _mosquitto_tls(tmp_path: Path, *, require_certificate: bool) -> Iterator[tuple[Mosquitto, TlsFiles]]:
    """Mosquitto with a TLS listener whose certificate comes from a CA made for this test.

    ``require_certificate``: admit only clients showing a certificate from that CA.
    """
    tls = make_tls_files(tmp_path)
    files = f"cafile {tls.ca}\ncertfile {tls.cert}\nkeyfile {tls.key}\n"
    if require_certificate:
        files += "require_certificate true\n"
    config = f"listener {{port}} 127.0.0.1\nallow_anonymous true\n{files}"
    with _mosquitto(tmp_path, config) as broker:
        yield broker, tls


@pytest.fixture
def mosquitto_tls(tmp_path: Path) -> Iterator[tuple[Mosquitto, TlsFiles]]:
    """Mosquitto with a TLS listener whose certificate comes from a CA made for this test."""
    with _mosquitto_tls(tmp_path, require_certificate=False) as broker_and_tls:
        yield broker_and_tls


@pytest.fixture(params=["mosquitto", "amqtt"])
async def any_broker(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BrokerSettings]:
    """The same tests against Mosquitto and against the embedded broker."""
    if request.param == "mosquitto":
        with _mosquitto(tmp_path, PLAIN_MOSQUITTO) as broker:
            yield broker.settings
    else:
        async with embedded_broker() as settings:
            yield settings


async def collect(
    settings: BrokerSettings, topic: str, *, until: int, wait_s: float = 20.0
) -> list[aiomqtt.Message]:
    """Subscribe to ``topic``; return the messages once ``until`` have arrived, or what came in ``wait_s``.

    A one-shot ``Listener`` (for retained messages, from synchronous tests through ``asyncio.run``).
    """
    async with Listener(settings, topic) as listener:
        with contextlib.suppress(TimeoutError):
            await listener.next(until, wait_s)
        return list(listener.messages)


@pytest.fixture
def mosquitto_mtls(tmp_path: Path) -> Iterator[tuple[Mosquitto, TlsFiles]]:
    """Mosquitto that admits only clients with a certificate from the test CA."""
    with _mosquitto_tls(tmp_path, require_certificate=True) as broker_and_tls:
        yield broker_and_tls


@dataclass
class WebSocketBroker:
    """A broker with a WebSocket listener: its settings (``websocket_url`` set) and what it is."""

    settings: BrokerSettings
    kind: str


@contextlib.contextmanager
def websocket_mosquitto(tmp_path: Path) -> Iterator[BrokerSettings]:
    """Mosquitto with a WebSocket listener beside its TCP one (skip the test without Mosquitto)."""
    ws_port = free_port()
    config = PLAIN_MOSQUITTO + f"listener {ws_port} 127.0.0.1\nprotocol websockets\n"
    with _mosquitto(tmp_path, config) as broker:
        yield replace(broker.settings, websocket_url=f"ws://127.0.0.1:{ws_port}/")


@pytest.fixture(params=["mosquitto", "amqtt"])
async def websocket_broker(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[WebSocketBroker]:
    """Mosquitto with a WebSocket listener beside its TCP one, and the embedded broker (which has one)."""
    if request.param == "mosquitto":
        with websocket_mosquitto(tmp_path) as settings:
            yield WebSocketBroker(settings, "mosquitto")
    else:
        async with embedded_broker() as settings:
            yield WebSocketBroker(settings, "amqtt")
