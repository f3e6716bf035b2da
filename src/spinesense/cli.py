"""The ``spinesense`` command: parses arguments and dispatches to ``spinesense.commands``."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys

from spinesense import __version__, commands
from spinesense.commands import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CommandError


def command_modules() -> list[str]:
    """Names of the subcommand modules: every public module of ``spinesense.commands``, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="spinesense",
        description="Running form from a lower-back IMU, with alerts over MQTT.",
    )
    parser.add_argument("--version", action="version", version=f"spinesense {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(f"spinesense.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.handler(args))
    except CommandError as exc:
        print(f"spinesense {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print(f"spinesense {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
