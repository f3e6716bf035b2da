"""``spinesense serve``: many runners in one process, one service each, on one event loop.

Only the arguments live here; the work (``_serve``) is imported when the command runs, so ``--help``
stays light.
"""

from __future__ import annotations

import argparse

EMBEDDED_BROKER_FLAG = "--embedded-broker"
"""Hidden option: the port of the embedded broker a serving process of ``--processes`` shares with the
command that started it."""
PARENT_PIPE_FLAG = "--parent-pipe"
"""Hidden option: standard input is a pipe from the command that started this serving process, which
stops when it closes."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``serve`` command."""
    parser = subparsers.add_parser(
        "serve",
        help="serve many runners in one process: their sensors (or recordings) -> alerts -> MQTT",
        description="One service per runner on one event loop; one runner's failure never stops another. "
        "Without --sensor or --replay: every reference sensor found by a scan, one runner each.",
    )
    parser.add_argument(
        "--sensor",
        action="append",
        default=[],
        metavar="RUNNER=NAME|ADDRESS",
        help="a runner and their live sensor (repeat for each runner)",
    )
    parser.add_argument(
        "--replay",
        action="append",
        default=[],
        metavar="[RUNNER=]FILE",
        help="a runner and a recording replayed in their place (runner id: the file's name without suffixes)",
    )
    parser.add_argument("--speed", type=float, default=1.0, metavar="N", help="replay at N times real time")
    parser.add_argument(
        "--scan-timeout", type=float, default=10.0, metavar="S", help="scan length (default 10 s)"
    )
    parser.add_argument(
        "--config", metavar="FILE", help="configuration file shared by every runner (their id aside)"
    )
    parser.add_argument(
        "--broker", metavar="URL", help="mqtt://[user[:pass]@]host[:port] or mqtts://...; default: embedded"
    )
    parser.add_argument("--data-dir", metavar="DIR", help="where raw captures and outboxes are written")
    parser.add_argument("--no-record", action="store_true", help="do not write raw captures")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="K",
        help="split the runners over K serving processes, to use K cores (default 1: one process)",
    )
    # How a process of ``--processes`` reaches the embedded broker of the command that started it.
    parser.add_argument(EMBEDDED_BROKER_FLAG, type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument(PARENT_PIPE_FLAG, action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve every runner until each source ends, Ctrl-C or SIGTERM (see ``_serve.run``)."""
    from spinesense.cli.commands import _serve

    return _serve.run(args)
