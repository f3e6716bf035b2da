"""A run's strides as CSV: one row per stride, the start in UTC, every metric with its unit in its name."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import fields
from typing import TYPE_CHECKING

from spinesense.models import Stride, to_json_dict

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

COLUMNS = ("time_utc", *(f.name for f in fields(Stride)))


def write_csv(path: Path, start_utc: dt.datetime, strides: Sequence[Stride]) -> int:
    """Write one row per stride (missing metrics empty, flags joined by ``;``); return the row count."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        for stride in strides:
            row = to_json_dict(stride)
            row["flags"] = ";".join(stride.flags)
            at = start_utc + dt.timedelta(seconds=stride.t_start_s)
            writer.writerow({"time_utc": at.isoformat(timespec="milliseconds"), **row})
    return len(strides)
