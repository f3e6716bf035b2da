"""Home Assistant MQTT discovery: the runner as a device with sensors, alert binary sensors and an event.

Home Assistant accepts only ``[a-zA-Z0-9_-]+`` as a node id (the discovery topic's level), so the runner
id is turned into one by ``node_id``: readable, and different for different runners.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from spinesense import __version__
from spinesense.alerts.rules import ALERT_KINDS

if TYPE_CHECKING:
    from spinesense.publish.topics import Topics

PLAIN_RUNNER = re.compile(r"[a-zA-Z0-9.-]+")
"""Runner ids that map to a node id one to one: dots become underscores, nothing else changes."""

SENSORS: tuple[tuple[str, str, str | None, int, str | None], ...] = (
    ("cadence_spm", "Cadence", "steps/min", 0, None),
    ("gct_ms", "Ground contact time", "ms", 0, "duration"),
    ("vgrf_peak_bw", "Peak vertical force", "BW", 2, None),
    ("loading_rate_g_per_s", "Loading rate", "g/s", 0, None),
    ("vertical_oscillation_cm", "Vertical oscillation", "cm", 1, "distance"),
    ("trunk_lean_deg", "Trunk lean", "°", 1, None),
    ("trunk_lateral_lean_deg", "Side lean", "°", 1, None),
    ("pelvic_drop_left_deg", "Pelvic drop (left stance)", "°", 1, None),
    ("pelvic_drop_right_deg", "Pelvic drop (right stance)", "°", 1, None),
    ("braking_g", "Braking", "g", 2, None),
)
"""Summary medians shown as sensors: (metric, name, unit, display precision, device class)."""


def node_id(runner: str) -> str:
    """A runner's discovery node id: ``alex`` -> ``spinesense_alex``, ``alex.b`` -> ``spinesense_alex_b``.

    Ids of letters, digits, ``-`` and ``.`` map one to one (``.`` -> ``_``); any other id (with ``_``,
    spaces, accents...) is made safe and gets 12 hex digits of its SHA-256, so two runners never share a
    node id (short of a 48-bit hash collision).
    """
    if PLAIN_RUNNER.fullmatch(runner):
        return f"spinesense_{runner.replace('.', '_')}"
    safe = re.sub(r"[^a-zA-Z0-9-]", "_", runner)
    digest = hashlib.sha256(runner.encode()).hexdigest()[:12]
    return f"spinesense_{safe}_{digest}"


def _sensors(topics: Topics, device_id: str) -> dict[str, dict[str, Any]]:
    """The summary medians and the run's duration, as sensors."""
    components: dict[str, dict[str, Any]] = {}
    for metric, name, unit, precision, device_class in SENSORS:
        components[metric] = {
            "p": "sensor",
            "name": name,
            "unit_of_measurement": unit,
            "suggested_display_precision": precision,
            "state_topic": topics.summary,
            "value_template": f"{{{{ value_json.{metric}_median | default(none) }}}}",
            "unique_id": f"{device_id}_{metric}",
            "state_class": "measurement",
            **({"device_class": device_class} if device_class else {}),
        }
    components["duration_s"] = {
        "p": "sensor",
        "name": "Run duration",
        "device_class": "duration",
        "unit_of_measurement": "s",
        "suggested_display_precision": 0,
        "state_topic": topics.summary,
        "value_template": "{{ value_json.duration_s | default(none) }}",
        "unique_id": f"{device_id}_duration_s",
        "state_class": "measurement",
    }
    return components


def _alerts(topics: Topics, device_id: str) -> dict[str, dict[str, Any]]:
    """One problem binary sensor per alert kind, and one event entity that fires on every alert event."""
    components: dict[str, dict[str, Any]] = {
        f"alert_{kind}": {
            "p": "binary_sensor",
            "name": f"Alert: {kind.replace('_', ' ')}",
            "device_class": "problem",
            "state_topic": topics.alerts_active,
            "value_template": (
                "{{ 'ON' if value_json.alerts | selectattr('kind', 'equalto', '"
                + kind
                + "') | list | count > 0 else 'OFF' }}"
            ),
            "unique_id": f"{device_id}_alert_{kind}",
        }
        for kind in ALERT_KINDS
    }
    components["alert_event"] = {
        "p": "event",
        "name": "Alert",
        "state_topic": topics.alert,
        "event_types": list(ALERT_KINDS),
        "value_template": (
            "{{ {'event_type': value_json.kind, 'state': value_json.state, "
            "'severity': value_json.severity, 'message': value_json.message} | tojson }}"
        ),
        "unique_id": f"{device_id}_alert_event",
    }
    return components


def discovery_message(topics: Topics) -> tuple[str, dict[str, Any]]:
    """The retained device discovery message: its topic and payload."""
    device_id = node_id(topics.runner)
    payload = {
        "dev": {
            "ids": device_id,
            "name": f"spinesense {topics.runner}",
            "mf": "spinesense",
            "mdl": "lower-back IMU",
        },
        "o": {"name": "spinesense", "sw": __version__},
        "cmps": {**_sensors(topics, device_id), **_alerts(topics, device_id)},
        "availability_topic": topics.status,
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": 1,
    }
    return f"homeassistant/device/{device_id}/config", payload
