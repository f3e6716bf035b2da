"""Scoring the pipeline against reference data other people recorded (used by benchmarks and tests)."""
