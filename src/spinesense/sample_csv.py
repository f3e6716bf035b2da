"""Sample CSV files: other people's recordings and exports, one row per sample (docs/capture-format.md).

Columns: ``time_s``, then ``acc_x_<u>``, ``acc_y_<u>``, ``acc_z_<u>`` with ``<u>`` = ``g`` or ``mps2``,
and optionally ``gyr_x_<u>``, ``gyr_y_<u>``, ``gyr_z_<u>`` with ``<u>`` = ``dps`` or ``radps``. Axes are
the sensor's own. Rows that cannot be parsed, and lines over ``MAX_LINE_CHARS``, are reported by line
number and skipped. Time that goes backwards, a rate no body-worn IMU has (times in milliseconds under a
``time_s`` header give 0.5 Hz) or a time that is no time are refused naming the line, unless the caller
asks to sort the rows or to scale the times (``spinesense import --sort-time --time-unit ms``).
"""

from __future__ import annotations

import gzip
import logging
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import numpy as np

from spinesense.capture import check_regular_file
from spinesense.errors import BadInputError
from spinesense.models import GRAVITY_MPS2, RATE_RANGE_HZ

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

log = logging.getLogger(__name__)

ACC_UNITS: Final = {"g": GRAVITY_MPS2, "mps2": 1.0}
"""Accelerometer unit suffix -> factor to m/s^2."""
GYR_UNITS: Final = {"dps": np.pi / 180.0, "radps": 1.0}
"""Gyroscope unit suffix -> factor to rad/s."""
AXES: Final = ("x", "y", "z")
MAX_TIME_S: Final = 1e10
"""Times beyond this (the year 2286 as epoch seconds) are no time stamp."""
MAX_LINE_CHARS: Final = 4096
"""A sample row is under 200 characters; longer lines are skipped unparsed."""
TIME_UNITS: Final = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
"""``--time-unit`` choices: the factor from the file's time column to seconds."""


class SampleCsvError(BadInputError):
    """The file is not a usable sample CSV; the message names the column or line."""


@dataclass(slots=True)
class SampleTable:
    """A whole sample CSV in SI units, with what had to be skipped."""

    t_s: NDArray[np.float64]
    acc_mps2: NDArray[np.float64]
    gyr_radps: NDArray[np.float64] | None
    bad_lines: list[int] = field(default_factory=list)
    """Line numbers (1 = header) of rows that were skipped."""
    torn_last_line: bool = False

    @property
    def rate_hz(self) -> float:
        """Sample rate over the whole file, robust to jittery or quantised time stamps and to gaps.

        The median interval gives a first period; counting how many periods each interval spans
        (so a gap counts as several) and dividing by the total time gives the true mean rate.
        """
        if self.t_s.size < 2:
            raise SampleCsvError("fewer than two samples: cannot tell the sample rate")
        intervals = np.diff(self.t_s)
        first_period = float(np.median(intervals))
        if not first_period > 0:
            raise SampleCsvError("time_s does not increase: cannot tell the sample rate")
        periods = np.maximum(np.rint(intervals / first_period), 1.0).sum()
        return float(periods / (self.t_s[-1] - self.t_s[0]))


def _column_factor(header: list[str], sensor: str, axis: str, units: dict[str, float]) -> tuple[int, float]:
    """Find the column of one axis and its unit factor; SampleCsvError names what is wrong."""
    prefix = f"{sensor}_{axis}_"
    matches = [(i, name[len(prefix) :]) for i, name in enumerate(header) if name.startswith(prefix)]
    if not matches:
        raise SampleCsvError(f"missing column {prefix}<unit> (units: {', '.join(units)})")
    index, unit = matches[0]
    if unit not in units:
        raise SampleCsvError(f"column {header[index]!r}: unknown unit {unit!r} (use {' or '.join(units)})")
    return index, units[unit]


def _read_lines(path: Path) -> list[str]:
    """All lines of a plain or gzip CSV; a truncated gzip yields what it holds."""
    check_regular_file(path, SampleCsvError)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                return handle.read().split("\n")
        return path.read_text(encoding="utf-8").split("\n")
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
        raise SampleCsvError(f"{path}: cannot read ({exc})") from None


def read_sample_csv(path: Path, *, sort_time: bool = False, time_unit: str = "s") -> SampleTable:
    """Read a sample CSV into SI arrays; raises SampleCsvError naming the problem (and the line).

    ``sort_time``: sort rows whose time goes backwards instead of refusing the file; ``time_unit``: the
    unit of the time column (``s``, ``ms`` or ``us``) when it is not seconds despite its name.
    """
    lines = _read_lines(path)
    header = [name.strip() for name in lines[0].split(",")]
    if not header or header[0] != "time_s":
        raise SampleCsvError(f"{path}: first column must be 'time_s', found {header[0]!r}")
    acc_cols = [_column_factor(header, "acc", axis, ACC_UNITS) for axis in AXES]
    has_gyr = any(name.startswith("gyr_") for name in header)
    gyr_cols = [_column_factor(header, "gyr", axis, GYR_UNITS) for axis in AXES] if has_gyr else []
    torn = bool(lines[-1].strip())  # a complete file ends with a newline
    body = [(number, line) for number, line in enumerate(lines[1:], start=2) if line.strip()]
    for number, line in body:
        if len(line) > MAX_LINE_CHARS:
            log.warning("%s: line %d is longer than %d characters; skipped", path, number, MAX_LINE_CHARS)
    body = [(number, line) for number, line in body if len(line) <= MAX_LINE_CHARS]
    rows, bad = _parse_rows(body, len(header))
    if torn and bad and body and bad[-1] == body[-1][0]:
        log.warning("%s: last line %d is torn (file cut short); ignored", path, bad.pop())
    for number in bad:
        log.warning("%s: line %d is not %d numbers; skipped", path, number, len(header))
    if rows.shape[0] == 0:
        raise SampleCsvError(f"{path}: no sample rows")
    rows[:, 0] *= TIME_UNITS[time_unit]
    skipped = set(bad)
    numbers = np.array([n for n, _ in body if n not in skipped], dtype=np.int64)
    _check_times(path, rows[:, 0], numbers, sort_time=sort_time)
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    acc = np.column_stack([rows[:, i] * f for i, f in acc_cols])
    gyr = np.column_stack([rows[:, i] * f for i, f in gyr_cols]) if gyr_cols else None
    table = SampleTable(rows[:, 0].copy(), acc, gyr, bad, torn)
    _check_rate(path, table)
    return table


def _check_times(
    path: Path, t_s: NDArray[np.float64], numbers: NDArray[np.int64], *, sort_time: bool
) -> None:
    """SampleCsvError naming the line whose time is no time, or goes back (unless ``sort_time``)."""
    if (wild := np.flatnonzero(np.abs(t_s) > MAX_TIME_S)).size:
        line = numbers[wild[0]]
        raise SampleCsvError(f"{path}: line {line}: time_s {t_s[wild[0]]:g} is not a time in seconds")
    if not sort_time and (back := np.flatnonzero(np.diff(t_s) < 0)).size:
        i = back[0] + 1
        raise SampleCsvError(
            f"{path}: line {numbers[i]}: time_s goes back from {t_s[i - 1]:g} to {t_s[i]:g} "
            "(`spinesense import --sort-time` sorts the rows)"
        )


def _check_rate(path: Path, table: SampleTable) -> None:
    """SampleCsvError unless the table's rate is one a body-worn IMU runs at."""
    low, high = RATE_RANGE_HZ
    rate = table.rate_hz
    if not low <= rate <= high:
        hint = " (are the times in milliseconds? `spinesense import --time-unit ms`)" if rate < low else ""
        raise SampleCsvError(
            f"{path}: time_s gives {rate:.4g} Hz, outside {low:g}-{high:g} Hz for a body-worn IMU{hint}"
        )


def _parse_rows(body: list[tuple[int, str]], width: int) -> tuple[NDArray[np.float64], list[int]]:
    """Parse data lines fast with NumPy; on a bad line fall back to per-line parsing to find it."""
    if not body:
        return np.empty((0, width)), []
    try:
        rows = np.loadtxt([line for _, line in body], delimiter=",", dtype=np.float64, ndmin=2)
        if rows.shape[1:] == (width,) and np.isfinite(rows).all():
            return rows, []
    except ValueError:
        pass
    good: list[list[float]] = []
    bad: list[int] = []
    for number, line in body:
        try:
            values = [float(v) for v in line.split(",")]
        except ValueError:
            bad.append(number)
            continue
        if len(values) != width or not np.isfinite(values).all():
            bad.append(number)
            continue
        good.append(values)
    return np.array(good, dtype=np.float64).reshape(-1, width), bad


def write_sample_csv(
    path: Path,
    t_s: NDArray[np.float64],
    acc_mps2: NDArray[np.float64],
    gyr_radps: NDArray[np.float64] | None = None,
    decimals: int = 5,
) -> None:
    """Write samples in SI units (``*_mps2``, ``*_radps`` columns); gzip when the name ends in .gz."""
    columns = ["time_s"] + [f"acc_{a}_mps2" for a in AXES]
    parts = [t_s[:, None], acc_mps2]
    if gyr_radps is not None:
        columns += [f"gyr_{a}_radps" for a in AXES]
        parts.append(gyr_radps)
    data = np.hstack(parts)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as handle:
        np.savetxt(handle, data, fmt=f"%.{decimals}f", delimiter=",", header=",".join(columns), comments="")
