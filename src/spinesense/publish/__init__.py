"""MQTT publishing: topic tree, outbox, Home Assistant discovery, embedded broker."""
