"""Where the cockpit listens: ``[HOST:]PORT`` from ``--web`` or ``web.listen`` (loopback without a HOST)."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from spinesense.errors import ConfigError

LOOPBACK = "127.0.0.1"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True)
class WebAddress:
    """A host and TCP port to serve the cockpit on (port 0: any free port)."""

    host: str = LOOPBACK
    port: int = 0
    exact: bool = True
    """False: when ``port`` is taken, any free port will do (the demo's default)."""

    @classmethod
    def parse(cls, text: str, key: str = "web.listen") -> WebAddress:
        """``PORT``, ``HOST:PORT`` or ``[IPv6]:PORT``; ConfigError names ``key`` and the problem."""
        host, sep, port = text.strip().rpartition(":")
        if not sep:
            host = LOOPBACK
        host = host.removeprefix("[").removesuffix("]")
        if not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ConfigError(key, f"expected [HOST:]PORT with a port from 0 to 65535, got {text!r}")
        if sep and not host:
            raise ConfigError(key, f"no host before ':' in {text!r} (leave out the ':' for loopback)")
        return cls(host, int(port))

    @property
    def public(self) -> bool:
        """True when other machines may reach it (not loopback)."""
        return self.host not in LOOPBACK_NAMES

    def url(self, port: int | None = None) -> str:
        """The page's address for a person: this machine's name when bound to every interface."""
        host = socket.gethostname() if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104 - a comparison
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port if port is None else port}/"
