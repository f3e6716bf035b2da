"""Validation of the step length model: running speed from cadence and contact time against known speeds.

Fitting data: Alcantara et al. (2021) treadmill trials (IMU step frequency and contact time, belt speed).
Independent check: the Fukuchi RBDS captures in replay_data/fukuchi/, treadmill at 2.5, 3.5 and 4.5 m/s,
run through the whole pipeline; the segment's median cadence and contact time give the model's speed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from spinesense.run import analyse
from spinesense.store.distance import step_length_m

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

TREADMILL_SPEED = re.compile(r"runT(\d)(\d)")
"""Fukuchi trial names carry the belt speed: ``runT35`` is 3.5 m/s."""


@dataclass(frozen=True, slots=True)
class SpeedCheck:
    """One treadmill segment: the belt speed and the model's estimate."""

    trial: str
    speed_mps: float
    estimate_mps: float

    @property
    def error(self) -> float:
        """Relative error of the estimate (the same as that of the distance over the segment)."""
        return self.estimate_mps / self.speed_mps - 1.0


def fukuchi_checks(folder: Path, name: str) -> list[SpeedCheck]:
    """The model's speed on each running segment of a Fukuchi capture against the treadmill's."""
    strides = analyse(folder / f"{name}.jsonl.gz").strides
    meta = json.loads((folder / f"{name}_truth.json").read_text())
    checks = []
    for segment in meta["segments"]:
        speed = TREADMILL_SPEED.search(segment["file"])
        inside = [
            s
            for s in strides
            if s.running and s.gct_ms is not None and segment["start_s"] <= s.t_start_s < segment["end_s"]
        ]
        if speed is None or not inside:
            continue
        cadence = float(np.median([s.cadence_spm for s in inside]))
        gct = float(np.median([s.gct_ms for s in inside if s.gct_ms is not None]))
        estimate = step_length_m(cadence, gct) * cadence / 60.0
        checks.append(SpeedCheck(segment["file"], int(speed[1]) + int(speed[2]) / 10, estimate))
    return checks


def fit_coefficients(
    step_hz: NDArray[np.float64], contact_s: NDArray[np.float64], speed_mps: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Least-squares (a, b, c) of step length = a + b * step frequency + c * contact time."""
    design = np.column_stack([np.ones_like(step_hz), step_hz, contact_s])
    coef, *_ = np.linalg.lstsq(design, speed_mps / step_hz, rcond=None)
    return np.asarray(coef, dtype=np.float64)
