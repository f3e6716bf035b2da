"""Error statistics and event matching shared by every validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class ErrorStats:
    """Estimate minus reference: bias, SD, MAE, RMSE over n pairs."""

    n: int
    bias: float
    sd: float
    mae: float
    rmse: float

    @classmethod
    def of(
        cls, estimate: NDArray[np.float64] | list[float], reference: NDArray[np.float64] | list[float]
    ) -> ErrorStats:
        """Statistics of ``estimate - reference`` (NaN when there is no pair)."""
        err = np.asarray(estimate, dtype=float) - np.asarray(reference, dtype=float)
        if err.size == 0:
            return cls(0, np.nan, np.nan, np.nan, np.nan)
        return cls(
            int(err.size),
            float(err.mean()),
            float(err.std(ddof=1)) if err.size > 1 else 0.0,
            float(np.abs(err).mean()),
            float(np.sqrt((err**2).mean())),
        )

    def row(self, name: str, unit: str) -> str:
        """A Markdown table row: metric, n, bias, SD, MAE, RMSE."""
        values = f"{self.bias:+.2f} {unit} | {self.sd:.2f} | {self.mae:.2f} | {self.rmse:.2f}"
        return f"| {name} | {self.n} | {values} |"


@dataclass
class PairedScores:
    """Paired estimates and references, per metric name (in the order first added)."""

    pairs: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)

    def add(self, name: str, estimate: float, reference: float) -> None:
        """Record one pair."""
        est, ref = self.pairs.setdefault(name, ([], []))
        est.append(estimate)
        ref.append(reference)

    def extend(self, other: PairedScores) -> None:
        """Append every pair of ``other`` (for example one trial's) after this score's own."""
        for name, (other_est, other_ref) in other.pairs.items():
            est, ref = self.pairs.setdefault(name, ([], []))
            est.extend(other_est)
            ref.extend(other_ref)

    def stats(self, name: str) -> ErrorStats:
        """Error statistics of one metric."""
        est, ref = self.pairs.get(name, ([], []))
        return ErrorStats.of(est, ref)


def match_events(
    found: NDArray[np.float64], reference: NDArray[np.float64], tolerance: float
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pair each reference event with the nearest found one within ``tolerance`` (each used once).

    Returns the indices into ``found`` and into ``reference`` of the pairs, in reference order.
    """
    found_idx: list[int] = []
    ref_idx: list[int] = []
    used: set[int] = set()
    for j, r in enumerate(reference):
        if found.size == 0:
            break
        k = int(np.argmin(np.abs(found - r)))
        if abs(found[k] - r) <= tolerance and k not in used:
            used.add(k)
            found_idx.append(k)
            ref_idx.append(j)
    return np.asarray(found_idx, dtype=np.intp), np.asarray(ref_idx, dtype=np.intp)


def crossings(signal: NDArray[np.float64], level: float) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Indices where ``signal`` first rises to ``level`` and first falls below it."""
    above = signal >= level
    rises = np.flatnonzero(~above[:-1] & above[1:]) + 1
    falls = np.flatnonzero(above[:-1] & ~above[1:]) + 1
    return rises, falls
