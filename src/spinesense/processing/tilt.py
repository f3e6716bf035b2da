"""Streaming orientation of the lumbar segment from accelerometer and gyroscope, and body angles.

Built on VQF (Laidig & Seel 2023, PyPI ``vqf``, MIT): measured as the most accurate of the filters we
compared on the BROAD benchmark and fast in the block sizes the pipeline uses (benchmarks/README.md).
It rejects accelerometer updates during impacts and estimates gyroscope bias, which is what a sacral
sensor at 3-5 g needs. VQF ships no Linux aarch64 wheel: on a Raspberry Pi pip builds it from source
(Cython and g++, about a minute).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from vqf import VQF

if TYPE_CHECKING:
    from numpy.typing import NDArray


class Orientation:
    """Sensor orientation, sample by sample, with the filter state carried across calls.

    ``update`` returns unit quaternions [w, x, y, z] that rotate sensor-frame vectors into an earth
    frame whose z axis points up (heading arbitrary). Splitting the stream differently gives the same
    result, because VQF's batch update carries its state exactly.
    """

    def __init__(self, rate_hz: float) -> None:
        """Start a filter for samples at ``rate_hz``."""
        self._vqf = VQF(1.0 / rate_hz)

    def update(self, acc_mps2: NDArray[np.float64], gyr_radps: NDArray[np.float64]) -> NDArray[np.float64]:
        """Feed samples (n, 3) in sensor axes; return the orientation after each one, shape (n, 4)."""
        out = self._vqf.updateBatch(
            np.ascontiguousarray(gyr_radps, dtype=np.float64),
            np.ascontiguousarray(acc_mps2, dtype=np.float64),
        )
        quat: NDArray[np.float64] = out["quat6D"]
        return quat


def quat_to_matrix(quat: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rotation matrices (n, 3, 3) of unit quaternions [w, x, y, z] (n, 4)."""
    w, x, y, z = quat.T
    out = np.empty((quat.shape[0], 3, 3))
    out[:, 0, 0] = 1 - 2 * (y * y + z * z)
    out[:, 0, 1] = 2 * (x * y - w * z)
    out[:, 0, 2] = 2 * (x * z + w * y)
    out[:, 1, 0] = 2 * (x * y + w * z)
    out[:, 1, 1] = 1 - 2 * (x * x + z * z)
    out[:, 1, 2] = 2 * (y * z - w * x)
    out[:, 2, 0] = 2 * (x * z - w * y)
    out[:, 2, 1] = 2 * (y * z + w * x)
    out[:, 2, 2] = 1 - 2 * (x * x + y * y)
    return out


def body_angles(quat: NDArray[np.float64], body_from_sensor: NDArray[np.float64]) -> NDArray[np.float64]:
    """Sagittal, frontal and transverse angles of the body segment in degrees, shape (n, 3).

    ``body_from_sensor`` (3, 3) maps sensor axes to body axes (x forward, y left, z up) as mounted.
    Sagittal: forward inclination of the body's up axis (positive = leaning forward). Frontal: sideways
    inclination (positive = leaning to the left, i.e. the right side of the pelvis higher). Transverse:
    heading of the body's forward axis in the horizontal plane (positive = turned to the left), wrapped
    to (-180, 180]; only its changes within a stride mean something, the heading itself is arbitrary.
    """
    earth_from_body = quat_to_matrix(quat) @ body_from_sensor.T
    up = earth_from_body[:, :, 2]
    fwd = earth_from_body[:, :, 0]
    heading = np.arctan2(fwd[:, 1], fwd[:, 0])
    cos_h, sin_h = np.cos(heading), np.sin(heading)
    # The up axis expressed in a heading-aligned horizontal frame: ahead and to the left.
    up_ahead = cos_h * up[:, 0] + sin_h * up[:, 1]
    up_left = -sin_h * up[:, 0] + cos_h * up[:, 1]
    sagittal = np.arctan2(up_ahead, up[:, 2])
    frontal = np.arctan2(up_left, up[:, 2])
    angles: NDArray[np.float64] = np.degrees(np.column_stack([sagittal, frontal, heading]))
    return angles
