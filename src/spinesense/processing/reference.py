"""The stride metrics written plainly, one stride at a time: each metric's definition as a short function.

``strides.StrideBatch`` measures a batch of strides with whole-array operations over padded rows, and
``_rows.Rows.zero_phase`` re-implements ``scipy.signal.filtfilt`` for such rows: fast, but the method is
hard to see there. This module is the same measurement as docs/metrics.md defines it, with SciPy's own
functions; tests/test_reference.py checks that the fast path gives these figures (to floating-point
rounding) on the bundled recordings. Like vqf's PyVQF beside VQF: read this one, run the other.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy.integrate import cumulative_trapezoid
from scipy.signal import filtfilt

from spinesense.models import GRAVITY_MPS2
from spinesense.processing._rows import REFLECT_PAD
from spinesense.processing.strides import ACCEL_VGRF_WEIGHT, Measures, StrideSamples, _com_filter
from spinesense.processing.tilt import body_angles, earth_vertical

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray


def zero_phase(x: NDArray[np.float64], rate_hz: float) -> NDArray[np.float64]:
    """The centre-of-mass low-pass of signals ``x`` (..., n): forward and backward, ``filtfilt``'s own.

    What ``Rows.zero_phase`` computes for many strides at once (odd reflection of up to REFLECT_PAD
    samples at each end, each pass starting settled on its first sample).
    """
    b, a, _ = _com_filter(rate_hz)
    out: NDArray[np.float64] = filtfilt(b, a, x, axis=-1, padlen=min(x.shape[-1] - 1, REFLECT_PAD))
    return out


def stances(s: StrideSamples) -> list[slice]:
    """The samples of the stride's two contacts: initial contact up to (not including) toe-off."""
    return [slice(ic, to) for ic, to in zip(s.ics[:2], s.tos, strict=True)]


def body_force_g(s: StrideSamples) -> NDArray[np.float64]:
    """Body-frame specific force (n, 3: forward, left, up) in g."""
    out: NDArray[np.float64] = s.acc_mps2 @ s.body_from_sensor.T / GRAVITY_MPS2
    return out


def has_orientation(s: StrideSamples) -> bool:
    """True when every sample of the stride has an orientation (a gyroscope all through)."""
    return s.quat is not None and not np.isnan(s.quat).any()


def vertical_force_g(s: StrideSamples) -> NDArray[np.float64]:
    """Specific force along the earth's vertical (n,) in g; without a whole orientation, the body's up."""
    if s.quat is None or not has_orientation(s):
        return body_force_g(s)[:, 2]
    out: NDArray[np.float64] = earth_vertical(s.quat.T, s.acc_mps2.T) / GRAVITY_MPS2
    return out


def com_force_g(s: StrideSamples, rate_hz: float) -> NDArray[np.float64]:
    """The centre of mass's body-frame force (3, n) in g: the sacrum's, low-passed at 8 Hz, zero phase."""
    return zero_phase(body_force_g(s).T, rate_hz)


def gct_ms(s: StrideSamples, rate_hz: float) -> list[float]:
    """Ground contact time of each contact: initial contact to toe-off."""
    return [(to - ic) / rate_hz * 1000.0 for ic, to in zip(s.ics[:2], s.tos, strict=True)]


def flight_ms(s: StrideSamples, rate_hz: float) -> list[float]:
    """Flight after each contact: toe-off to the next initial contact."""
    return [(ic - to) / rate_hz * 1000.0 for to, ic in zip(s.tos, s.ics[1:], strict=True)]


def peak_g(s: StrideSamples) -> list[float]:
    """Peak vertical (body up) force of each contact, unfiltered."""
    up = body_force_g(s)[:, 2]
    return [float(up[stance].max()) for stance in stances(s)]


def loading_rate_g_per_s(s: StrideSamples, rate_hz: float) -> list[float]:
    """Mean slope of the vertical force from 20 % to 80 % of each contact's peak, on the rise.

    The rise runs from initial contact to the peak; each level is where the force first reaches it
    (the contact's start if it never does); at least one sample apart.
    """
    up = body_force_g(s)[:, 2]
    out = []
    for stance in stances(s):
        rise = up[stance][: int(up[stance].argmax()) + 1]
        peak = rise[-1]
        low, high = (int(np.argmax(rise >= level * peak)) for level in (0.2, 0.8))
        out.append(0.6 * peak * rate_hz / max(high - low, 1))
    return out


def vgrf_bw(s: StrideSamples, rate_hz: float) -> list[float]:
    """Peak vertical ground reaction force of each contact (body weights).

    A blend of the centre of mass's vertical force peak and the spring-mass model's (Morin et al. 2005:
    pi/2 x step time / contact time), weighted by their errors (ACCEL_VGRF_WEIGHT).
    """
    up = com_force_g(s, rate_hz)[2]
    out = []
    for k, stance in enumerate(stances(s)):
        spring_mass = math.pi / 2 * (s.ics[k + 1] - s.ics[k]) / (s.tos[k] - s.ics[k])
        out.append(ACCEL_VGRF_WEIGHT * float(up[stance].max()) + (1 - ACCEL_VGRF_WEIGHT) * spring_mass)
    return out


def braking_g(s: StrideSamples, rate_hz: float) -> list[float]:
    """Largest backward force (positive) in the first half of each contact (at least its first sample)."""
    forward = com_force_g(s, rate_hz)[0]
    out = []
    for stance in stances(s):
        half = max((stance.stop - stance.start) // 2, 1)
        out.append(-float(forward[stance][:half].min()))
    return out


def braking_impulse_mps(s: StrideSamples, rate_hz: float) -> list[float]:
    """Speed lost to braking in each contact: the backward force summed over it, in m/s."""
    forward = com_force_g(s, rate_hz)[0]
    return [-float(np.minimum(forward[st], 0.0).sum()) * GRAVITY_MPS2 / rate_hz for st in stances(s)]


def lateral_difference_g(s: StrideSamples, rate_hz: float) -> float:
    """Mean leftward force in the first contact minus the second: positive when the first is the right."""
    left = com_force_g(s, rate_hz)[1]
    first, second = (float(left[stance].mean()) for stance in stances(s))
    return first - second


def range_less_line(y: NDArray[np.float64], x: NDArray[np.float64]) -> float:
    """Peak-to-peak of ``y`` after removing its least-squares straight line over ``x``."""
    slope, offset = np.polyfit(x, y, 1)
    return float(np.ptp(y - (slope * x + offset)))


def vertical_oscillation_cm(s: StrideSamples) -> float:
    """Peak-to-peak vertical position over the stride, less the line of the unknown start velocity and drift.

    The position is the vertical force less its mean, integrated twice (cumulative trapezoids).
    """
    vertical = vertical_force_g(s)
    acc = (vertical - vertical.mean()) * GRAVITY_MPS2
    position = cumulative_trapezoid(cumulative_trapezoid(acc, s.t_s, initial=0.0), s.t_s, initial=0.0)
    return range_less_line(position, s.t_s) * 100.0


def mean_force_g(s: StrideSamples) -> list[float]:
    """Mean body-frame force (forward, left, up) up to the stride's last contact (not including it)."""
    out: list[float] = body_force_g(s)[:-1].mean(axis=0).tolist()
    return out


def pelvic_angles_deg(s: StrideSamples) -> NDArray[np.float64] | None:
    """Sagittal, frontal and continuous transverse angle (3, n); None without a whole orientation."""
    if s.quat is None or not has_orientation(s):
        return None
    angles = body_angles(s.quat.T, s.body_from_sensor[..., None])
    angles[2] = np.unwrap(angles[2], period=360.0)
    return angles


def lean_deg(s: StrideSamples) -> list[float]:
    """Mean sagittal and frontal angle up to the stride's last contact (not including it); NaN without."""
    angles = pelvic_angles_deg(s)
    if angles is None:
        return [math.nan, math.nan]
    out: list[float] = angles[:2, :-1].mean(axis=1).tolist()
    return out


def tilt_rom_deg(s: StrideSamples) -> float:
    """Range of the sagittal angle over the stride, its linear trend removed; NaN without orientation."""
    angles = pelvic_angles_deg(s)
    return math.nan if angles is None else range_less_line(angles[0], np.arange(s.t_s.size, dtype=float))


def rotation_deg(s: StrideSamples) -> float:
    """Range of the transverse angle over the stride, its linear trend removed; NaN without orientation."""
    angles = pelvic_angles_deg(s)
    return math.nan if angles is None else range_less_line(angles[2], np.arange(s.t_s.size, dtype=float))


def drops_deg(s: StrideSamples) -> list[float]:
    """Range of the frontal angle over each contact; NaN without orientation."""
    angles = pelvic_angles_deg(s)
    if angles is None:
        return [math.nan, math.nan]
    return [float(np.ptp(angles[1][stance])) for stance in stances(s)]


def measure(s: StrideSamples, rate_hz: float) -> Measures[float, Sequence[float]]:
    """One stride's figures, each by its definition above: what ``StrideBatch.measures`` gives fast."""
    return Measures(
        start_s=float(s.t_s[0]),
        end_s=float(s.t_s[-1]),
        gct_ms=gct_ms(s, rate_hz),
        flight_ms=flight_ms(s, rate_hz),
        peak_g=peak_g(s),
        loading_g_per_s=loading_rate_g_per_s(s, rate_hz),
        vgrf_bw=vgrf_bw(s, rate_hz),
        braking_g=braking_g(s, rate_hz),
        impulse_mps=braking_impulse_mps(s, rate_hz),
        vertical_oscillation_cm=vertical_oscillation_cm(s),
        mean_force_g=mean_force_g(s),
        lean_deg=lean_deg(s),
        tilt_rom_deg=tilt_rom_deg(s),
        rotation_deg=rotation_deg(s),
        drops_deg=drops_deg(s),
        lateral_difference_g=lateral_difference_g(s, rate_hz),
    )
