"""Sample blocks through the pipeline alone (no alert rules, no recording): for the benchmarks that score
the processing against reference data and the tests that split a stream into blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spinesense.processing.offline import StreamProcessor

if TYPE_CHECKING:
    from collections.abc import Iterable

    from spinesense.models import SampleBlock


def strides_from_blocks(blocks: Iterable[SampleBlock]) -> StreamProcessor:
    """Run every block through one pipeline; the result holds the strides and the notices."""
    processor = StreamProcessor()
    for block in blocks:
        processor.feed(block)
    processor.flush()
    return processor
