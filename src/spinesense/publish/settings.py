"""Where and how to reach the MQTT broker, from a URL like ``mqtts://user:pass@host:8883``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path  # noqa: TC003 - dataclass field types are resolved at run time
from urllib.parse import unquote, urlsplit

from spinesense.errors import ConfigError

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
DEFAULT_FLUSH_TIMEOUT_S = 10.0
"""How long a run's end waits for an absent broker unless ``broker.flush_timeout_s`` says otherwise."""


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """A broker address with credentials and TLS files; the password never appears in repr or logs."""

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: Path | None = None
    """CA bundle to verify the broker (mqtts); None uses the system's."""
    cert_file: Path | None = None
    """Client certificate, when the broker authenticates clients by certificate."""
    key_file: Path | None = None
    mqtt5: bool | None = None
    """True/False when the broker's protocol is known (the embedded one speaks 3.1.1); None: try 5 first."""
    websocket_url: str | None = None
    """Where browsers reach the same broker over MQTT over WebSockets (the cockpit); None: not known."""
    flush_timeout_s: float = DEFAULT_FLUSH_TIMEOUT_S
    """How long the end of a run waits for this broker when it is away; what is left waits in the outbox."""

    @classmethod
    def from_url(cls, url: str, key: str = "broker.url") -> BrokerSettings:
        """Parse ``mqtt://[user[:password]@]host[:port]`` or ``mqtts://…``; ConfigError names the problem."""
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS:
            raise ConfigError(key, f"scheme must be mqtt:// or mqtts://, got {parts.scheme or 'none'!r}")
        if not parts.hostname:
            raise ConfigError(key, "no host name in the URL")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise ConfigError(key, "the port is not a number between 0 and 65535") from None
        if parts.path not in ("", "/"):
            raise ConfigError(key, f"a broker URL has no path, got {parts.path!r}")
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=parts.scheme == "mqtts",
        )

    def with_tls_files(
        self, ca_file: Path | None = None, cert_file: Path | None = None, key_file: Path | None = None
    ) -> BrokerSettings:
        """The same broker with TLS files; each must exist, and a certificate needs its key."""
        for name, path in (
            ("broker.ca_file", ca_file),
            ("broker.cert_file", cert_file),
            ("broker.key_file", key_file),
        ):
            if path is not None and not path.is_file():
                raise ConfigError(name, f"{path} is not a readable file")
        if (cert_file is None) != (key_file is None):
            raise ConfigError(
                "broker.cert_file", "a client certificate needs its key file, and the other way round"
            )
        return replace(self, ca_file=ca_file, cert_file=cert_file, key_file=key_file)

    def display(self) -> str:
        """The URL with the password masked, for logs and `config show`."""
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}{':***' if self.password else ''}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"
