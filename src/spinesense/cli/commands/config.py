"""``spinesense config show|init|check``: the effective configuration, a starter file, validation."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from spinesense.cli.commands._base import EXIT_OK, EXIT_USAGE, CommandError

if TYPE_CHECKING:
    import argparse

DEFAULT_SHOWN = "$XDG_CONFIG_HOME/spinesense/config.toml, else ~/.config/spinesense/config.toml"
"""Where the configuration is read from by default (spinesense.config.DEFAULT_PATH), for the help."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``config`` command and its actions."""
    parser = subparsers.add_parser("config", help="show, create or check the configuration")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser(
        "show", help="the effective configuration (secrets masked) and where each value came from"
    )
    show.add_argument("--config", metavar="FILE", help=f"configuration file (default {DEFAULT_SHOWN})")
    init = actions.add_parser("init", help="write a commented starter file")
    init.add_argument("path", nargs="?", metavar="FILE", help=f"default {DEFAULT_SHOWN}")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    check = actions.add_parser("check", help="validate a configuration file; exit 2 naming the bad key")
    check.add_argument("--config", metavar="FILE", help=f"configuration file (default {DEFAULT_SHOWN})")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Dispatch to the action."""
    from spinesense.cli.commands._service import load_for_command
    from spinesense.config import DEFAULT_PATH, ENV, starter_file

    if args.action == "init":
        path = Path(args.path).expanduser() if args.path else DEFAULT_PATH
        if path.exists() and not args.force:
            raise CommandError(f"{path} exists; use --force to overwrite", EXIT_USAGE)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(starter_file(), encoding="utf-8")
        print(f"wrote {path}; edit it, then `spinesense config check --config {path}`")
        return EXIT_OK
    config = load_for_command(args.config)
    if args.action == "check":
        print("configuration OK")
        return EXIT_OK
    width = max(len(k) for k in config.shown())
    for key, value in config.shown().items():
        print(f"{key:<{width}s}  {value}  ({config.origin.get(key, 'default')})")
    print("\nenvironment variables: " + ", ".join(ENV))
    return EXIT_OK
