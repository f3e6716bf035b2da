"""Subcommands of the ``spinesense`` CLI: one module per command, each with ``register(subparsers)``.

``register`` adds the command's parser and sets ``handler`` to a function taking the parsed
arguments and returning the exit code. Errors a user can fix are raised as ``CommandError``.
"""

from spinesense.cli.commands._base import (
    EXIT_DATA,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    CommandError,
)

__all__ = [
    "EXIT_DATA",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "CommandError",
]
