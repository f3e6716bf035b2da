"""Sources of raw frames: BLE sensors, capture and CSV replay, MQTT raw topic."""
