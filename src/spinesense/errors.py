"""Errors shared across the package: bad configuration and unusable input files (a light module)."""

from __future__ import annotations


class BadInputError(Exception):
    """A file the user gave cannot be used (a capture, a sample CSV, a recording); the message says why.

    The CLI turns it into one line and the data exit code without importing the readers themselves.
    """


class ConfigError(ValueError):
    """A configuration value cannot be used; the message names the key and the reason."""

    def __init__(self, key: str, reason: str) -> None:
        """Keep the dotted key (e.g. ``thresholds.forward_lean.delta_deg``) and why it was refused."""
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason
