"""Validation on BROAD (Laidig et al. 2021): orientation against optical motion capture."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import h5py
import numpy as np

from spinesense.processing.tilt import quat_to_matrix

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray


@dataclass(frozen=True)
class BroadTrial:
    """One trial: IMU samples, the optical orientation, and which samples to score."""

    acc: NDArray[np.float64]
    gyr: NDArray[np.float64]
    quat: NDArray[np.float64]
    movement: NDArray[np.bool_]
    rate_hz: float


def load_trial(path: Path) -> BroadTrial:
    """Read one BROAD HDF5 file."""
    with h5py.File(path) as f:
        return BroadTrial(
            np.asarray(f["imu_acc"], float),
            np.asarray(f["imu_gyr"], float),
            np.asarray(f["opt_quat"], float),
            np.asarray(f["movement"], bool),
            float(f.attrs["sampling_rate"]),
        )


def inclination_rmse(vertical: NDArray[np.float64], trial: BroadTrial) -> float:
    """RMSE (deg) of the angle between an estimated vertical (sensor axes) and the optical one."""
    ok = trial.movement & np.isfinite(trial.quat).all(axis=1)
    truth = quat_to_matrix(trial.quat[ok])[:, 2, :]
    est = vertical[ok] / np.linalg.norm(vertical[ok], axis=1, keepdims=True)
    angle = np.degrees(np.arccos(np.clip((truth * est).sum(axis=1), -1, 1)))
    return float(np.sqrt((angle**2).mean()))
