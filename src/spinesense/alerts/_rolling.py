"""Per-metric medians over the last strides, kept up to date stride by stride.

``RollingMedians`` is what the alert engine uses (one sorted window per metric: a stride in, the oldest
out); ``window_medians`` is the plain recompute-everything reference it is tested equal to.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from spinesense.models import STRIDE_METRICS
from spinesense.processing._sorted import MetricValues

if TYPE_CHECKING:
    from collections.abc import Sequence

    from spinesense.models import Stride


def window_medians(window: Sequence[Stride]) -> dict[str, float]:
    """Per-metric medians over ``window`` (metrics missing in most of its strides are left out)."""
    out: dict[str, float] = {}
    for name in STRIDE_METRICS:
        values = [v for s in window if (v := getattr(s, name)) is not None]
        if len(values) * 2 > len(window):
            out[name] = float(np.median(values))
    return out


class RollingMedians:
    """``window_medians`` of the last ``size`` strides, in O(log size) per stride instead of O(size)."""

    def __init__(self, size: int) -> None:
        """Follow the last ``size`` strides."""
        self.size = size
        self._strides: deque[Stride] = deque()
        self._values = MetricValues()

    def feed(self, stride: Stride) -> None:
        """Take a stride into the window; the oldest leaves once it holds ``size``."""
        self._strides.append(stride)
        self._values.add(stride)
        if len(self._strides) > self.size:
            self._values.remove(self._strides.popleft())

    def oldest(self) -> Stride:
        """The window's first stride (IndexError before any)."""
        return self._strides[0]

    def medians(self) -> dict[str, float]:
        """The medians now (the same as ``window_medians`` of the same strides)."""
        count = len(self._strides)
        return {name: s.median() for name, s in self._values.sorted.items() if len(s) * 2 > count}
