"""Sample indices and gaps from sensor timestamps, for protocols without a sample counter (Polar, Movesense).

Such sensors stamp each notification with their own clock. A stream keeps a running sample index: the
next frame is expected one period after the previous one's last sample; when its first sample is later
than that by more than half a period, the difference (rounded to whole periods) is reported as an
estimated gap (``Gap.exact`` false). Frames at or before the expected time continue the index.
"""

from __future__ import annotations

from dataclasses import dataclass

from spinesense.models import Gap


@dataclass(slots=True)
class TimestampedStream:
    """Running sample index of one timestamped stream at a nominal rate."""

    rate_hz: float
    next_index: int = 0
    next_t_s: float | None = None
    lost_samples: int = 0

    def place(self, first_t_s: float, n: int) -> tuple[int, tuple[Gap, ...]]:
        """Index of a frame's first sample (whose time is ``first_t_s``) and the gap before it, if any."""
        gaps: tuple[Gap, ...] = ()
        if self.next_t_s is not None:
            missing = round((first_t_s - self.next_t_s) * self.rate_hz)
            if missing > 0:
                self.next_index += missing
                self.lost_samples += missing
                gaps = (Gap(before_index=self.next_index, missing=missing, exact=False),)
        index = self.next_index
        self.next_index += n
        self.next_t_s = first_t_s + n / self.rate_hz
        return index, gaps
