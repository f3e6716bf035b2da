"""Signals of several strides side by side: one row per stride, padded to a common width.

Padding repeats each row's last sample, so maxima and minima need no mask and, with time standing still
in the padding, integrals stay flat. Every row's result depends only on its own samples (sums reduce
exactly a row's own samples; filters run along rows), so a stride gives the same figures whatever batch
it is measured in, which keeps the pipeline's output independent of how the stream is split.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from scipy.signal import lfilter

if TYPE_CHECKING:
    from numpy.typing import NDArray


class Reflection(NamedTuple):
    """Where each cell of the odd-reflection-padded rows comes from, for ``Rows.zero_phase``."""

    source: NDArray[np.intp]
    """(k, e): flat index (into the k x w cells) of the sample each extended cell is made from."""
    reflected: NDArray[np.bool_]
    """(k, e): the cell is a reflection (2 x edge sample - source) rather than the sample itself."""
    twice_first: NDArray[np.float64]
    """(k, e): 2 where the cell reflects about the row's first sample, else 0."""
    twice_last: NDArray[np.float64]
    """(k, e): 2 where the cell reflects about the row's last sample, else 0."""
    backward: NDArray[np.intp]
    """(k, e): flat index of the forward pass's cell that each cell of the backward pass reads."""
    out_at: NDArray[np.intp]
    """(k, w): flat index of the backward pass's cell that each output cell reads (edge padded again)."""


@dataclass(frozen=True, slots=True)
class Rows:
    """Index arrays for rows of the given lengths (see ``rows_for``)."""

    lengths: tuple[int, ...]
    n: NDArray[np.intp]
    """Samples in each row (k,), as an array."""
    gather: NDArray[np.intp]
    """(k, w): where each padded cell's sample is in the rows' concatenation."""
    steps: NDArray[np.float64]
    """(k, w): 0, 1, ... n-1 along each row, edge padded."""
    reflection: Reflection
    whole_row_bounds: dict[int, NDArray[np.intp]] = field(default_factory=dict)
    """``sums`` indices for whole rows, by number of rows summed (filled on first use)."""

    @property
    def width(self) -> int:
        """Padded row length."""
        return int(self.gather.shape[1])

    def pad(self, concatenated: NDArray[np.float64]) -> NDArray[np.float64]:
        """Rows concatenated along the last axis (..., sum n) -> padded (..., k, w), C-ordered."""
        if len(self.lengths) == 1:  # one row needs no padding (a live run's usual batch)
            return np.ascontiguousarray(concatenated)[..., None, :]
        out: NDArray[np.float64] = np.take(concatenated, self.gather, axis=-1)
        return out

    def sums(self, x: NDArray[np.float64], count: NDArray[np.intp] | None = None) -> NDArray[np.float64]:
        """Sum of the first ``count`` (default ``n``; at least 1) cells of each row of ``x`` (..., w).

        ``count`` has x's leading shape or its trailing part (then it repeats). One ``reduceat``
        reduction per row over exactly its own cells, whose result does not depend on where the row sits:
        summing the padding too would regroup the terms by the batch's width and change the rounding.
        """
        width = x.shape[-1]
        rows = x.size // width
        if count is not None:
            bounds = _bounds_of(count.reshape(-1), rows, width)
        elif rows in self.whole_row_bounds:
            bounds = self.whole_row_bounds[rows]
        else:
            bounds = self.whole_row_bounds[rows] = _bounds_of(self.n, rows, width)
        out: NDArray[np.float64] = np.add.reduceat(x.reshape(-1), bounds)[::2]
        return out.reshape(x.shape[:-1])

    def means(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Mean of each row over its own samples, kept as a column to subtract from the rows."""
        out: NDArray[np.float64] = (self.sums(x) / self.n)[..., None]
        return out

    def detrended_ranges(self, y: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Peak-to-peak of each row of ``y`` (..., k, w) after removing its least-squares line over ``x``.

        ``x`` is edge padded like ``y``. The line's offset does not change a peak-to-peak, so only its
        slope is removed.
        """
        xc = x - self.means(x)
        slope = self.sums(xc * y) / self.sums(xc * xc)
        residual = y - xc * slope[..., None]
        out: NDArray[np.float64] = residual.max(-1) - residual.min(-1)
        return out

    def zero_phase(
        self, x: NDArray[np.float64], b: NDArray[np.float64], a: NDArray[np.float64], zi: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Each row of ``x`` (m, k, w) filtered forward and backward, as ``scipy.signal.filtfilt`` does.

        Odd reflection of REFLECT_PAD samples at both ends, initial states settled on the first
        sample of each pass (``zi``: the filter's unit-step state). Written out for a batch: filtfilt
        takes one signal per call, and its argument handling cost more than the filtering.
        """
        source, reflected, twice_first, twice_last, backward, out_at = self.reflection
        flat = x.reshape(x.shape[0], -1)
        inner = np.take(flat, source, axis=1)
        edges = twice_first * x[..., :1] + twice_last * x[..., -1:]  # the padding repeats the last sample
        ext = np.where(reflected, edges - inner, inner)
        forward, _ = lfilter(b, a, ext, axis=-1, zi=zi * ext[..., :1])
        back_in = np.take(forward.reshape(x.shape[0], -1), backward, axis=1)
        back, _ = lfilter(b, a, back_in, axis=-1, zi=zi * back_in[..., :1])
        out: NDArray[np.float64] = np.take(back.reshape(x.shape[0], -1), out_at, axis=1)
        return out


def _bounds_of(counts: NDArray[np.intp], rows: int, width: int) -> NDArray[np.intp]:
    """``np.add.reduceat`` indices summing the first ``counts`` cells of each of ``rows`` rows (repeating)."""
    if counts.size != rows:
        counts = counts[np.arange(rows) % counts.size]
    bounds = np.empty(2 * rows, dtype=np.intp)
    bounds[0::2] = np.arange(0, rows * width, width)
    bounds[1::2] = bounds[0::2] + counts
    if bounds[-1] == rows * width:
        return bounds[:-1]  # the last row is full: its reduction runs to the end
    return bounds


REFLECT_PAD = 30
"""Samples of odd reflection at each end before a zero-phase pass (at most n - 1)."""


def rows_for(lengths: tuple[int, ...]) -> Rows:
    """The index arrays for rows of these lengths.

    A single stride's layout is cached: in a live run strides come one at a time and their lengths
    repeat. Batches of many strides rarely repeat, so theirs are built afresh rather than kept.
    """
    return _single_row(lengths) if len(lengths) == 1 else _layout(lengths)


def _layout(lengths: tuple[int, ...]) -> Rows:
    """Build the index arrays of ``rows_for``."""
    n = np.array(lengths)
    width = int(n.max())
    starts = np.concatenate([[0], np.cumsum(n)[:-1]])
    last = np.minimum(np.arange(width), n[:, None] - 1)
    return Rows(
        lengths=lengths,
        n=n,
        gather=starts[:, None] + last,
        steps=last.astype(np.float64),
        reflection=_reflection(n[:, None], width),
    )


_single_row = lru_cache(maxsize=128)(_layout)


def _reflection(n: NDArray[np.intp], width: int) -> Reflection:
    """The odd-reflection layout of rows of ``n`` (k, 1) samples, padded to ``width``."""
    pad = np.minimum(n - 1, REFLECT_PAD)
    ext_n = n + 2 * pad
    j = np.arange(int(ext_n.max()))
    row = np.arange(n.size)[:, None]
    head, tail = j < pad, j >= pad + n
    source = np.clip(np.where(head, pad - j, np.where(tail, 2 * n + pad - 2 - j, j - pad)), 0, n - 1)
    return Reflection(
        source=row * width + source,
        reflected=head | tail,
        twice_first=np.where(head, 2.0, 0.0),
        twice_last=np.where(tail, 2.0, 0.0),
        backward=row * j.size + np.maximum(ext_n - 1 - j, 0),
        out_at=row * j.size + n + pad - 1 - np.minimum(np.arange(width), n - 1),
    )


def double_integral(y: NDArray[np.float64], t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each row of ``y`` integrated twice over ``t`` (cumulative trapezoids, each starting at 0)."""
    half_dt = np.diff(t) * 0.5
    once = np.zeros_like(y)
    np.cumsum((y[..., 1:] + y[..., :-1]) * half_dt, axis=-1, out=once[..., 1:])
    twice = np.zeros_like(y)
    np.cumsum((once[..., 1:] + once[..., :-1]) * half_dt, axis=-1, out=twice[..., 1:])
    return twice


def unwrap_deg(angle_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """Wrapped angles (degrees, along rows) made continuous: each step is taken as the shortest turn."""
    out = np.empty_like(angle_deg)
    out[..., 0] = angle_deg[..., 0]
    np.cumsum((np.diff(angle_deg) + 180.0) % 360.0 - 180.0, axis=-1, out=out[..., 1:])
    out[..., 1:] += angle_deg[..., :1]
    return out
