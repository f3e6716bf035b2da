"""Capture files: the raw notification stream of a run, byte for byte, as JSON Lines (docs/capture-format.md).

A capture is what a source saw: a header line, then one line per notification or characteristic read
with its host receive time, plus event lines. Replaying it runs the same code path as a live run. The
writer flushes at least once a second so a crash loses at most the last second; the reader reports and
skips a torn last line (left by a crash), any corrupt or over-long line, and a damaged gzip stream (it
yields everything before the damage and counts the bytes after it), and never fails on them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import json
import logging
import math
import os
import stat
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final, Self

from spinesense.errors import BadInputError
from spinesense.models import EventRecord, FrameRecord

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator
    from types import TracebackType

    from spinesense.models import Record

log = logging.getLogger(__name__)

FORMAT_NAME: Final = "spinesense-capture"
FORMAT_VERSION: Final = 1
GZIP_MAGIC: Final = b"\x1f\x8b"
MAX_LINE_BYTES: Final = 1 << 20
"""Longer lines are skipped unread (a frame line is under 1 KB; nothing a writer makes comes near 1 MiB)."""
INFLATE_PIECE: Final = 1024
"""Compressed bytes inflated per call: a damaged stream loses at most this much before the damage."""
MAX_T_NS: Final = 2**63 - 1


class CaptureError(BadInputError):
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
    long_lines: int = 0
    """Lines over MAX_LINE_BYTES, skipped unread (also in ``bad_lines``)."""
    damage: str = ""
    """What could not be read at all: a damaged gzip stream or bytes after its end ("" when none)."""
    lost_bytes: int = 0
    """Bytes of the file after the damage, not read."""


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

    A write that fails once the file is open (disk full, a file-size limit, the disk gone read-only)
    never stops the run: the writer says so once, loudly, stops writing and counts what it could not keep
    (``failure``, ``lost``); what was flushed before stays readable.
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
        self.failure: OSError | None = None
        """Why writing stopped (None while it works)."""
        self.lost = 0
        """Records not written since the failure."""
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
        if self.failure is not None:
            return
        try:
            if self._gz is not None:
                self._gz.flush(zlib.Z_SYNC_FLUSH)
            self._raw.flush()
        except OSError as exc:
            self._fail(exc)
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Finish the file (gzip trailer), flush and fsync it; safe to call twice."""
        if self._raw.closed:
            return
        try:
            if self.failure is None:
                if self._gz is not None:
                    self._gz.close()
                self._raw.flush()
                os.fsync(self._raw.fileno())
        except OSError as exc:
            self._fail(exc)
        finally:
            with contextlib.suppress(OSError):  # buffered bytes the disk refused: already reported
                self._raw.close()

    def outcome(self) -> str:
        """One line for the closing report: where the capture went, and what it is missing."""
        if self.failure is None:
            return f"capture written to {self.path}"
        return (
            f"capture {self.path} cut short after {self.records} records ({self.failure.strerror}): "
            f"{self.lost} records not recorded"
        )

    def _fail(self, exc: OSError) -> None:
        """Stop writing for good: say once what failed and what is lost; the run goes on."""
        if self.failure is not None:
            return
        self.failure = exc
        log.error(
            "capture %s: cannot write (%s): the run goes on without a capture; everything from now on is "
            "not recorded (%d records kept before)",
            self.path,
            exc.strerror or exc,
            self.records,
        )

    def _write_line(self, obj: dict[str, Any]) -> None:
        """Write one JSON line; flush per line for plain files, at most once a second for gzip."""
        if self.failure is not None:
            self.lost += 1
            return
        line = (json.dumps(obj, separators=(",", ":")) + "\n").encode("utf-8")
        try:
            if self._gz is not None:
                self._gz.write(line)
                if time.monotonic() - self._last_flush >= self._flush_interval_s:
                    self.flush()
            else:
                self._raw.write(line)
                self._raw.flush()
        except OSError as exc:
            self._fail(exc)
        if self.failure is not None:
            self.lost += 1
            return
        self.records += 1


class Capture:
    """A capture opened for reading: its header, and its records streamed from disk."""

    def __init__(self, path: Path | str) -> None:
        """Open ``path`` and read its header; raises CaptureError when it is not a capture."""
        self.path = Path(path)
        self.stats = ReadStats()
        check_regular_file(self.path, CaptureError)
        with contextlib.closing(self._lines()) as lines:
            first = next(lines, None)
        if first is None:
            raise CaptureError(f"{self.path}: empty file, not a capture")
        try:
            header = json.loads(first[1] or "")
        except (json.JSONDecodeError, RecursionError):
            raise CaptureError(f"{self.path}: first line is not JSON, not a capture") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
            raise CaptureError(f"{self.path}: not a spinesense capture (no '{FORMAT_NAME}' header)")
        if header.get("version") != FORMAT_VERSION:
            raise CaptureError(
                f"{self.path}: capture format version {header.get('version')!r}, this spinesense reads "
                f"version {FORMAT_VERSION}"
            )
        _check_header(self.path, header)
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

    def _parse(self, number: int, text: str | None) -> Record | None:
        """Turn one line into a record, or count it as bad (torn when it is the unterminated last)."""
        if text is None:
            log.warning("%s: line %d is longer than %d bytes; skipped", self.path, number, MAX_LINE_BYTES)
            self.stats.long_lines += 1
            self.stats.bad_lines.append(number)
            return None
        try:
            obj = json.loads(text)
            t_ns = _t_ns(obj["t_ns"])
            if "event" in obj:
                fields = {k: v for k, v in obj.items() if k not in {"t_ns", "event"}}
                self.stats.events += 1
                return EventRecord(t_ns, str(obj["event"]), fields)
            data = base64.b64decode(obj["data"], validate=True)
            self.stats.frames += 1
            return FrameRecord(t_ns, str(obj["char"]), data)
        except (KeyError, TypeError, ValueError, binascii.Error, RecursionError) as exc:
            if self.stats.torn_last_line and number == self._last_line_number:
                log.warning("%s: line %d is torn (the run was cut short); ignored", self.path, number)
            else:
                log.warning("%s: line %d is corrupt (%s); skipped", self.path, number, exc)
                self.stats.bad_lines.append(number)
            return None

    def _lines(self) -> Generator[tuple[int, str | None]]:
        """Yield (line number, text) pairs in linear time; text None for a line over MAX_LINE_BYTES.

        A last line without newline marks the file as torn.
        """
        self._last_line_number = 0
        pending: list[bytes] = []
        size = 0
        too_long = False
        number = 0
        try:
            for chunk in _decompressed_chunks(self.path, self.stats):
                start = 0
                while (end := chunk.find(b"\n", start)) != -1:
                    number += 1
                    self._last_line_number = number
                    too_long = too_long or size + end - start > MAX_LINE_BYTES
                    if too_long:
                        yield number, None
                    else:
                        raw = b"".join([*pending, chunk[start:end]]) if pending else chunk[start:end]
                        yield number, raw.decode("utf-8", errors="replace")
                    if pending or too_long:
                        pending, size, too_long = [], 0, False
                    start = end + 1
                if not too_long:
                    pending.append(chunk[start:])
                    size += len(chunk) - start
                    if size > MAX_LINE_BYTES:  # keep nothing more of this line: it is skipped anyway
                        pending, too_long = [], True
        except OSError as exc:
            raise CaptureError(f"{self.path}: cannot read ({exc.strerror or exc})") from None
        if too_long or b"".join(pending).strip():
            number += 1
            self._last_line_number = number
            self.stats.torn_last_line = True
            yield number, None if too_long else b"".join(pending).decode("utf-8", errors="replace")


def _decompressed_chunks(
    path: Path, stats: ReadStats | None = None, chunk_size: int = 1 << 16
) -> Iterator[bytes]:
    """Yield the file's bytes, gunzipped when it is gzip (see ``_gunzipped``).

    Never yields an empty chunk (a gzip header alone inflates to nothing): the first chunk holds data.
    """
    with path.open("rb") as raw:
        gzipped = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if gzipped:
            yield from _gunzipped(raw, path, stats, chunk_size)
            return
        while chunk := raw.read(chunk_size):
            yield chunk


def _gunzipped(raw: BinaryIO, path: Path, stats: ReadStats | None, chunk_size: int) -> Iterator[bytes]:
    """Inflate gzip members one after the other (concatenated files are valid gzip).

    A stream cut short yields what it holds. Damage inside a member, or bytes after the last one that are
    not gzip, end the stream there: what came before is yielded, the rest is counted in ``stats``
    (``damage``, ``lost_bytes``) and logged.
    """
    size = os.fstat(raw.fileno()).st_size
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    consumed = 0  # compressed bytes fully taken by the inflater
    member_start = True
    while chunk := raw.read(chunk_size):
        out: list[bytes] = []  # what this chunk inflates to: one yield per chunk, not per piece
        while chunk:
            if member_start and not GZIP_MAGIC.startswith(chunk[:2]):
                yield from filter(None, [b"".join(out)])
                _lost(path, stats, "bytes after the end of the gzip stream", consumed, size)
                return
            piece, chunk = chunk[:INFLATE_PIECE], chunk[INFLATE_PIECE:]
            try:
                out.append(inflater.decompress(piece))
            except zlib.error as exc:
                yield from filter(None, [b"".join(out)])
                _lost(path, stats, f"gzip stream damaged ({exc})", consumed, size)
                return
            member_start = inflater.eof
            consumed += len(piece) - len(inflater.unused_data)
            if inflater.eof:
                chunk = inflater.unused_data + chunk
                inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        yield from filter(None, [b"".join(out)])
    try:
        tail = inflater.flush()
    except zlib.error:  # a member cut short: what it held was yielded already
        tail = b""
    if tail:
        yield tail


def _lost(path: Path, stats: ReadStats | None, what: str, at: int, size: int) -> None:
    """Report (once, in ``stats`` and the log) that the file cannot be read from byte ``at`` on."""
    message = f"{what} at byte {at}: the last {size - at} of {size} bytes are unreadable"
    log.warning("%s: %s; everything before is used", path, message)
    if stats is not None:
        stats.damage, stats.lost_bytes = message, size - at


def _t_ns(value: object) -> int:
    """A host time in ns: a whole, finite, non-negative number below 2^63 (ValueError otherwise)."""
    if type(value) is int and 0 <= value <= MAX_T_NS:  # what every writer writes: the fast path
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"t_ns must be a number, got {type(value).__name__}")
    if not (math.isfinite(value) and 0 <= value <= MAX_T_NS):
        raise ValueError(f"t_ns {value} is not a time")
    return int(value)


def _check_header(path: Path, header: dict[str, Any]) -> None:
    """CaptureError naming the header field whose type is wrong (a header is written by our own writer)."""
    for key, kind in (
        ("protocol", str),
        ("sensor", dict),
        ("runner", dict),
        ("start_utc", str),
        ("source", str),
    ):
        if key in header and not isinstance(header[key], kind):
            raise CaptureError(
                f"{path}: header field {key!r} must be {kind.__name__}, got {header[key]!r:.60}"
            )
    rate = header.get("rate_hz")
    if rate is not None and (
        isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < math.inf
    ):
        raise CaptureError(f"{path}: header field 'rate_hz' must be a positive number, got {rate!r:.60}")


def check_regular_file(path: Path, error: type[Exception]) -> None:
    """Raise ``error`` unless ``path`` is a regular file: FIFOs, devices and sockets are refused, not read.

    A FIFO would block every reading command until something writes to it.
    """
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise error(
            f"{path}: {'no such file' if isinstance(exc, FileNotFoundError) else exc.strerror}"
        ) from None
    if stat.S_ISDIR(mode):
        raise error(f"{path}: is a directory, expected a capture or CSV file")
    if not stat.S_ISREG(mode):
        raise error(
            f"{path}: not a regular file (FIFOs, devices and sockets are refused: save it to a file first)"
        )


def is_capture(path: Path) -> bool:
    """Cheap check whether ``path`` looks like a capture (JSON object on its first line)."""
    try:
        first = next(_decompressed_chunks(path, chunk_size=64), b"")
    except OSError:
        return False
    return first.lstrip()[:1] == b"{"


def read_capture(path: Path | str) -> Capture:
    """Open a capture for reading (see Capture)."""
    return Capture(path)
