"""A run's distance: from the runner, from a watch file, or estimated from the IMU (cadence x step length).

The step length model is linear in step frequency and contact time, fitted on Alcantara et al. (2021):
37 runners on a treadmill at 3.8-5.4 m/s, the sacral IMU's step frequency and contact time against the
belt speed. ``benchmarks/step_length.py`` refits it and prints its error (docs/history.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from spinesense.models import Stride

STEP_LENGTH_COEF = (1.7333, 0.02211, -2.0261)
"""Step length (m) = a + b * step frequency (Hz) + c * contact time (s): benchmarks/step_length.py."""


def step_length_m(cadence_spm: float, gct_ms: float) -> float:
    """The model's step length for a cadence (steps/min) and a ground contact time (ms)."""
    a, b, c = STEP_LENGTH_COEF
    return a + b * cadence_spm / 60.0 + c * gct_ms / 1000.0


def estimated_distance_km(strides: Sequence[Stride]) -> float | None:
    """Distance of the running strides (two steps each) by the step length model; None without any."""
    lengths = [
        2 * step_length_m(s.cadence_spm, s.gct_ms) for s in strides if s.running and s.gct_ms is not None
    ]
    return round(sum(lengths) / 1000.0, 3) if lengths else None
