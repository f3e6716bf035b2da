"""The sensor-to-body rotation, found from the data alone, for any mounting.

Vertical: the mean specific force over a window (gravity: quiet standing, or whole strides, whose
accelerations average out). Forward: from braking. Just after a foot strikes the body slows down, and
at push-off it speeds up, so the horizontal force early in a stance minus late in it points backwards;
the sideways push (towards the midline all through a stance, opposite for the two feet) cancels in
that difference and over the two feet. The mean of the last stances' differences gives the forward
axis and its sign at once, whatever the mounting. The rotation is kept fixed once found, so slow
changes of posture (leaning more as fatigue sets in) show up as angles; when the vertical moves further
than any posture change can explain, or the braking direction moves far from forward, the sensor has
slipped or turned on the body and the rotation is found again, with a notice.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from spinesense.processing.tilt import rotate

if TYPE_CHECKING:
    from numpy.typing import NDArray

WINDOW_S = 2.0
"""Length of the windows the vertical is estimated over: at least two strides at any cadence."""
SLIP_DEG = 25.0
"""A vertical this far from the aligned one cannot be a lean: the sensor moved on the body."""
MIN_HORIZONTAL_RATIO = 1.3
"""The main horizontal axis must carry this much more variance than the other to be a provisional forward."""
MIN_MOTION_VAR = 0.25
"""Horizontal acceleration variance ((m/s^2)^2) below which there is no movement to take forward from."""
VOTES_KEPT = 8
"""Stances whose braking directions are averaged: four strides, both feet (their sideways parts cancel)."""
AGREEMENT = 0.8
"""The votes' mean must be this long relative to their mean length: stances that point every way
(no steady running) decide nothing."""
TURN_DEG = 45.0
"""Once forward is known, a braking direction this far from it means the sensor turned on the belt."""
CONFIRM_BLOCKS = 2
"""Consecutive blocks of VOTES_KEPT stances that must show the turn before the sensor is re-aligned
(one block's direction scatters by up to 30 degrees between runners and mountings)."""
RUNNING_VERTICAL_VAR = 30.0
"""Vertical acceleration variance ((m/s^2)^2) of running: only then is a moved vertical announced.

Sitting down, bending and walking move the trunk itself (a 25-80 degree change of vertical, followed
quietly). Measured on the bundled recordings over 2 s windows: walking at most 24 (SKDH, mobgap),
running 43-110 (Alcantara Shimmer) and 380-550 (Fukuchi synthetic). A turn about the vertical is
found from the stances' braking instead (``vote_forward``), which only running contacts cast: the
main horizontal axis of the acceleration, used before, swings between forward and sideways in walking
and, for runners whose pelvis sways a lot, in running too.
"""


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
    for a provisional forward when aligning (the stances' braking then decides it): eigh's sign for the
    axis is arbitrary but deterministic.
    """
    up = _unit(up)
    flatten = np.eye(3) - np.outer(up, up)  # projects onto the horizontal plane
    values, vectors = np.linalg.eigh(flatten @ np.array(moments.cov) @ flatten)
    # eigh sorts ascending; the smallest is ~0 (the vertical), the largest is the main horizontal axis.
    if values[2] < MIN_MOTION_VAR:
        return vectors[:, 2], 0.0
    ratio = float(values[2] / max(values[1], 1e-12))
    return vectors[:, 2], ratio


def stance_braking(acc: NDArray[np.float64], quat: NDArray[np.float64] | None, part: int) -> Vector:
    """A stance's mean force over its first ``part`` samples minus its last ``part``, in sensor axes.

    It points backwards (braking early, propulsion late). With an orientation ``quat`` (n, 4) each mean
    is turned into the earth frame at its part's middle sample, the difference's horizontal part is
    kept and turned back into sensor axes at mid-stance: otherwise the pelvis's own tilt and drop within
    the stance lean the 2-3 g of vertical force into the horizontal axes (several m/s^2 sideways,
    opposite for the two feet but not equal). Without one (or with NaN rows) the sensor-frame difference.
    """
    ones = _ones(part)  # matrix products: much faster than reductions along axis 0 on a few rows
    early, late = (ones @ acc[:part]).tolist(), (ones @ acc[-part:]).tolist()
    n = acc.shape[0]
    # The middles of the two parts and of the stance, as plain floats.
    middles = None if quat is None else quat[[part // 2, n - 1 - part // 2, n // 2]].tolist()
    if middles is None or any(math.isnan(q[0]) for q in middles):
        return (early[0] - late[0]) / part, (early[1] - late[1]) / part, (early[2] - late[2]) / part
    ex, ey, _ = rotate(middles[0], early)
    lx, ly, _ = rotate(middles[1], late)
    w, x, y, z = middles[2]
    return rotate((w, -x, -y, -z), ((ex - lx) / part, (ey - ly) / part, 0.0))


class Alignment:
    """Keeps body_from_sensor for one stream: found from the first window, re-found after a slip."""

    def __init__(self, rate_hz: float) -> None:
        """Start unaligned; ``window`` is the number of samples each estimate uses."""
        self.window = max(2, round(WINDOW_S * rate_hz))
        self.body_from_sensor: NDArray[np.float64] | None = None
        self.forward_known = False
        """True once the stances' braking has set forward (until the next re-alignment)."""
        self._votes: tuple[Vector, ...] = ()
        """The last stances' early-minus-late horizontal force (sensor axes); a tuple, see ``copy``."""
        self._turned_blocks = 0

    def copy(self) -> Alignment:
        """An independent copy, to try a window and keep the result only if wanted.

        Shallow is enough: ``feed`` and the votes replace their arrays and tuples, never change them.
        """
        return copy.copy(self)

    def feed(self, acc_window: NDArray[np.float64]) -> str | None:
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
        ax, ay, az = self.body_from_sensor[2].tolist()
        tilt = math.degrees(math.acos(max(-1.0, min(1.0, up[0] * ax + up[1] * ay + up[2] * az))))
        if tilt <= SLIP_DEG:
            return None
        running = moments.variance_along(up) >= RUNNING_VERTICAL_VAR
        self._set(moments)
        if not running:
            return None  # sitting, bending, lying: the trunk moved, not the sensor; follow it quietly
        return f"sensor moved on the body ({tilt:.0f} deg): re-aligned"

    def _set(self, moments: WindowMoments) -> None:
        """Align to the mean's direction, main horizontal axis as a provisional forward (braking decides).

        Built with numpy from the moments (rare, so its cost does not matter).
        """
        up = _unit(np.array(moments.mean))
        axis, ratio = principal_horizontal_axis(moments, up)
        if ratio < MIN_HORIZONTAL_RATIO and self.body_from_sensor is not None:
            axis = self.body_from_sensor[0]  # standing or walking slowly: keep the old forward
        elif ratio < MIN_HORIZONTAL_RATIO:
            axis = np.eye(3)[int(np.argmin(np.abs(up)))]  # no motion yet: any horizontal axis
        self.body_from_sensor = rotation_from_axes(up, axis)
        self._votes = ()
        self._turned_blocks = 0
        self.forward_known = False

    def vote_forward(self, early_minus_late: Vector) -> str | None:
        """Count one stance's early-minus-late force (sensor axes); set forward when the stances agree.

        Forward is set once, the first time the last VOTES_KEPT stances agree (the vertical is kept).
        After that the stances are taken in blocks of VOTES_KEPT, and only blocks pointing more than
        TURN_DEG away, CONFIRM_BLOCKS in a row, change it: the sensor turned on the belt.
        Returns a notice when forward was set or turned. Plain floats: it runs at every stance.
        """
        if self.body_from_sensor is None:
            return None
        self._votes = (*self._votes[1 - VOTES_KEPT :], early_minus_late)
        if len(self._votes) < VOTES_KEPT:
            return None
        forward = self._agreed_forward(self._votes)
        if not self.forward_known:
            if forward is None:
                return None  # the votes keep sliding until the stances agree
            self._set_forward(forward)
            self.forward_known = True
            self._votes = ()
            return "forward direction found from braking"
        self._votes = ()  # known: the next block starts afresh
        turn = 0.0
        if forward is not None:
            fx, fy, fz = self.body_from_sensor[0].tolist()
            cos = (forward[0] * fx + forward[1] * fy + forward[2] * fz) / math.hypot(*forward)
            turn = math.degrees(math.acos(max(-1.0, min(1.0, cos))))
        self._turned_blocks = self._turned_blocks + 1 if turn > TURN_DEG else 0
        if forward is None or self._turned_blocks < CONFIRM_BLOCKS:
            return None
        self._set_forward(forward)
        self._turned_blocks = 0
        return f"sensor turned on the body ({turn:.0f} deg about the vertical): re-aligned"

    def _set_forward(self, forward: Vector) -> None:
        """Keep the vertical, take ``forward``'s horizontal part as forward."""
        assert self.body_from_sensor is not None  # noqa: S101 - only called once aligned
        self.body_from_sensor = rotation_from_axes(self.body_from_sensor[2], np.array(forward))

    def _agreed_forward(self, votes: tuple[Vector, ...]) -> Vector | None:
        """Forward (horizontal) from ``votes``; None when their strides point every way (no steady running).

        Two stances in a row are one of each foot: their sum cancels what differs between the feet.
        """
        assert self.body_from_sensor is not None  # noqa: S101 - only called once aligned
        ux, uy, uz = self.body_from_sensor[2].tolist()
        sx = sy = sz = total = 0.0
        for k in range(0, len(votes) - 1, 2):
            (ax, ay, az), (bx, by, bz) = votes[k], votes[k + 1]
            x, y, z = ax + bx, ay + by, az + bz
            along = x * ux + y * uy + z * uz
            x, y, z = x - along * ux, y - along * uy, z - along * uz  # horizontal part
            sx, sy, sz = sx + x, sy + y, sz + z
            total += math.sqrt(x * x + y * y + z * z)
        if math.sqrt(sx * sx + sy * sy + sz * sz) < AGREEMENT * total or total == 0.0:
            return None
        return -sx, -sy, -sz
