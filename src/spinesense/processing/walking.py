"""Initial contacts of walking steps from the sacral vertical force, streamed block by block.

Walking has no flight: the vertical specific force at the lower back swings around 1 g, rising sharply
just after each heel strike as the new leg takes the load. An initial contact is where the low-passed
force crosses ``LEVEL_G`` upwards and goes on to reach ``PEAK_G`` within ``CONFIRM_S`` (a loading
response, not a wobble), at least ``MIN_STEP_S`` after the previous one. Steps whose force dropped below
``SUPPORTED_G`` since the previous contact had a flight phase: those are running steps and are left to
the running contact detector. Measured on mobgap's lab walking data against its INDIP reference
(benchmarks/README.md).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from typing import TYPE_CHECKING

from spinesense.processing._lowpass import CausalLowPass
from spinesense.processing._search import first_at_least, first_true

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

CUTOFF_HZ = 5.0
"""Causal low-pass of the vertical force: walking steps (1.5-2.5 Hz) pass, heel-strike ringing does not."""
LEVEL_G = 1.05
"""Upward crossing of this force (g) marks the loading of the new leg."""
PEAK_G = 1.1
"""The force must reach this (g) within CONFIRM_S of the crossing to count as a step."""
CONFIRM_S = 0.1
"""Short, so that a walking stride still comes out within 150 ms of its last initial contact."""
MIN_STEP_S = 0.3
"""Crossings sooner than this after the last initial contact belong to the same step."""
SUPPORTED_G = 0.5
"""Below this (g) the body was airborne: a running step, not a walking one."""
MANY_PENDING = 4
"""Above this many pending crossings (a long block), their PEAK_G searches are done all at once."""


class WalkingContacts:
    """Finds walking initial contacts in a stream of vertical specific force (g), with carried state."""

    def __init__(self, rate_hz: float) -> None:
        """Design the low-pass for ``rate_hz`` and start with no history."""
        self._lowpass = CausalLowPass(CUTOFF_HZ, rate_hz)
        self.delay = self._lowpass.delay
        """Group delay of the low-pass (samples): reported contacts are moved back by it."""
        self._confirm = max(1, round(CONFIRM_S * rate_hz))
        self._min_step = round(MIN_STEP_S * rate_hz)
        self._prev = math.inf
        self._last = -self._min_step
        self._airborne = False
        self._pending: list[tuple[int, bool]] = []
        """Upward crossings waiting to reach PEAK_G: (sample, whether the force fell below SUPPORTED_G
        since the previous crossing)."""

    def reset(self) -> None:
        """Forget the filter state and any pending crossing (after a gap or a re-alignment)."""
        self._lowpass.reset()
        self._prev = math.inf
        self._pending.clear()
        self._airborne = False

    def feed(self, vertical_g: NDArray[np.float64], first: int) -> list[tuple[int, int]]:
        """Scan samples ``first .. first + len``; return (sample confirmed at, initial contact) pairs."""
        if not len(vertical_g):
            return []
        f_g = self._lowpass(vertical_g)
        # argmin/argmax skip the ufunc reduction machinery: several times cheaper than min/max on a
        # notification's samples (a NaN is picked by both, as min and max would return it).
        lowest, highest = float(f_g[f_g.argmin()]), float(f_g[f_g.argmax()])
        if highest < LEVEL_G or lowest >= LEVEL_G:  # most notifications: no crossing inside
            rises = [0] if lowest >= LEVEL_G and self._prev < LEVEL_G else []
        else:
            above = f_g >= LEVEL_G
            rises = ((above[1:] > above[:-1]).nonzero()[0] + 1).tolist()
            if above[0] and self._prev < LEVEL_G:
                rises.insert(0, 0)
        self._prev = float(f_g[-1])
        any_low = lowest < SUPPORTED_G
        if not rises:  # most blocks: no new step, only remember whether the body was airborne
            self._airborne |= any_low
            return self._resolve(f_g, first) if self._pending else []
        low = (f_g < SUPPORTED_G).nonzero()[0].tolist() if any_low else []
        seen = 0  # airborne samples before the previous rise: a rise was airborne if more lie before it
        for k in rises:  # a bisection per rise, not a pass over the samples
            below = bisect_left(low, k)
            self._pending.append((first + k, self._airborne or below > seen))
            self._airborne, seen = False, below
        self._airborne = len(low) > seen
        return self._resolve(f_g, first)

    def _resolve(self, f_g: NDArray[np.float64], first: int) -> list[tuple[int, int]]:
        """Confirm or drop pending crossings in order, as far as the samples seen so far allow."""
        n = len(f_g)
        end = first + n
        pending = self._pending
        # The first sample at or above PEAK_G from each crossing on (n: none in the block); whether it
        # lies within the crossing's confirmation window is checked below.
        if len(pending) > MANY_PENDING:  # a long block: bisect the indices of those samples
            hits = first_at_least(f_g, PEAK_G, [at - first for at, _ in pending])
        else:
            hits = []
            for at, _ in pending:
                lo = max(at - first, 0)
                high = first_true(f_g[lo : at + self._confirm - first] >= PEAK_G)
                hits.append(lo + high if high >= 0 else n)
        out: list[tuple[int, int]] = []
        for k, ((at, airborne), hit) in enumerate(zip(pending, hits, strict=True)):
            if at - self._last < self._min_step:
                continue
            if hit >= min(at + self._confirm, end) - first:
                if at + self._confirm > end:  # the confirmation window is not over yet
                    del pending[:k]
                    return out
                continue
            self._last = at
            if not airborne:
                out.append((first + hit, max(0, at - self.delay)))
        pending.clear()
        return out
