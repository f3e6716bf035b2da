"""Streaming orientation of the lumbar segment from accelerometer and gyroscope, and body angles.

Built on VQF (Laidig & Seel 2023, PyPI ``vqf``, MIT): measured as the most accurate of the filters we
compared on the BROAD benchmark and fast in the block sizes the pipeline uses (benchmarks/README.md).
It rejects accelerometer updates during impacts and estimates gyroscope bias, which is what a sacral
sensor at 3-5 g needs. VQF ships no Linux aarch64 wheel: on a Raspberry Pi pip builds it from source
(Cython and g++, about a minute).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload

import numpy as np
from vqf import VQF

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray


class Orientation:
    """Sensor orientation, sample by sample, with the filter state carried across calls.

    ``feed`` returns unit quaternions [w, x, y, z] that rotate sensor-frame vectors into an earth
    frame whose z axis points up (heading arbitrary). Splitting the stream differently gives the same
    result, because VQF's batch update carries its state exactly.
    """

    def __init__(self, rate_hz: float) -> None:
        """Start a filter for samples at ``rate_hz``."""
        self._vqf = VQF(1.0 / rate_hz)

    def feed(self, acc_mps2: NDArray[np.float64], gyr_radps: NDArray[np.float64]) -> NDArray[np.float64]:
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


@overload
def rotate(
    quat: NDArray[np.float64], v: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]: ...
@overload
def rotate(quat: Sequence[float], v: Sequence[float]) -> tuple[float, float, float]: ...
def rotate(quat: Any, v: Any) -> Any:
    """Vectors ``v`` (3, ...) rotated by unit quaternions [w, x, y, z] (4, ...), component first.

    Components first so that each step is one operation over contiguous arrays; shapes broadcast.
    Plain floats work too (one vector, one quaternion: far cheaper than numpy for a single one).
    """
    w, qx, qy, qz = quat
    vx, vy, vz = v
    tx, ty, tz = 2.0 * (qy * vz - qz * vy), 2.0 * (qz * vx - qx * vz), 2.0 * (qx * vy - qy * vx)
    return (
        vx + w * tx + (qy * tz - qz * ty),
        vy + w * ty + (qz * tx - qx * tz),
        vz + w * tz + (qx * ty - qy * tx),
    )


def earth_vertical(quat: NDArray[np.float64], v: NDArray[np.float64]) -> NDArray[np.float64]:
    """The earth-vertical (up) component of sensor-frame vectors ``v`` (3, ...), as ``rotate(quat, v)[2]``."""
    w, qx, qy, qz = quat
    out: NDArray[np.float64] = (
        2.0 * (qx * qz - w * qy) * v[0]
        + 2.0 * (qy * qz + w * qx) * v[1]
        + (1.0 - 2.0 * (qx * qx + qy * qy)) * v[2]
    )
    return out


def body_angles(quat: NDArray[np.float64], body_from_sensor: NDArray[np.float64]) -> NDArray[np.float64]:
    """Sagittal, frontal and transverse angles of the body segment in degrees, shape (3, ...).

    ``quat`` (4, ...) is component first (``Orientation.feed``'s output transposed);
    ``body_from_sensor`` (3, 3, ...) maps sensor axes to body axes (x forward, y left, z up) as mounted,
    its trailing axes broadcasting against the quaternions'.
    Sagittal: forward inclination of the body's up axis (positive = leaning forward). Frontal: sideways
    inclination (positive = leaning to the left, i.e. the right side of the pelvis higher). Transverse:
    heading of the body's forward axis in the horizontal plane (positive = turned to the left), wrapped
    to (-180, 180]; only its changes within a stride mean something, the heading itself is arbitrary.
    """
    ux, uy, uz = rotate(quat, body_from_sensor[2])  # the body's up and forward axes in earth coordinates
    fx, fy, _ = rotate(quat, body_from_sensor[0])
    horizontal = np.hypot(fx, fy)
    # The up axis in a heading-aligned horizontal frame (ahead, to the left), scaled by ``horizontal``.
    up = uz * horizontal
    angles: NDArray[np.float64] = np.empty((3, *up.shape))  # filled in place: no stacking copy
    np.arctan2(fx * ux + fy * uy, up, out=angles[0])
    np.arctan2(fx * uy - fy * ux, up, out=angles[1])
    np.arctan2(fy, fx, out=angles[2])
    np.degrees(angles, out=angles)
    return angles
