"""Home Assistant MQTT discovery: the runner appears as a device with sensors and alert binary sensors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spinesense import __version__
from spinesense.alerts.rules import ALERT_KINDS

if TYPE_CHECKING:
    from spinesense.publish.topics import Topics

SENSORS: tuple[tuple[str, str, str | None], ...] = (
    ("cadence_spm", "Cadence", "steps/min"),
    ("gct_ms", "Ground contact time", "ms"),
    ("vgrf_peak_bw", "Peak vertical force", "BW"),
    ("loading_rate_g_per_s", "Loading rate", "g/s"),
    ("vertical_oscillation_cm", "Vertical oscillation", "cm"),
    ("trunk_lean_deg", "Trunk lean", "°"),
    ("trunk_lateral_lean_deg", "Side lean", "°"),
    ("pelvic_drop_left_deg", "Pelvic drop (left stance)", "°"),
    ("pelvic_drop_right_deg", "Pelvic drop (right stance)", "°"),
    ("braking_g", "Braking", "g"),
)
"""Summary medians shown as sensors: (metric, name, unit)."""


def discovery_message(topics: Topics) -> tuple[str, dict[str, Any]]:
    """The retained device discovery message: its topic and payload."""
    device_id = f"spinesense_{topics.runner}"
    components: dict[str, dict[str, Any]] = {}
    for metric, name, unit in SENSORS:
        components[metric] = {
            "p": "sensor",
            "name": name,
            "unit_of_measurement": unit,
            "state_topic": topics.summary,
            "value_template": f"{{{{ value_json.{metric}_median | default(none) }}}}",
            "unique_id": f"{device_id}_{metric}",
            "state_class": "measurement",
        }
    for kind in ALERT_KINDS:
        components[f"alert_{kind}"] = {
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
    payload = {
        "dev": {
            "ids": device_id,
            "name": f"spinesense {topics.runner}",
            "mf": "spinesense",
            "mdl": "lower-back IMU",
        },
        "o": {"name": "spinesense", "sw": __version__},
        "cmps": components,
        "availability_topic": topics.status,
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": 1,
    }
    return f"homeassistant/device/{device_id}/config", payload
