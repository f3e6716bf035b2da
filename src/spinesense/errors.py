"""Errors shared by every part that reads user configuration."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value cannot be used; the message names the key and the reason."""

    def __init__(self, key: str, reason: str) -> None:
        """Keep the dotted key (e.g. ``thresholds.forward_lean.delta_deg``) and why it was refused."""
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason
