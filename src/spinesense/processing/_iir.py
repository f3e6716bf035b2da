"""``scipy.signal.lfilter`` with an initial state, minus the argument handling that costs more than it.

Current SciPy (1.17 here) has every lfilter call dispatch on the array API and normalise its arguments
first: about 7 µs, against 1.4 µs for the recursion itself on a 19-sample notification, and the pipeline
filters each notification twice. ``linear_filter`` calls the same compiled recursion directly, so its
output is lfilter's to the bit (checked at import, and by tests/test_iir.py). That recursion,
``scipy.signal._sigtools._linear_filter``, is private: should a SciPy release move or change it, the
import or the check fails and ``linear_filter`` is plain lfilter again, only slower.

It still pays (``benchmarks/iir_private.py``, SciPy 1.17, CPU time, A/B alternately, median of 15
rounds, 2026-12-05): lfilter takes 3.6x as long on a 19-sample notification (4.4 against 1.2 µs) and
1.7x on one stride's rows (8.0 against 4.6 µs), the live path's calls; 1.03-1.05x on a batch of 64
strides or a 10-minute block, where the recursion itself dominates. ``_lfilter`` is the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from scipy.signal import lfilter

if TYPE_CHECKING:
    from numpy.typing import NDArray

Filter = Callable[..., tuple["NDArray[np.float64]", "NDArray[np.float64]"]]


def _lfilter(
    b: NDArray[np.float64], a: NDArray[np.float64], x: NDArray[np.float64], axis: int, zi: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The public lfilter, called as the compiled recursion is."""
    out, zf = lfilter(b, a, x, axis=axis, zi=zi)
    return out, zf


def _compiled() -> Filter | None:
    """SciPy's compiled recursion when it is there and gives lfilter's output on a test signal."""
    try:
        from scipy.signal._sigtools import _linear_filter  # noqa: PLC0415 - see module docstring
    except ImportError:
        return None
    b, a = np.array([0.2, 0.4, 0.2]), np.array([1.0, -0.5, 0.3])
    x = np.sin(np.arange(40.0)).reshape(2, 20)
    zi = np.array([[0.1, -0.2], [0.3, 0.05]])
    try:
        fast = _linear_filter(b, a, x, -1, zi)
    except (TypeError, ValueError):
        return None
    slow = _lfilter(b, a, x, -1, zi)
    same = all(np.array_equal(f, s) for f, s in zip(fast, slow, strict=True))
    return _linear_filter if same else None


_FILTER: Filter = _compiled() or _lfilter


def linear_filter(
    b: NDArray[np.float64], a: NDArray[np.float64], x: NDArray[np.float64], zi: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``lfilter(b, a, x, axis=-1, zi=zi)`` with its output state, for float64 arrays.

    ``zi`` has x's shape but for its last axis, ``len(b) - 1`` long: lfilter's broadcasting of ``zi`` is
    not repeated here.
    """
    return _FILTER(b, a, x, -1, zi)
