"""The loggers through which the library speaks to the person at the terminal: notices and status lines.

The library only logs; how the lines look (plain text or JSON) is the command line's choice
(``spinesense.cli.logformat``).
"""

from __future__ import annotations

import contextlib
import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterator

NOTICE_LOGGER: Final = "spinesense.notice"
"""Pipeline and service notices for the person at the terminal (re-alignment, samples lost)."""
STATUS_LOGGER: Final = "spinesense.status"
"""Status lines for the person at the terminal (where data goes, totals, the capture); shown bare as text."""

_RUNNER: ContextVar[str | None] = ContextVar("spinesense_runner", default=None)
"""The runner whose task is running (``serve`` runs many runners in one process); None outside."""


@contextlib.contextmanager
def runner_scope(runner_id: str) -> Iterator[None]:
    """Everything logged inside (and in the tasks and threads started from here) is about ``runner_id``."""
    token = _RUNNER.set(runner_id)
    try:
        yield
    finally:
        _RUNNER.reset(token)


def current_runner() -> str | None:
    """The runner of the ``runner_scope`` this code runs in (None outside any)."""
    return _RUNNER.get()


def note(text: str) -> None:
    """A notice from the pipeline or the service (``note: ...`` as text)."""
    logging.getLogger(NOTICE_LOGGER).warning(text)


def status(text: str, **fields: object) -> None:
    """A status line for the person running the service (JSON consumers also get ``fields``)."""
    logging.getLogger(STATUS_LOGGER).info(text, extra=fields)
