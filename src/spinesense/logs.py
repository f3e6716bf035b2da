"""The loggers through which the library speaks to the person at the terminal: notices and status lines.

The library only logs; how the lines look (plain text or JSON) is the command line's choice
(``spinesense.cli.logformat``).
"""

from __future__ import annotations

import logging
from typing import Final

NOTICE_LOGGER: Final = "spinesense.notice"
"""Pipeline and service notices for the person at the terminal (re-alignment, samples lost)."""
STATUS_LOGGER: Final = "spinesense.status"
"""Status lines for the person at the terminal (where data goes, totals, the capture); shown bare as text."""


def note(text: str) -> None:
    """A notice from the pipeline or the service (``note: ...`` as text)."""
    logging.getLogger(NOTICE_LOGGER).warning(text)


def status(text: str, **fields: object) -> None:
    """A status line for the person running the service (JSON consumers also get ``fields``)."""
    logging.getLogger(STATUS_LOGGER).info(text, extra=fields)
