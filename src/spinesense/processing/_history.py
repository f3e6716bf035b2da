"""A fixed-capacity history of per-sample signals, addressed by absolute stream index."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray


class History:
    """The last ``capacity`` samples of a few named float signals, appended in blocks.

    Stride metrics need the samples of the last stride or two; keeping a bounded window keeps memory
    flat on a three-hour run. Indices are the pipeline's own sample count (0 = first sample fed).
    """

    def __init__(self, capacity: int, widths: dict[str, int]) -> None:
        """Allocate ``capacity`` rows for each signal; ``widths`` gives each signal's columns."""
        self.capacity = capacity
        self._data = {name: np.full((2 * capacity, width), np.nan) for name, width in widths.items()}
        self._targets = {name: buf[:, 0] if buf.shape[1] == 1 else buf for name, buf in self._data.items()}
        """Where ``append`` writes: a one-column signal as a 1-D view, so its (n,) blocks need no reshape."""
        self._start = 0
        """Absolute index of row 0 of the buffers."""
        self.end = 0
        """Absolute index one past the newest sample."""

    def append(self, n: int, values: dict[str, NDArray[np.float64] | float]) -> None:
        """Add ``n`` rows to the signals in ``values``; the others get NaN.

        Each value is an (n,) array for a one-column signal, an (n, width) array for the others, or a
        float that fills every new row of its signal (no per-block array for a per-block flag).
        """
        if n > self.capacity:
            raise ValueError(f"block of {n} samples exceeds the history capacity {self.capacity}")
        if self.end - self._start + n > 2 * self.capacity:
            keep_from = max(self._start, self.end + n - self.capacity)
            shift = keep_from - self._start
            for buf in self._data.values():
                buf[: self.end - keep_from] = buf[shift : self.end - self._start]
            self._start = keep_from
        row = self.end - self._start
        targets = self._targets
        for name, value in values.items():
            targets[name][row : row + n] = value
        # The rows freed by a shift keep stale values: NaN is written to a left-out signal's new rows,
        # which costs less than clearing all the freed rows of every signal at each shift.
        if len(values) < len(targets):
            for name in targets.keys() - values.keys():
                targets[name][row : row + n] = np.nan
        self.end += n

    def get(self, name: str, start: int, stop: int) -> NDArray[np.float64]:
        """Rows ``start:stop`` (absolute indices) of one signal; raises if they are no longer held."""
        if start < self._start or stop > self.end or start > stop:
            raise IndexError(f"samples {start}:{stop} not in history {self._start}:{self.end}")
        return self._data[name][start - self._start : stop - self._start]
