"""A sorted multiset of floats: medians and percentiles of a changing set without re-sorting it.

Rolling medians and the rolling summary add one value per stride (and drop old ones); keeping the values
sorted makes each change a binary search plus a short memmove, and each median a lookup. The results are
those of ``np.median`` and ``np.percentile`` (linear interpolation) to the last bit, so the plain
recompute-everything versions stay the reference they are tested against.

The values live in an ``array('d')``, not a list of floats: a process serving hundreds of runners holds
millions of them, and the garbage collector walks every item of a list on each full collection; an array
holds plain doubles it never looks at (and takes 8 bytes a value, not 32).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, insort
from typing import TYPE_CHECKING

from spinesense.models import STRIDE_METRICS

if TYPE_CHECKING:
    from spinesense.models import Stride


class SortedValues:
    """Floats kept in order; ``add``/``remove`` in O(log n) search, ``median``/``percentile`` in O(1)."""

    __slots__ = ("_values",)

    def __init__(self) -> None:
        """Start empty."""
        self._values = array("d")  # held, not inherited: bisect is 2.5 times slower on a subclass

    def __len__(self) -> int:
        """How many values are held."""
        return len(self._values)

    def add(self, value: float) -> None:
        """Hold one more value."""
        insort(self._values, value)

    def remove(self, value: float) -> None:
        """Drop one occurrence of a value held (ValueError if it is not held)."""
        values = self._values
        i = bisect_left(values, value)
        if i == len(values) or values[i] != value:
            raise ValueError(f"{value!r} is not held")
        del values[i]

    def median(self) -> float:
        """The median as ``np.median`` gives it (the mean of the two middle values for an even count)."""
        values = self._values
        n = len(values)
        if n % 2:
            return values[n // 2]
        return (values[n // 2 - 1] + values[n // 2]) / 2

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile as ``np.percentile`` gives it (linear interpolation, same rounding)."""
        values = self._values
        n = len(values)
        fraction = q / 100
        virtual = n * fraction + (1 - fraction) - 1
        below = min(max(int(virtual // 1), 0), n - 1)
        above = min(below + 1, n - 1)
        return _lerp(values[below], values[above], virtual - below)


class MetricValues:
    """The present metrics of a set of strides, sorted per metric (``sorted[name]``)."""

    __slots__ = ("sorted",)

    def __init__(self) -> None:
        """An empty set."""
        self.sorted = {name: SortedValues() for name in STRIDE_METRICS}

    def add(self, stride: Stride) -> None:
        """Take a stride's metrics in."""
        for name, values in self.sorted.items():
            if (value := getattr(stride, name)) is not None:
                values.add(float(value))

    def remove(self, stride: Stride) -> None:
        """Take a stride's metrics out (it must have been added)."""
        for name, values in self.sorted.items():
            if (value := getattr(stride, name)) is not None:
                values.remove(float(value))


def _lerp(a: float, b: float, t: float) -> float:
    """Interpolate between ``a`` and ``b`` as numpy does: from ``b`` backwards when ``t >= 0.5``."""
    difference = b - a
    return b - difference * (1 - t) if t >= 0.5 else a + difference * t
