"""Times as aware UTC, read one way everywhere: a time without a zone is UTC, never the machine's local time.

A capture header's ``start_utc``, a ``--start-utc`` flag, SQLite's naive values and a watch file's times all
go through here, so MQTT's ``time_ms`` and the run store agree on any machine. Standard library only: the
command line parses its flags with it before anything heavy is imported.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping


def as_utc(value: dt.datetime) -> dt.datetime:
    """A time as aware UTC: a naive value is taken as UTC, an aware one is converted."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def parse_utc(text: str) -> dt.datetime:
    """ISO 8601 text as aware UTC (a date alone is midnight, no zone is UTC); ValueError if it is not one."""
    return as_utc(dt.datetime.fromisoformat(text))


def header_start(header: Mapping[str, Any]) -> dt.datetime | None:
    """The start time in a capture header (``start_utc``), or None when absent or unreadable."""
    text = header.get("start_utc")
    if not isinstance(text, str):
        return None
    try:
        return parse_utc(text)
    except ValueError:
        return None
