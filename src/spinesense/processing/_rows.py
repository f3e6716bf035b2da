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

from spinesense.processing._iir import linear_filter

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray


class Extension(NamedTuple):
    """How the odd-reflection-padded rows are made from the rows, for ``Rows.zero_phase``."""

    source: NDArray[np.intp]
    """(k, e): flat index (into the k x w cells) of the sample each extended cell is made from."""
    mirrored: NDArray[np.intp]
    """Flat indices (into the k x e cells) of the reflected cells: 2 x edge sample - source there."""
    edge: NDArray[np.intp]
    """Flat index (into the k x w cells) of the edge sample each of ``mirrored`` reflects about."""


class Reversal(NamedTuple):
    """Where the backward pass of ``Rows.zero_phase`` reads its input and the output its own."""

    backward: NDArray[np.intp]
    """(k, r): flat index (into the k x e cells) of the forward pass's cell each backward cell reads."""
    out_at: NDArray[np.intp]
    """(k, w): flat index (into the k x r cells) of the backward pass's cell each output cell reads."""


@dataclass(frozen=True, slots=True)
class Rows:
    """Index arrays for rows of the given lengths (see ``rows_for``)."""

    lengths: tuple[int, ...]
    n: NDArray[np.intp]
    """Samples in each row (k,), as an array."""
    gather: NDArray[np.intp]
    """(k, w): where each padded cell's sample is in the rows' concatenation."""
    whole_row_bounds: dict[int, NDArray[np.intp]] = field(default_factory=dict)
    """``sums`` indices for whole rows, by number of rows summed (filled on first use)."""
    centred_steps: list[tuple[NDArray[np.float64], NDArray[np.float64]]] = field(default_factory=list)
    """The sample index along each row less its mean (k, w), and its sum of squares (k,): filled on
    first use by ``ranges_over_samples``, kept with a single row's cached layout."""

    @property
    def width(self) -> int:
        """Padded row length."""
        return int(self.gather.shape[1])

    def pad(self, concatenated: NDArray[np.float64]) -> NDArray[np.float64]:
        """Rows concatenated along the last axis (..., sum n) -> padded (..., k, w), C-ordered."""
        if len(self.lengths) == 1:  # one row needs no padding (a live run's usual batch)
            return np.ascontiguousarray(concatenated)[..., None, :]
        out: NDArray[np.float64] = concatenated.take(self.gather, axis=-1)
        return out

    def join(self, parts: Sequence[NDArray[np.float64]]) -> NDArray[np.float64]:
        """Each row's samples (..., n of the row) side by side, padded (..., k, w).

        ``pad`` of their concatenation; a lone row (a live run's usual batch) goes to ``pad`` as it is:
        concatenating it would only copy it. The parts are mostly transposed views of sample-major
        arrays (n, 3 or 4): their transposes are joined in whole blocks and transposed back in one copy,
        about a third faster than joining the views element by element.
        """
        if len(parts) == 1:
            return self.pad(parts[0])
        return self.pad(np.ascontiguousarray(np.concatenate([p.T for p in parts]).T))

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
        return self._ranges_about(y, xc, self.sums(xc * xc))

    def ranges_over_samples(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        """``detrended_ranges`` of ``y`` (..., k, w) over the sample index 0, 1, ... n-1 of each row."""
        if not self.centred_steps:
            steps = edge_padded(self.n).astype(np.float64)
            xc = steps - self.means(steps)
            self.centred_steps.append((xc, self.sums(xc * xc)))
        return self._ranges_about(y, *self.centred_steps[0])

    def _ranges_about(
        self, y: NDArray[np.float64], xc: NDArray[np.float64], sxx: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Peak-to-peak of each row of ``y`` less its least-squares slope over ``xc``.

        ``xc`` is the abscissa less its mean (edge padded), ``sxx`` its sum of squares per row.
        """
        slope = self.sums(xc * y) / sxx
        residual = y - xc * slope[..., None]
        out: NDArray[np.float64] = residual.max(-1) - residual.min(-1)
        return out

    def zero_phase(
        self,
        x: NDArray[np.float64],
        b: NDArray[np.float64],
        a: NDArray[np.float64],
        zi: NDArray[np.float64],
        at: NDArray[np.intp] | None = None,
    ) -> NDArray[np.float64]:
        """Each row of ``x`` (m, k, w) filtered forward and backward, as ``scipy.signal.filtfilt`` does.

        Odd reflection of REFLECT_PAD samples at both ends, initial states settled on the first
        sample of each pass (``zi``: the filter's unit-step state). Written out for a batch: filtfilt
        takes one signal per call, and its argument handling cost more than the filtering.
        ``reference.zero_phase`` is the plain version (filtfilt per row), tested equal.
        ``at``: flat indices (into the k x w cells) of the only cells wanted, (m, *at.shape) then
        coming out; without it, all of them (m, k, w).
        """
        m = x.shape[0]
        one = len(self.lengths) == 1
        # A batch's index arrays are made here and each dropped once used: arrays this size make up the
        # batch's memory peak (see strides.StrideBatch._forces).
        ext = _extend(x.reshape(m, -1), _single_extension(self.lengths[0]) if one else _extension(self.n))
        backward, out_at = _single_reversal(self.lengths[0]) if one else _reversal(self.n)
        # The backward pass stops at each row's first sample (the reflection before it is not output),
        # and reads its reversed rows into the extension's buffer, the forward pass's output being dropped
        # at once: fresh arrays this size cost page faults. mode="clip" writes straight into ``out``
        # (the default mode goes through a buffer); the indices are in range by construction.
        back_in = ext.reshape(-1)[: m * backward.size].reshape(m, *backward.shape)
        forward, _ = linear_filter(b, a, ext, zi * ext[..., :1])
        forward.reshape(m, -1).take(backward, axis=1, out=back_in, mode="clip")
        del forward
        back, _ = linear_filter(b, a, back_in, zi * back_in[..., :1])
        out: NDArray[np.float64] = back.reshape(m, -1).take(
            out_at if at is None else out_at.reshape(-1)[at], axis=1
        )
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
    starts = np.concatenate([[0], np.cumsum(n)[:-1]])
    return Rows(lengths=lengths, n=n, gather=starts[:, None] + edge_padded(n))


_single_row = lru_cache(maxsize=128)(_layout)


def edge_padded(n: NDArray[np.intp]) -> NDArray[np.intp]:
    """(..., w): 0, 1, ... n-1 along rows of ``n`` (...) samples, padded to the longest by repeating n-1."""
    out: NDArray[np.intp] = np.minimum(np.arange(int(n.max())), n[..., None] - 1)
    return out


def _padding(n: NDArray[np.intp]) -> tuple[NDArray[np.intp], int]:
    """Samples of reflection at each end of rows of ``n`` samples, as a column; the extended width."""
    pad = np.minimum(n - 1, REFLECT_PAD)
    return pad[:, None], int((n + 2 * pad).max())


def _extension(n: NDArray[np.intp]) -> Extension:
    """The odd-reflection layout of rows of ``n`` (k,) samples, padded to the longest."""
    pad, width = _padding(n)
    row = np.arange(n.size)[:, None]
    top = (n - 1)[:, None]
    first = np.broadcast_to(row * int(n.max()), (n.size, REFLECT_PAD))  # each row's first cell
    # min(|j - pad|, 2 (n - 1) - |j - pad|): the samples in the middle, mirrored about the first one
    # before them and about the last one after them; negative (clipped to the first) past the extension.
    source = np.abs(np.arange(width) - pad)
    np.minimum(source, 2 * top - source, out=source)
    np.maximum(source, 0, out=source)
    source += first[:, :1]
    near = np.arange(REFLECT_PAD)
    kept = near < pad
    head = row * width + near
    return Extension(
        source=source,
        mirrored=np.concatenate([head[kept], (head + n[:, None] + pad)[kept]]),
        edge=np.concatenate([first[kept], (first + top)[kept]]),
    )


def _reversal(n: NDArray[np.intp]) -> Reversal:
    """The backward pass's layout for rows of ``n`` (k,) samples, padded to the longest.

    It runs over each row's tail reflection and samples (n + pad cells): its head reflection is no output.
    """
    pad, width = _padding(n)
    row = np.arange(n.size)[:, None]
    ends = n[:, None] + pad
    backward = (ends + pad - 1) - np.arange(int(ends.max()))
    np.maximum(backward, 0, out=backward)
    backward += row * width
    return Reversal(backward=backward, out_at=row * backward.shape[1] + (ends - 1) - edge_padded(n))


@lru_cache(maxsize=128)
def _single_extension(n: int) -> Extension:
    """The extension of one row of ``n`` samples, kept like the row's layout (see ``rows_for``)."""
    return _extension(np.array([n]))


@lru_cache(maxsize=128)
def _single_reversal(n: int) -> Reversal:
    """The reversal of one row of ``n`` samples, kept like the row's layout (see ``rows_for``)."""
    return _reversal(np.array([n]))


def _extend(flat: NDArray[np.float64], extension: Extension) -> NDArray[np.float64]:
    """Rows (m, k x w cells) extended by odd reflection at both ends (m, k, e), as ``extension`` says."""
    source, mirrored, edge = extension
    ext: NDArray[np.float64] = flat.take(source, axis=1)
    cells = ext.reshape(flat.shape[0], -1)
    # Only the reflected cells are rewritten (whole-array arithmetic over the extension cost more),
    # one signal at a time: assigning through an index along a later axis is several times slower.
    reflected = 2.0 * flat.take(edge, axis=1)
    reflected -= cells.take(mirrored, axis=1)
    for signal, values in zip(cells, reflected, strict=True):
        signal[mirrored] = values
    return ext


def double_integral(y: NDArray[np.float64], t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each row of ``y`` integrated twice over ``t`` (cumulative trapezoids, each starting at 0)."""
    half_dt = t[..., 1:] - t[..., :-1]  # np.diff's arithmetic, without its argument handling
    half_dt *= 0.5
    once = np.zeros_like(y)
    np.cumsum((y[..., 1:] + y[..., :-1]) * half_dt, axis=-1, out=once[..., 1:])
    twice = np.zeros_like(y)
    np.cumsum((once[..., 1:] + once[..., :-1]) * half_dt, axis=-1, out=twice[..., 1:])
    return twice


def unwrap_deg(angle_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """Wrapped angles (degrees, along rows) made continuous: each step is taken as the shortest turn.

    A step is ((step + 180) mod 360) - 180. The remainder (slow for floats) is taken only where the
    shifted step is outside [0, 360), a wrap: inside, it is the shifted step itself.
    """
    out = np.empty_like(angle_deg)
    out[..., 0] = angle_deg[..., 0]
    step = angle_deg[..., 1:] - angle_deg[..., :-1]  # np.diff's arithmetic, without its argument handling
    step += 180.0
    np.remainder(step, 360.0, out=step, where=(step < 0.0) | (step >= 360.0))
    step -= 180.0
    np.cumsum(step, axis=-1, out=out[..., 1:])
    out[..., 1:] += angle_deg[..., :1]
    return out
