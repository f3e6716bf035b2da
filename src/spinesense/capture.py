"""Capture files: the raw notification stream of a run, byte for byte, as JSON Lines (docs/capture-format.md).

A capture is what a source saw: a header line, then one line per notification or characteristic read
with its host receive time, plus event lines. Replaying it runs the same code path as a live run. The
writer flushes at least once a second so a crash loses at most the last second; the reader reports and
skips a torn last line (left by a crash) and any corrupt line, and never fails on them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import json
import logging
import os
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self

from spinesense.models import EventRecord, FrameRecord

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator
    from types import TracebackType

    from spinesense.models import Record

log = logging.getLogger(__name__)

FORMAT_NAME: Final = "spinesense-capture"
FORMAT_VERSION: Final = 1
GZIP_MAGIC: Final = b"\x1f\x8b"


class CaptureError(Exception):
    """The file is not a usable capture (missing, unreadable, or no valid header)."""


@dataclass(slots=True)
class ReadStats:
    """What the reader had to skip, so callers can report it."""

    frames: int = 0
    events: int = 0
    bad_lines: list[int] = field(default_factory=list)
    """Line numbers of corrupt lines that were skipped."""
    torn_last_line: bool = False
    """The file ended in a partial line (or a truncated gzip stream), as a crash leaves it."""


def make_header(
    *,
    protocol: str,
    rate_hz: float,
    sensor_name: str = "",
    sensor_address: str = "",
    runner: dict[str, Any] | None = None,
    start_utc: str | None = None,
    source: str = "",
) -> dict[str, Any]:
    """Build a capture header with the fields every capture carries."""
    if start_utc is None:
        start_utc = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "protocol": protocol,
        "sensor": {"name": sensor_name, "address": sensor_address},
        "rate_hz": rate_hz,
        "runner": runner or {},
        "start_utc": start_utc,
        "source": source,
    }


class CaptureWriter:
    """Appends records to a capture file; safe against crashes (flushes at least every second).

    Plain files are flushed to the OS after every line; gzip files get a sync flush at most once per
    ``flush_interval_s`` so compression stays good, and whatever was flushed stays readable after a
    crash. ``close()`` writes the gzip trailer and fsyncs.
    """

    def __init__(self, path: Path | str, header: dict[str, Any], flush_interval_s: float = 1.0) -> None:
        """Create (or truncate) ``path`` and write the header line."""
        self.path = Path(path)
        if header.get("format") != FORMAT_NAME:
            raise ValueError(f"header must have format {FORMAT_NAME!r}; build it with make_header()")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._gzip = self.path.suffix == ".gz"
        self._raw = self.path.open("wb")
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", mtime=0) if self._gzip else None
        self._flush_interval_s = flush_interval_s
        self._last_flush = time.monotonic()
        self.records = 0
        self._write_line(header)
        self.flush()

    def __enter__(self) -> Self:
        """Use as a context manager that closes the file cleanly."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the file, also when the block raised."""
        self.close()

    @property
    def closed(self) -> bool:
        """Whether the file has been closed."""
        return self._raw.closed

    def frame(self, t_ns: int, char: str, data: bytes) -> None:
        """Record a notification or characteristic read received at host time ``t_ns``."""
        self._write_line({"t_ns": t_ns, "char": char, "data": base64.b64encode(data).decode("ascii")})

    def event(self, t_ns: int, name: str, **fields: Any) -> None:  # noqa: ANN401 - JSON values
        """Record an event (connect, disconnect, note ...) with JSON-serialisable fields."""
        self._write_line({"t_ns": t_ns, "event": name, **fields})

    def write(self, record: Record) -> None:
        """Record a frame or an event as read from a source (the line it came from, byte for byte)."""
        if isinstance(record, FrameRecord):
            self.frame(record.t_ns, record.char, record.data)
        else:
            self.event(record.t_ns, record.event, **record.fields)

    def flush(self) -> None:
        """Push everything written so far to the OS (a gzip sync flush keeps it decodable)."""
        if self._gz is not None:
            self._gz.flush(zlib.Z_SYNC_FLUSH)
        self._raw.flush()
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Finish the file (gzip trailer), flush and fsync it; safe to call twice."""
        if self._raw.closed:
            return
        if self._gz is not None:
            self._gz.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()

    def _write_line(self, obj: dict[str, Any]) -> None:
        """Write one JSON line; flush per line for plain files, at most once a second for gzip."""
        line = (json.dumps(obj, separators=(",", ":")) + "\n").encode("utf-8")
        if self._gz is not None:
            self._gz.write(line)
            if time.monotonic() - self._last_flush >= self._flush_interval_s:
                self.flush()
        else:
            self._raw.write(line)
            self._raw.flush()
        self.records += 1


class Capture:
    """A capture opened for reading: its header, and its records streamed from disk."""

    def __init__(self, path: Path | str) -> None:
        """Open ``path`` and read its header; raises CaptureError when it is not a capture."""
        self.path = Path(path)
        self.stats = ReadStats()
        if not self.path.is_file():
            raise CaptureError(f"{self.path}: no such file")
        with contextlib.closing(self._lines()) as lines:
            first = next(lines, None)
        if first is None:
            raise CaptureError(f"{self.path}: empty file, not a capture")
        try:
            header = json.loads(first[1])
        except json.JSONDecodeError as exc:
            raise CaptureError(f"{self.path}: first line is not JSON ({exc.msg})") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
            raise CaptureError(f"{self.path}: not a spinesense capture (no '{FORMAT_NAME}' header)")
        if header.get("version") != FORMAT_VERSION:
            raise CaptureError(
                f"{self.path}: capture format version {header.get('version')!r}, this spinesense reads "
                f"version {FORMAT_VERSION}"
            )
        self.header: dict[str, Any] = header

    @property
    def protocol(self) -> str:
        """The sensor protocol named in the header."""
        return str(self.header.get("protocol", ""))

    def records(self) -> Iterator[Record]:
        """Yield every valid record in file order; bad and torn lines are counted in ``stats``."""
        self.stats = ReadStats()
        lines = self._lines()
        next(lines, None)  # the header
        for number, text in lines:
            record = self._parse(number, text)
            if record is not None:
                yield record

    def _parse(self, number: int, text: str) -> Record | None:
        """Turn one line into a record, or count it as bad (torn when it is the unterminated last)."""
        try:
            obj = json.loads(text)
            t_ns = int(obj["t_ns"])
            if "event" in obj:
                fields = {k: v for k, v in obj.items() if k not in {"t_ns", "event"}}
                self.stats.events += 1
                return EventRecord(t_ns, str(obj["event"]), fields)
            data = base64.b64decode(obj["data"], validate=True)
            self.stats.frames += 1
            return FrameRecord(t_ns, str(obj["char"]), data)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, binascii.Error) as exc:
            if self.stats.torn_last_line and number == self._last_line_number:
                log.warning("%s: line %d is torn (the run was cut short); ignored", self.path, number)
            else:
                log.warning("%s: line %d is corrupt (%s); skipped", self.path, number, exc)
                self.stats.bad_lines.append(number)
            return None

    def _lines(self) -> Generator[tuple[int, str]]:
        """Yield (line number, text) pairs; a last line without newline marks the file as torn."""
        self._last_line_number = 0
        pending = b""
        number = 0
        try:
            for chunk in _decompressed_chunks(self.path):
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    number += 1
                    self._last_line_number = number
                    yield number, raw.decode("utf-8", errors="replace")
        except (OSError, zlib.error) as exc:
            raise CaptureError(f"{self.path}: cannot read ({exc})") from None
        if pending.strip():
            number += 1
            self._last_line_number = number
            self.stats.torn_last_line = True
            yield number, pending.decode("utf-8", errors="replace")


def _decompressed_chunks(path: Path, chunk_size: int = 1 << 16) -> Iterator[bytes]:
    """Yield the file's bytes, gunzipped when it is gzip; a stream cut short yields what it holds.

    Never yields an empty chunk (a gzip header alone inflates to nothing): the first chunk holds data.
    """
    with path.open("rb") as raw:
        gzipped = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if not gzipped:
            while chunk := raw.read(chunk_size):
                yield chunk
            return
        inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        while chunk := raw.read(chunk_size):
            while chunk:
                if inflated := inflater.decompress(chunk):
                    yield inflated
                chunk = inflater.unused_data if inflater.eof else b""
                if inflater.eof:
                    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        if tail := inflater.flush():
            yield tail


def is_capture(path: Path) -> bool:
    """Cheap check whether ``path`` looks like a capture (JSON object on its first line)."""
    try:
        first = next(_decompressed_chunks(path, chunk_size=64), b"")
    except (OSError, zlib.error):
        return False
    return first.lstrip()[:1] == b"{"


def read_capture(path: Path | str) -> Capture:
    """Open a capture for reading (see Capture)."""
    return Capture(path)
