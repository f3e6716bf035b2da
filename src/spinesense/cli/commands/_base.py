"""Exit codes, the one-line error every command reports, and the arguments several commands share.

Light on purpose (no NumPy, SciPy, bleak or MQTT): every command's parser is built from here before any
command runs, so ``spinesense --help`` starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

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


def add_file_argument(parser: argparse.ArgumentParser) -> None:
    """The FILE argument every recording command takes."""
    parser.add_argument("file", metavar="FILE", help="a capture (.jsonl[.gz]) or a sample CSV (.csv[.gz])")


def add_service_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Flags that override the configuration file and the environment."""
    parser.add_argument(
        "--config", metavar="FILE", help="configuration file (default ~/.config/spinesense/config.toml)"
    )
    parser.add_argument("--runner", metavar="ID", help="runner id (MQTT topics spinesense/v1/<ID>/...)")
    parser.add_argument(
        "--broker", metavar="URL", help="mqtt://[user[:pass]@]host[:port] or mqtts://...; default: embedded"
    )
    parser.add_argument("--data-dir", metavar="DIR", help="where raw captures of runs are written")
    parser.add_argument("--no-record", action="store_true", help="do not write a raw capture")
    parser.add_argument(
        "--web",
        metavar="[HOST:]PORT",
        help="serve the cockpit page (docs/cockpit.md); HOST default 127.0.0.1",
    )
    parser.add_argument("--distance-km", type=float, metavar="KM", help="this run's distance, for the shoes")
    parser.add_argument("--watch", metavar="FILE", help="the watch's FIT/GPX/TCX file of this run (distance)")


def add_speak_argument(parser: argparse.ArgumentParser) -> None:
    """``--speak``: voice each alert through the system's speech engine."""
    parser.add_argument(
        "--speak", action="store_true", help="speak each alert aloud (espeak-ng on Linux, say on macOS)"
    )
