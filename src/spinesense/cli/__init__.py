"""The ``spinesense`` command: parses arguments and dispatches to ``spinesense.cli.commands``."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys

from spinesense import __version__
from spinesense.cli import commands, logformat
from spinesense.cli.commands import EXIT_DATA, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CommandError
from spinesense.errors import BadInputError

LOG_FORMAT_ENV = "SPINESENSE_LOG_FORMAT"


def command_modules() -> list[str]:
    """Names of the subcommand modules: every public module of ``spinesense.cli.commands``, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="spinesense",
        description="Running form from a lower-back IMU, with alerts over MQTT.",
    )
    parser.add_argument("--version", action="version", version=f"spinesense {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument(
        "--log-format",
        choices=logformat.LOG_FORMATS,
        default=None,
        help=f"stderr as text for people or one JSON object per line (default: ${LOG_FORMAT_ENV} or text)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(f"spinesense.cli.commands.{name}").register(subparsers)
    return parser


def _failed(command: str, message: str, exit_code: int, log_format: str) -> int:
    """Report why ``command`` stopped as one line on stderr (one JSON record in json format)."""
    if log_format == "json":
        logging.getLogger(f"spinesense.{command}").error(message, extra={"exit_code": exit_code})
    else:
        print(f"spinesense {command}: {message}", file=sys.stderr)
    return exit_code


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    log_format = args.log_format or os.environ.get(LOG_FORMAT_ENV, "text")
    if log_format not in logformat.LOG_FORMATS:
        choices = ", ".join(logformat.LOG_FORMATS)
        print(f"spinesense: {LOG_FORMAT_ENV}={log_format!r}: expected one of {choices}", file=sys.stderr)
        return EXIT_USAGE
    logformat.configure(log_format, args.verbose)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return _dispatch(args, log_format)


def _dispatch(args: argparse.Namespace, log_format: str) -> int:
    """Run the command's handler; every way it can fail becomes one line and an exit code."""
    try:
        return int(args.handler(args))
    except CommandError as exc:
        return _failed(args.command, str(exc), exc.exit_code, log_format)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        return _failed(args.command, "interrupted", EXIT_INTERRUPTED, log_format)
    except BadInputError as exc:  # bad input found while reading on
        return _failed(args.command, str(exc), EXIT_DATA, log_format)
    except Exception as exc:  # a bug: still one line (the traceback with -v), never a broken JSON stream
        logging.getLogger("spinesense").debug("traceback", exc_info=True)
        return _failed(args.command, f"internal error: {type(exc).__name__}: {exc}", EXIT_DATA, log_format)
