"""Home Assistant discovery: node ids Home Assistant accepts, distinct per runner, and complete payloads."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from spinesense.alerts.rules import ALERT_KINDS
from spinesense.publish.homeassistant import discovery_message, node_id
from spinesense.publish.topics import Topics

HA_NODE_ID = re.compile(r"[a-zA-Z0-9_-]+")
"""Home Assistant's own check of a discovery node id (homeassistant/components/mqtt/discovery.py)."""

runner_ids = st.text(min_size=1, max_size=20).filter(
    lambda s: not any(c in s for c in "/+#\0") and s == s.strip()
)


def test_plain_ids_stay_readable() -> None:
    assert node_id("alex") == "spinesense_alex"
    assert node_id("alex.b") == "spinesense_alex_b"
    assert node_id("coach-7") == "spinesense_coach-7"


def test_ids_that_would_collide_do_not() -> None:
    ids = {node_id(r) for r in ("alex.b", "alex_b", "alex b", "alex!b", "alex.b_", "alexb")}
    assert len(ids) == 6


@given(runner_ids)
def test_every_accepted_runner_id_gives_a_valid_discovery_topic(runner: str) -> None:
    topic, _payload = discovery_message(Topics(runner))
    assert HA_NODE_ID.fullmatch(topic.split("/")[2]), topic


@given(runner_ids, runner_ids)
def test_different_runners_never_share_a_node_id(a: str, b: str) -> None:
    assert (node_id(a) == node_id(b)) == (a == b)


def test_sensors_have_precision_and_the_right_device_classes() -> None:
    _topic, payload = discovery_message(Topics("alex.b"))
    sensors = {k: c for k, c in payload["cmps"].items() if c["p"] == "sensor"}
    assert all(isinstance(c["suggested_display_precision"], int) for c in sensors.values())
    assert sensors["cadence_spm"]["suggested_display_precision"] == 0
    assert sensors["duration_s"]["device_class"] == "duration"
    assert sensors["gct_ms"]["device_class"] == "duration"
    assert sensors["vertical_oscillation_cm"]["device_class"] == "distance"
    assert "device_class" not in sensors["trunk_lean_deg"]  # no Home Assistant class for an angle
    ids = [c["unique_id"] for c in payload["cmps"].values()]
    assert len(set(ids)) == len(ids)
    json.dumps(payload)  # plain JSON, as published


def test_alerts_come_as_an_event_entity() -> None:
    _topic, payload = discovery_message(Topics("alex"))
    event = payload["cmps"]["alert_event"]
    assert event["p"] == "event"
    assert event["state_topic"] == "spinesense/v1/alex/alert"
    assert event["event_types"] == list(ALERT_KINDS)
    assert "event_type" in event["value_template"]


def test_the_event_template_turns_an_alert_into_one_of_its_event_types() -> None:
    """Rendered with Jinja2 (Home Assistant's template engine) on the payload spinesense publishes."""
    import jinja2  # noqa: PLC0415

    from spinesense.models import Alert  # noqa: PLC0415
    from spinesense.publish.topics import alert_payload  # noqa: PLC0415

    _topic, payload = discovery_message(Topics("alex"))
    event = payload["cmps"]["alert_event"]
    alert = Alert("pelvic_drop_right", "warning", "raised", "Hips level", {"value": 18.0}, 10, 18, 65.0)
    published = json.loads(json.dumps(alert_payload(alert, 1_700_000_000_000)))
    engine = jinja2.Environment(autoescape=False)  # noqa: S701 - it renders JSON, not HTML
    rendered = engine.from_string(event["value_template"]).render(value_json=published)
    fired = json.loads(rendered)
    assert fired["event_type"] in event["event_types"]
    assert fired == {
        "event_type": "pelvic_drop_right",
        "state": "raised",
        "severity": "warning",
        "message": "Hips level",
    }
