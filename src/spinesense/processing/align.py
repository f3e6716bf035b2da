"""The sensor-to-body rotation, found from the data alone, for any mounting.

Vertical: the mean specific force over a window (gravity: quiet standing, or whole strides, whose
accelerations average out). Forward: the horizontal axis along which the trunk accelerates most at
every step (braking and propulsion), signed by braking: just after a foot strikes, the body slows down.
The rotation is kept fixed once found, so slow changes of posture (leaning more as fatigue sets in)
show up as angles; when the vertical moves further than any posture change can explain, the sensor has
slipped and the rotation is found again, with a notice.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

WINDOW_S = 2.0
"""Length of the windows the vertical is estimated over: at least two strides at any cadence."""
SLIP_DEG = 25.0
"""A vertical this far from the aligned one cannot be a lean: the sensor moved on the body."""
MIN_HORIZONTAL_RATIO = 1.3
"""The main horizontal axis must carry this much more variance than the other to be trusted."""
MIN_MOTION_VAR = 0.25
"""Horizontal acceleration variance ((m/s^2)^2) below which there is no movement to take forward from."""
TURN_RATIO = 2.0
"""A clearer main axis than this, far from the aligned forward, means the sensor turned on the belt."""
TURN_DEG = 45.0
RUNNING_VERTICAL_VAR = 30.0
"""Vertical acceleration variance ((m/s^2)^2) of running: only then is a changed rotation announced.

Sitting down, bending and walking move the trunk itself (a 25-80 degree change of vertical, followed
quietly), and walking's main horizontal axis swings between forward and sideways (sway can dominate),
which looked like a turned sensor. Measured on the bundled recordings over 2 s windows: walking at most
24 (SKDH, mobgap), running 43-110 (Alcantara Shimmer) and 380-550 (Fukuchi synthetic).
"""
CONFIRM_WINDOWS = 2
"""Consecutive running windows that must show the turn before the sensor is re-aligned."""


def _unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """``v`` scaled to length 1."""
    out: NDArray[np.float64] = v / np.linalg.norm(v)
    return out


def rotation_from_axes(up: NDArray[np.float64], forward_hint: NDArray[np.float64]) -> NDArray[np.float64]:
    """The body_from_sensor rotation (rows: body x forward, y left, z up in sensor axes)."""
    z = _unit(up)
    x = _unit(forward_hint - z * float(forward_hint @ z))
    y = np.cross(z, x)
    return np.vstack([x, y, z])


Vector = tuple[float, float, float]
"""A 3-vector as plain floats: per-window 3x3 algebra in Python costs less than numpy's call overhead."""
Matrix = tuple[Vector, Vector, Vector]


@lru_cache(maxsize=4)
def _ones(n: int) -> NDArray[np.float64]:
    """A read-only vector of ``n`` ones, kept: allocating it cost more than the product it serves."""
    ones = np.ones(n)
    ones.flags.writeable = False
    return ones


def _bilinear(matrix: Matrix, u: Vector, v: Vector) -> float:
    """``u @ matrix @ v``."""
    (a, b, c), (d, e, f), (g, h, i) = matrix
    vx, vy, vz = v
    return (
        u[0] * (a * vx + b * vy + c * vz)
        + u[1] * (d * vx + e * vy + f * vz)
        + u[2] * (g * vx + h * vy + i * vz)
    )


@dataclass(frozen=True, slots=True)
class WindowMoments:
    """Mean and covariance of a window's acceleration: everything the alignment needs from it.

    Computed once per window; the vertical variance and the horizontal axes follow from them with 3x3
    algebra instead of passes over the samples. Plain floats, bit for bit what numpy gave before (same
    products, same element operations), so a rotation built from them is unchanged.
    """

    mean: Vector
    cov: Matrix
    """Covariance with n - 1 in the denominator."""
    n: int

    @classmethod
    def of(cls, acc: NDArray[np.float64]) -> WindowMoments:
        """The moments of ``acc`` (n, 3)."""
        n = acc.shape[0]
        sx, sy, sz = (_ones(n) @ acc).tolist()  # matrix products: much faster than reductions along axis 0
        mx, my, mz = sx / n, sy / n, sz / n
        # A.T @ A is exactly symmetric (numpy computes one half and mirrors it): use the upper half.
        # float64: no cancellation at these magnitudes.
        (xx, xy, xz), (_, yy, yz), (_, _, zz) = (acc.T @ acc).tolist()
        d = max(n - 1, 1)
        xy = (xy - n * (mx * my)) / d
        xz = (xz - n * (mx * mz)) / d
        yz = (yz - n * (my * mz)) / d
        cov = (
            ((xx - n * (mx * mx)) / d, xy, xz),
            (xy, (yy - n * (my * my)) / d, yz),
            (xz, yz, (zz - n * (mz * mz)) / d),
        )
        return cls((mx, my, mz), cov, n)

    def variance_along(self, axis: Vector) -> float:
        """Variance (denominator n) of the acceleration along the unit vector ``axis``."""
        return _bilinear(self.cov, axis, axis) * (self.n - 1) / self.n


def principal_horizontal_axis(
    moments: WindowMoments, up: NDArray[np.float64]
) -> tuple[NDArray[np.float64], float]:
    """The horizontal axis with the most acceleration variance, and its variance ratio to the other.

    The ratio is 0 when the horizontal acceleration is too small to be movement (standing still). Only
    for setting forward (rare): eigh's sign for the axis is arbitrary but deterministic, and it is the
    provisional forward until the stances vote, so keeping eigh keeps every stride and notice as it was.
    The per-window checks use ``horizontal_spread``: the same ratio, no sign needed, far cheaper.
    """
    up = _unit(up)
    flatten = np.eye(3) - np.outer(up, up)  # projects onto the horizontal plane
    values, vectors = np.linalg.eigh(flatten @ np.array(moments.cov) @ flatten)
    # eigh sorts ascending; the smallest is ~0 (the vertical), the largest is the main horizontal axis.
    if values[2] < MIN_MOTION_VAR:
        return vectors[:, 2], 0.0
    ratio = float(values[2] / max(values[1], 1e-12))
    return vectors[:, 2], ratio


def horizontal_spread(moments: WindowMoments, forward: Vector, left: Vector) -> tuple[float, float]:
    """``principal_horizontal_axis``'s ratio, and the main axis's angle from ``forward`` (0-90 degrees).

    ``forward`` and ``left``: orthonormal horizontal axes. The covariance in their plane is a symmetric
    2x2, solved in closed form: a few float operations instead of numpy calls of microseconds each.
    """
    a = _bilinear(moments.cov, forward, forward)
    b = _bilinear(moments.cov, forward, left)
    c = _bilinear(moments.cov, left, left)
    mid, radius = (a + c) / 2, math.hypot((a - c) / 2, b)
    # The main axis lies at half the angle of (a - c, 2b) from forward, on either side of it.
    angle = abs(math.degrees(math.atan2(2 * b, a - c) / 2))
    if mid + radius < MIN_MOTION_VAR:
        return 0.0, angle
    return (mid + radius) / max(mid - radius, 1e-12), angle


class Alignment:
    """Keeps body_from_sensor for one stream: found from the first window, re-found after a slip."""

    def __init__(self, rate_hz: float) -> None:
        """Start unaligned; ``window`` is the number of samples each estimate uses."""
        self.window = max(2, round(WINDOW_S * rate_hz))
        self.body_from_sensor: NDArray[np.float64] | None = None
        self._forward_from_motion = False
        """False while forward is a placeholder (aligned while standing): the first running sets it."""
        self.forward_known = False
        """True once the stances have confirmed the forward sign (until the next re-alignment)."""
        self._braking_votes: tuple[bool, ...] = ()
        """The last eight stances' votes (True: braking early along +forward); a tuple, see ``copy``."""
        self._turned_windows = 0

    def copy(self) -> Alignment:
        """An independent copy, to try an update and keep it only if wanted.

        Shallow is enough: the update and the votes replace their arrays and tuples, never change them.
        """
        return copy.copy(self)

    def update(self, acc_window: NDArray[np.float64]) -> str | None:
        """Take one full window of sensor-frame acceleration; return a notice when the rotation changed."""
        moments = WindowMoments.of(acc_window)
        mx, my, mz = moments.mean
        length = math.sqrt(mx * mx + my * my + mz * mz)
        if length < 1e-6:
            return None
        if self.body_from_sensor is None:
            self._set(moments)
            return None
        up = (mx / length, my / length, mz / length)
        running = moments.variance_along(up) >= RUNNING_VERTICAL_VAR
        ax, ay, az = self.body_from_sensor[2].tolist()
        tilt = math.degrees(math.acos(max(-1.0, min(1.0, up[0] * ax + up[1] * ay + up[2] * az))))
        if tilt > SLIP_DEG:
            self._set(moments)
            if not running:
                return None  # sitting, bending, lying: the trunk moved, not the sensor; follow it quietly
            return f"sensor moved on the body ({tilt:.0f} deg): re-aligned"
        if not running:
            self._turned_windows = 0
        if self._forward_from_standing(moments) or not running:
            return None
        return self._check_turn(moments)

    def _spread(self, moments: WindowMoments) -> tuple[float, float]:
        """``horizontal_spread`` in the aligned horizontal plane: ratio, and angle from forward."""
        assert self.body_from_sensor is not None  # noqa: S101 - only called once aligned
        forward, left, _ = self.body_from_sensor.tolist()
        return horizontal_spread(moments, forward, left)

    def _check_turn(self, moments: WindowMoments) -> str | None:
        """Re-align when the main horizontal axis has moved far from forward in consecutive windows."""
        ratio, turn = self._spread(moments)
        turned = ratio >= TURN_RATIO and turn > TURN_DEG
        self._turned_windows = self._turned_windows + 1 if turned else 0
        if self._turned_windows < CONFIRM_WINDOWS:
            return None
        self._set(moments)
        return f"sensor turned on the body ({turn:.0f} deg about the vertical): re-aligned"

    def _forward_from_standing(self, moments: WindowMoments) -> bool:
        """Aligned while standing: take forward from the first clear motion, keeping the standing vertical.

        Lean stays relative to upright. Returns True when forward was set now.
        """
        if self._forward_from_motion or self.body_from_sensor is None:
            return False
        if self._spread(moments)[0] < TURN_RATIO:
            return False
        axis, _ = principal_horizontal_axis(moments, self.body_from_sensor[2])
        self.body_from_sensor = rotation_from_axes(self.body_from_sensor[2], axis)
        self._forward_from_motion = True
        self._braking_votes = ()
        self.forward_known = False
        return True

    def _set(self, moments: WindowMoments) -> None:
        """Align to the mean's direction, main horizontal axis as forward (sign fixed later by braking).

        Built with numpy from the moments (rare, so its cost does not matter): the rotation comes out
        bit for bit as numpy's float64 arithmetic has always given it.
        """
        up = _unit(np.array(moments.mean))
        axis, ratio = principal_horizontal_axis(moments, up)
        if ratio < MIN_HORIZONTAL_RATIO and self.body_from_sensor is not None:
            axis = self.body_from_sensor[0]  # standing or walking slowly: keep the old forward
        elif ratio < MIN_HORIZONTAL_RATIO:
            axis = np.eye(3)[int(np.argmin(np.abs(up)))]  # no motion yet: any horizontal axis
        self._forward_from_motion = ratio >= MIN_HORIZONTAL_RATIO or self._forward_from_motion
        self.body_from_sensor = rotation_from_axes(up, axis)
        self._turned_windows = 0
        self._braking_votes = ()
        self.forward_known = False

    def vote_braking(self, early_minus_late_forward_acc: float) -> bool:
        """Count one stance's early-minus-late forward acceleration; flip forward when most say backward.

        Returns True when the forward axis was flipped (x and y negated, z kept).
        """
        if self.body_from_sensor is None:
            return False
        self._braking_votes = (*self._braking_votes[-7:], early_minus_late_forward_acc < 0)
        votes = self._braking_votes
        if len(votes) < 3:
            return False
        if sum(votes) <= len(votes) // 4:
            self.body_from_sensor = self.body_from_sensor * np.array([[-1.0], [-1.0], [1.0]])
            self._braking_votes = ()
            self.forward_known = True
            return True
        if sum(votes) >= len(votes) - len(votes) // 4:
            self.forward_known = True
        return False
