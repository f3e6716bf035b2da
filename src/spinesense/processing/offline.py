"""Blocks through one pipeline, keeping every stride and notice: for whole recordings and the service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spinesense.processing.pipeline import Pipeline

if TYPE_CHECKING:
    from spinesense.models import SampleBlock, Stride


@dataclass(slots=True)
class StreamProcessor:
    """Feeds blocks to a Pipeline made for the first block's rate and sensors; keeps all strides."""

    pipeline: Pipeline | None = None
    strides: list[Stride] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    deferred: bool = False
    """Running strides wait for ``Pipeline.measure_together``, then ``collect`` (see ``Pipeline``)."""

    def feed(self, block: SampleBlock) -> list[Stride]:
        """Process one block; return its strides (also kept in ``strides``)."""
        if self.pipeline is None:
            self.pipeline = Pipeline(block.rate_hz, has_gyr=block.has_gyr, deferred=self.deferred)
        return self._keep(self.pipeline.feed(block))

    def collect(self) -> list[Stride]:
        """A deferred pipeline's strides, once measured together with others' (also kept in ``strides``)."""
        return self._keep(self.pipeline.collect() if self.pipeline else [])

    def flush(self) -> list[Stride]:
        """End of stream: return the last strides."""
        return self._keep(self.pipeline.flush() if self.pipeline else [])

    def take_notices(self) -> list[str]:
        """The notices gathered since the last call (for a caller that shows them as they come)."""
        taken, self.notices = self.notices, []
        return taken

    def _keep(self, strides: list[Stride]) -> list[Stride]:
        """Record strides and move the pipeline's notices here."""
        self.strides.extend(strides)
        if self.pipeline is not None:
            self.notices.extend(self.pipeline.notices)
            self.pipeline.notices.clear()
        return strides
