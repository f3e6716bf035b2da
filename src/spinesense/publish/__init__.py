"""Publishing strides, alerts and summaries over MQTT (topic tree v1 of docs/mqtt.md)."""

from spinesense.publish.broker import embedded_broker
from spinesense.publish.clock import SessionClock
from spinesense.publish.publisher import Publisher
from spinesense.publish.settings import BrokerSettings

__all__ = ["BrokerSettings", "Publisher", "SessionClock", "embedded_broker"]
