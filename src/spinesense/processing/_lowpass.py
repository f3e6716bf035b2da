"""A causal second-order Butterworth low-pass over a stream, with its state carried between blocks."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from scipy.signal import butter, lfilter_zi

from spinesense.processing._iir import linear_filter

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


class CausalLowPass:
    """Low-passes consecutive blocks of one signal as if they were one; starts settled on the first sample.

    One second-order section: lfilter is exact enough and costs far less per call than sosfilt.
    """

    def __init__(self, cutoff_hz: float, rate_hz: float) -> None:
        """Design the filter at ``cutoff_hz``, capped at 0.4 of ``rate_hz`` (below Nyquist)."""
        cutoff = min(cutoff_hz, 0.4 * rate_hz)
        self._b, self._a = butter(2, cutoff, fs=rate_hz)
        self._zi_unit = lfilter_zi(self._b, self._a)
        self._zi: NDArray[np.float64] | None = None
        self.delay = round(math.sqrt(2) / (2 * math.pi * cutoff) * rate_hz)
        """Group delay at low frequency (samples): events found in the output are moved back by it."""

    def reset(self) -> None:
        """Forget the state: the next block starts settled on its first sample again."""
        self._zi = None

    def __call__(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """The next block (non-empty) of the filtered signal."""
        if self._zi is None:
            self._zi = self._zi_unit * x[0]
        out: NDArray[np.float64]
        out, self._zi = linear_filter(self._b, self._a, x, self._zi)
        return out
