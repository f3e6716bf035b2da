"""The topic tree (version 1) and its JSON payloads; times are epoch milliseconds (UTC) everywhere."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spinesense.models import to_json_dict

if TYPE_CHECKING:
    from spinesense.models import Alert, Stride

ROOT = "spinesense/v1"


@dataclass(frozen=True, slots=True)
class Topics:
    """Every topic of one runner: ``spinesense/v1/<runner>/…``."""

    runner: str

    def __post_init__(self) -> None:
        """A runner id becomes a topic level: no wildcards, separators or empty ids."""
        if not self.runner or any(c in self.runner for c in "/+#\0") or self.runner != self.runner.strip():
            raise ValueError(
                f"runner id {self.runner!r} must be non-empty without '/', '+', '#' or spaces around"
            )

    @property
    def base(self) -> str:
        """Prefix of every topic of this runner."""
        return f"{ROOT}/{self.runner}"

    @property
    def status(self) -> str:
        """Retained ``online``/``offline``; also the last will."""
        return f"{self.base}/status"

    @property
    def stride(self) -> str:
        """One stride's metrics (QoS 0, not retained)."""
        return f"{self.base}/stride"

    @property
    def alert(self) -> str:
        """Alert events (QoS 1, not retained)."""
        return f"{self.base}/alert"

    @property
    def alerts_active(self) -> str:
        """The alerts active now (retained)."""
        return f"{self.base}/alerts/active"

    @property
    def summary(self) -> str:
        """Rolling summary, flat JSON (retained)."""
        return f"{self.base}/summary"

    @property
    def session(self) -> str:
        """Session start/end and the session summary (retained)."""
        return f"{self.base}/session"

    @property
    def baseline(self) -> str:
        """The baseline state: learning (seconds left) or known (the values) (retained)."""
        return f"{self.base}/baseline"

    @property
    def load(self) -> str:
        """Training load: the last 7 days, acute:chronic ratio, shoes (retained)."""
        return f"{self.base}/load"

    @property
    def notice(self) -> str:
        """Things the pipeline wants known: re-alignment, gaps (QoS 1, not retained)."""
        return f"{self.base}/notice"


def encode(payload: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


def stride_payload(stride: Stride, time_ms: int) -> dict[str, Any]:
    """A stride with ``time_ms``: its start in epoch milliseconds (sensor time mapped to UTC)."""
    return {"time_ms": time_ms, **to_json_dict(stride)}


def alert_payload(alert: Alert, time_ms: int) -> dict[str, Any]:
    """An alert event with ``time_ms``: its sensor time in epoch milliseconds."""
    return {"time_ms": time_ms, **to_json_dict(alert)}
