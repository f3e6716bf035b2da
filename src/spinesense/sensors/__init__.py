"""Sensor protocols: one module per family, each turning raw frames into SampleBlocks."""
