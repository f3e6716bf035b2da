"""Orientation (tilt.py): the same result however the stream is split, right angles for known poses,
and VQF's accuracy on the BROAD optical benchmark (bounds a little above what we measured)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from spinesense.processing.tilt import Orientation, body_angles, quat_to_matrix
from validation.broad import inclination_rmse, load_trial

if TYPE_CHECKING:
    from pathlib import Path


def test_the_split_of_the_stream_does_not_matter() -> None:
    rng = np.random.default_rng(1)
    acc = rng.normal(0, 2, (3000, 3)) + np.array([0, 0, 9.81])
    gyr = rng.normal(0, 1, (3000, 3))
    whole = Orientation(200.0).feed(acc, gyr)
    pieces = Orientation(200.0)
    split = np.concatenate([pieces.feed(acc[i : i + 19], gyr[i : i + 19]) for i in range(0, 3000, 19)])
    np.testing.assert_allclose(split, whole, atol=1e-12)


@pytest.mark.parametrize(("pitch", "roll"), [(15.0, 0.0), (0.0, -10.0), (-12.0, 0.0), (0.0, 7.0)])
def test_a_still_tilted_sensor_gives_its_lean(pitch: float, roll: float) -> None:
    # Body leaning forward by `pitch` and left by `roll`; sensor mounted aligned with the body.
    earth_from_body = Rotation.from_euler("xy", [-roll, pitch], degrees=True)
    gravity_in_sensor = earth_from_body.inv().apply([0, 0, 9.81])
    acc = np.tile(gravity_in_sensor, (2000, 1))
    quat = Orientation(100.0).feed(acc, np.zeros_like(acc))
    angles = body_angles(quat[-10:].T, np.eye(3))
    assert angles[0, -1] == pytest.approx(pitch, abs=0.2)
    assert angles[1, -1] == pytest.approx(roll, abs=0.2)


def test_quaternions_are_rotations() -> None:
    q = Rotation.random(50, random_state=3).as_quat()[:, [3, 0, 1, 2]]
    np.testing.assert_allclose(
        quat_to_matrix(q), Rotation.from_quat(q[:, [1, 2, 3, 0]]).as_matrix(), atol=1e-12
    )


# Measured 2026-11-22 with benchmarks/orientation.py (all trials: 0.25-1.25 deg, median 0.55).
BROAD_BOUNDS = {"02_undisturbed_slow_rotation_B.hdf5": 1.0, "07_undisturbed_fast_rotation_B.hdf5": 1.5}


@pytest.mark.parametrize("name", sorted(BROAD_BOUNDS))
def test_vqf_inclination_error_on_broad(shared_datasets: Path, name: str) -> None:
    trial = load_trial(shared_datasets / "broad" / "data_hdf5" / name)
    vertical = quat_to_matrix(Orientation(trial.rate_hz).feed(trial.acc, trial.gyr))[:, 2, :]
    assert inclination_rmse(vertical, trial) <= BROAD_BOUNDS[name]
