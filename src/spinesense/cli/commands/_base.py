"""Exit codes and the error type every command uses to report a problem in one clear line."""

from __future__ import annotations

EXIT_OK = 0
"""Success."""
EXIT_DATA = 1
"""The input could not be used: a missing or unreadable file, an unknown format."""
EXIT_USAGE = 2
"""Bad command-line usage or configuration (argparse uses 2 as well)."""
EXIT_UNAVAILABLE = 3
"""A needed service is unavailable: no Bluetooth adapter, broker unreachable, sensor not found."""
EXIT_INTERRUPTED = 130
"""Stopped by Ctrl-C (SIGINT) before finishing."""


class CommandError(Exception):
    """A problem the user can fix, reported as one line on stderr with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_DATA) -> None:
        """Keep the message and the exit code the CLI should return."""
        super().__init__(message)
        self.exit_code = exit_code
