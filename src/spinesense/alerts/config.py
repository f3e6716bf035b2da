"""Alert thresholds: defaults from ``defaults.toml``, overridden by the ``[thresholds]`` table."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from spinesense.errors import ConfigError

GLOBAL_KEYS = ("warmup_s", "baseline_s", "hold_strides", "cooldown_s", "min_quality")
FRACTIONS = ("min_quality", "max_lost_fraction")
"""Settings that are a share of something: at most 1 (a quality of 5 would ignore every stride)."""


def default_table() -> dict[str, Any]:
    """The ``[thresholds]`` table of the packaged defaults."""
    table: dict[str, Any] = tomllib.loads(default_toml())["thresholds"]
    return table


def default_toml() -> str:
    """The commented defaults, for ``spinesense config init`` and docs."""
    return resources.files("spinesense.alerts").joinpath("defaults.toml").read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """One rule's numbers (names as in defaults.toml)."""

    values: dict[str, float]

    def __getitem__(self, key: str) -> float:
        """A threshold of this rule."""
        return self.values[key]


@dataclass(frozen=True, slots=True)
class AlertConfig:
    """Every rule's thresholds plus the settings all rules share."""

    warmup_s: float
    baseline_s: float
    hold_strides: int
    cooldown_s: float
    min_quality: float
    rules: dict[str, RuleConfig] = field(default_factory=dict)

    @classmethod
    def default(cls) -> AlertConfig:
        """The documented defaults."""
        return cls.from_mapping({})

    @classmethod
    def from_mapping(cls, table: dict[str, Any]) -> AlertConfig:
        """Defaults overridden by ``table`` (the TOML ``[thresholds]``); ConfigError names a bad key."""
        defaults = default_table()
        for key, value in table.items():
            if key not in defaults:
                raise ConfigError(
                    f"thresholds.{key}", f"unknown setting or rule (known: {', '.join(sorted(defaults))})"
                )
            if isinstance(defaults[key], dict) != isinstance(value, dict):
                raise ConfigError(
                    f"thresholds.{key}", "a rule is a table of numbers, a setting a single number"
                )
        merged = {key: _number(f"thresholds.{key}", table.get(key, defaults[key])) for key in GLOBAL_KEYS}
        rules = {
            rule: _rule(rule, values, table.get(rule, {}))
            for rule, values in defaults.items()
            if isinstance(values, dict)
        }
        _whole("thresholds.hold_strides", merged["hold_strides"])
        return cls(
            warmup_s=merged["warmup_s"],
            baseline_s=merged["baseline_s"],
            hold_strides=int(merged["hold_strides"]),
            cooldown_s=merged["cooldown_s"],
            min_quality=merged["min_quality"],
            rules=rules,
        )


def _number(key: str, value: object) -> float:
    """A non-negative finite number, or ConfigError naming ``key``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(key, f"must be a number, got {value!r}")
    if not 0 <= value < float("inf"):
        raise ConfigError(key, f"must be zero or positive, got {value}")
    name = key.rsplit(".", 1)[-1]
    if name in FRACTIONS and value > 1:
        raise ConfigError(key, f"is a fraction between 0 and 1, got {value}")
    if name.endswith("ratio") and value <= 1:
        raise ConfigError(
            key, f"must be above 1 (a ratio to the baseline; {value} would alert on normal strides)"
        )
    return float(value)


def _rule(rule: str, defaults: dict[str, Any], given: dict[str, Any]) -> RuleConfig:
    """One rule's table: its defaults overridden by ``given``; ConfigError names a bad key."""
    for key in given:
        if key not in defaults:
            raise ConfigError(f"thresholds.{rule}.{key}", f"unknown (known: {', '.join(sorted(defaults))})")
    config = RuleConfig({k: _number(f"thresholds.{rule}.{k}", given.get(k, v)) for k, v in defaults.items()})
    if "window_strides" in config.values:
        _whole(f"thresholds.{rule}.window_strides", config["window_strides"])
    return config


def _whole(key: str, value: float) -> None:
    """ConfigError naming ``key`` unless ``value`` is a whole number of strides, at least one."""
    if value < 1 or value != int(value):
        raise ConfigError(key, f"must be a whole number of strides >= 1, got {value}")
