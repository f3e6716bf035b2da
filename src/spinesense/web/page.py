"""What the page learns from the service (/config.json): the broker's WebSocket, the runner, the limits.

The limits are the alert rules' own numbers (``[thresholds]``), so a tile turns red where the rule fires;
the page combines them with the baseline it reads from the retained ``baseline`` topic.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spinesense.alerts import AlertConfig
    from spinesense.publish import BrokerSettings

TILE_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "cadence_spm": (("low_cadence", "below"),),
    "gct_ms": (("fatigue_drift", "above"),),
    "trunk_lean_deg": (("forward_lean", "above"), ("backward_lean", "below")),
    "trunk_lateral_lean_deg": (("side_lean", "both"),),
    "pelvic_drop_deg": (("pelvic_drop", "above"),),
    "vgrf_peak_bw": (("high_impact", "above"),),
}
"""A tile's metric -> the ``[thresholds]`` tables that judge it, and on which side of the baseline."""

LIMIT_KEYS = ("limit", "delta", "ratio")
"""The keys of a rule table the page uses: absolute limit, change from baseline, ratio to baseline."""

DEFAULT_WEBSOCKET_PORTS = {False: 9001, True: 8884}
"""The shipped Mosquitto config's WebSocket listeners (deploy/mosquitto/): plain, and with TLS."""


@dataclass(frozen=True, slots=True)
class PageConfig:
    """The page's settings, served as /config.json."""

    broker_ws_url: str
    runner: str
    cooldown_s: float
    limits: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    username: str | None = None
    """The broker user name, when the broker wants one (the page asks for the password)."""

    def to_json(self) -> dict[str, Any]:
        """The JSON object the page reads."""
        return asdict(self)


def websocket_url(broker: BrokerSettings) -> str:
    """Where a browser reaches ``broker`` over MQTT over WebSockets.

    The embedded broker says so itself; a configured one says so in ``broker.websocket_url``, else it is
    assumed to listen where the shipped Mosquitto config does (ws on 9001, wss on 8884 with mqtts).
    """
    if broker.websocket_url is not None:
        return broker.websocket_url
    scheme = "wss" if broker.tls else "ws"
    host = f"[{broker.host}]" if ":" in broker.host else broker.host
    return f"{scheme}://{host}:{DEFAULT_WEBSOCKET_PORTS[broker.tls]}/"


def tile_limits(alerts: AlertConfig) -> dict[str, list[dict[str, Any]]]:
    """Each tile's rules as the page needs them: direction and the limit, delta and ratio they use."""
    limits: dict[str, list[dict[str, Any]]] = {}
    for metric, rules in TILE_RULES.items():
        for rule, direction in rules:
            table = alerts.rules.get(rule)
            if table is None:
                continue
            numbers = {k: v for k, v in table.values.items() if k in LIMIT_KEYS}
            limits.setdefault(metric, []).append({"rule": rule, "direction": direction, **numbers})
    return limits


def page_config(broker: BrokerSettings, runner: str, alerts: AlertConfig) -> PageConfig:
    """The page's settings for ``runner``'s session on ``broker`` under ``alerts``' thresholds."""
    return PageConfig(
        broker_ws_url=websocket_url(broker),
        runner=runner,
        cooldown_s=alerts.cooldown_s,
        limits=tile_limits(alerts),
        username=broker.username,
    )
