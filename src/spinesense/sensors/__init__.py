"""Sensor protocols: one module per family, each turning raw frames into SampleBlocks.

``make_decoder(protocol)`` returns the stateful decoder for a protocol named in a capture header;
every decoder takes recorded values with ``feed(char, data, host_t_ns)`` and counts what it
had to skip in ``errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from spinesense.models import FrameRecord
from spinesense.sensors.movesense import MovesenseDecoder
from spinesense.sensors.polar_pmd import h10_decoder, verity_decoder
from spinesense.sensors.reference import ReferenceDecoder

if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Callable, Iterable, Iterator

    from spinesense.models import Record, SampleBlock


class StreamDecoder(Protocol):
    """What every sensor decoder offers the sources and the service."""

    errors: Counter[str]
    samples: int

    @property
    def lost_samples(self) -> int:
        """Samples reported missing so far (read-only: decoders may derive it from their stream state)."""
        ...

    def feed(self, char: str, data: bytes, host_t_ns: int | None = None) -> SampleBlock | None:
        """Take one recorded value (notification or read); return decoded samples, if any."""
        ...


DECODERS: dict[str, Callable[[], StreamDecoder]] = {
    "reference": ReferenceDecoder,
    "polar_verity": verity_decoder,
    "polar_h10": h10_decoder,
    "movesense": MovesenseDecoder,
}
"""Protocol name (as in capture headers) -> decoder factory."""


class UnknownProtocolError(ValueError):
    """A capture names a sensor protocol this version does not know."""


def decode_records(records: Iterable[Record], decoder: StreamDecoder) -> Iterator[SampleBlock]:
    """The samples of a stream's frames in order, through one decoder (link events are skipped)."""
    for record in records:
        if isinstance(record, FrameRecord):
            block = decoder.feed(record.char, record.data, record.t_ns)
            if block is not None:
                yield block


def make_decoder(protocol: str) -> StreamDecoder:
    """A fresh decoder for ``protocol``; raises UnknownProtocolError listing the known ones."""
    try:
        return DECODERS[protocol]()
    except KeyError:
        known = ", ".join(sorted(DECODERS))
        raise UnknownProtocolError(f"unknown sensor protocol {protocol!r} (known: {known})") from None


__all__ = ["DECODERS", "StreamDecoder", "UnknownProtocolError", "decode_records", "make_decoder"]
