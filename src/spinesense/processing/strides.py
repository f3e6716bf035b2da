"""Per-stride metrics from the samples of one stride (two contacts), in the body frame.

Every metric is defined in docs/metrics.md. Inputs are body-frame specific force in g (x forward,
y left, z up) and, with a gyroscope, the body angles from ``tilt.body_angles``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
from scipy.signal import butter, lfilter, lfilter_zi

from spinesense.models import GRAVITY_MPS2, Stride

if TYPE_CHECKING:
    from numpy.typing import NDArray

COM_CUTOFF_HZ = 8.0
"""Low-pass (zero phase) that turns sacral acceleration into an estimate of the centre of mass's:
above about 8 Hz the sacrum carries impact transients and soft-tissue wobble the body mass does not
follow. Chosen on the Alcantara treadmill data (benchmarks/README.md)."""
SIDE_MARGIN_G = 0.02
"""Mean sideways force difference per stride (between its two stances) below which the side is unknown."""


@dataclass(frozen=True, slots=True)
class StrideSamples:
    """The samples of one stride plus what the gait stage found in them (indices relative to t)."""

    index: int
    t_s: NDArray[np.float64]
    """Sample times from the first initial contact to the next one of the same foot (inclusive)."""
    f_g: NDArray[np.float64]
    """Body-frame specific force in g, shape (n, 3)."""
    angles_deg: NDArray[np.float64] | None
    """Sagittal, frontal, transverse body angles (n, 3); None without a gyroscope."""
    ics: tuple[int, int, int]
    """Initial contacts: first foot, second foot, first foot again (the last is the stride's end)."""
    tos: tuple[int, int]
    """Toe-offs of the two contacts."""
    rate_hz: float
    side_evidence_g: float = 0.0
    """Sum of ``lateral_difference`` over this stride and the earlier ones of its step sequence (which
    all start on the same foot), so one noisy stride cannot flip the side."""
    strides_in_sequence: int = 1
    forward_known: bool = True
    """False until braking has fixed the forward sign: metrics that need it are then None."""
    clipped: bool = False


COM_PAD = 30
"""Samples of odd reflection padded at each end before the zero-phase pass (as scipy's filtfilt does)."""


@cache
def _com_filter(rate_hz: float) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Numerator, denominator and unit-step initial state of the centre-of-mass low-pass."""
    cutoff = min(COM_CUTOFF_HZ, 0.45 * rate_hz)
    b, a = butter(2, cutoff, fs=rate_hz)
    return b, a, lfilter_zi(b, a)


def _filtfilt(x: NDArray[np.float64], rate_hz: float) -> NDArray[np.float64]:
    """Zero-phase centre-of-mass low-pass of ``x`` (n, k) along axis 0.

    The same as ``scipy.signal.filtfilt`` with odd padding for this one second-order section, without
    its generic argument handling, which cost more than the filtering on a stride's 100-300 samples.
    """
    b, a, zi = _com_filter(rate_hz)
    pad = min(x.shape[0] - 1, COM_PAD)
    ext = np.concatenate([2 * x[0] - x[pad:0:-1], x, 2 * x[-1] - x[-2 : -pad - 2 : -1]])
    fwd, _ = lfilter(b, a, ext, axis=0, zi=np.outer(zi, ext[0]))
    back, _ = lfilter(b, a, fwd[::-1], axis=0, zi=np.outer(zi, fwd[-1]))
    out: NDArray[np.float64] = back[::-1][pad : pad + x.shape[0]]
    return out


def _detrended(y: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``y`` minus its least-squares straight line over ``x`` (closed form, no lstsq per stride)."""
    xc = x - x.mean()
    yc = y - y.mean()
    out: NDArray[np.float64] = yc - xc * (float(xc @ yc) / float(xc @ xc))
    return out


def detrended_range(y: NDArray[np.float64], x: NDArray[np.float64]) -> float:
    """Peak-to-peak of ``y`` after removing its least-squares straight line over ``x``."""
    return float(np.ptp(_detrended(y, x)))


def _cumtrapz(y: NDArray[np.float64], t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cumulative trapezoidal integral of ``y`` over ``t``, starting at 0."""
    out = np.zeros_like(y)
    np.cumsum((y[1:] + y[:-1]) * np.diff(t) * 0.5, out=out[1:])
    return out


def _mean2(pair: list[float]) -> float:
    """Mean of the two stances' values (plain floats: np.mean costs more than the sum here)."""
    return (pair[0] + pair[1]) / 2


def lateral_difference(f_left_g: NDArray[np.float64], stances: list[slice]) -> float:
    """Mean leftward force in the first stance minus the second (g).

    During a stance the ground pushes the body towards the midline, away from the foot: leftwards
    during a right-foot stance. A positive difference says the first stance is the right foot's.
    """
    first, second = (float(f_left_g[s].mean()) for s in stances)
    return first - second


def other_side(side: str) -> str:
    """The other foot: "right" for "left" and "left" for "right"."""
    return "right" if side == "left" else "left"


def _by_side(side: str, first: float, second: float) -> dict[str, float | None]:
    """A per-stance pair keyed by foot, the first stance being ``side``'s (both None if "unknown")."""
    if side == "unknown":
        return {"left": None, "right": None}
    return {side: first, other_side(side): second}


def _side(s: StrideSamples) -> str:
    """Side of the stride's first contact from the evidence of its sequence."""
    if not s.forward_known or abs(s.side_evidence_g) < SIDE_MARGIN_G * s.strides_in_sequence:
        return "unknown"
    return "right" if s.side_evidence_g > 0 else "left"


def _loading_rate(f_vert: NDArray[np.float64], stance: slice, rate_hz: float) -> float:
    """Mean slope (g/s) of vertical force between 20 % and 80 % of the stance's peak, on the rise."""
    rise = f_vert[stance]
    peak_at = int(np.argmax(rise))
    peak = float(rise[peak_at])
    before = rise[: peak_at + 1]
    lo = int(np.argmax(before >= 0.2 * peak))
    hi = int(np.argmax(before >= 0.8 * peak))
    return 0.6 * peak * rate_hz / max(hi - lo, 1)


def _earth_vertical(f_g: NDArray[np.float64], angles_deg: NDArray[np.float64] | None) -> NDArray[np.float64]:
    """Specific force (g) along the earth's vertical: the body's up axis tilted back by the body angles.

    Without a gyroscope (no angles) the body's up axis, fixed at alignment, stands in for it.
    """
    if angles_deg is None:
        body_up: NDArray[np.float64] = f_g[:, 2]
        return body_up
    sag, front = np.radians(angles_deg[:, 0]), np.radians(angles_deg[:, 1])
    earth_up: NDArray[np.float64] = (
        np.cos(sag) * np.cos(front) * f_g[:, 2] - np.sin(sag) * f_g[:, 0] - np.sin(front) * f_g[:, 1]
    )
    return earth_up


def _vertical_oscillation_cm(f_vert_g: NDArray[np.float64], t_s: NDArray[np.float64]) -> float:
    """Peak-to-peak vertical excursion over the stride from doubly integrated acceleration.

    A stride is periodic: velocity and position return to their start, so the mean acceleration and
    the mean velocity are removed before each integration, and the residual drift is detrended.
    The input is not low-passed: integrating twice already weighs content at f by 1/(2 pi f)^2, and a
    zero-phase filter over one stride's samples bends its ends (edge transients) into centimetres of
    false excursion (+3.3 cm against the Fukuchi motion capture; benchmarks/README.md).
    """
    acc = (f_vert_g - f_vert_g.mean()) * GRAVITY_MPS2
    vel = _cumtrapz(acc, t_s)
    vel -= vel.mean()
    return detrended_range(_cumtrapz(vel, t_s), t_s) * 100.0


def _range_deg(angle_deg: NDArray[np.float64]) -> float:
    """Peak-to-peak of an angle over a stride after removing its linear trend (turning, drift)."""
    return detrended_range(angle_deg, np.arange(angle_deg.size, dtype=np.float64))


def _unwrap_deg(angle_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """A wrapped angle (degrees) made continuous: each step is taken as the shortest turn."""
    out = np.empty_like(angle_deg)
    out[0] = angle_deg[0]
    np.cumsum((np.diff(angle_deg) + 180.0) % 360.0 - 180.0, out=out[1:])
    out[1:] += angle_deg[0]
    return out


def stances_of(s: StrideSamples) -> list[slice]:
    """The two stance phases of a stride as slices of its samples."""
    return [slice(s.ics[0], s.tos[0]), slice(s.ics[1], s.tos[1])]


def com_force(s: StrideSamples) -> NDArray[np.float64]:
    """Body-frame force (g) low-passed to follow the centre of mass (see COM_CUTOFF_HZ)."""
    return _filtfilt(s.f_g, s.rate_hz)


def stride_metrics(s: StrideSamples, com: NDArray[np.float64] | None = None) -> Stride:
    """All per-stride metrics of docs/metrics.md for one stride (``com``: ``com_force(s)`` if known)."""
    ic0, ic1, ic2 = s.ics
    to0, to1 = s.tos
    period_s = float(s.t_s[ic2] - s.t_s[ic0])
    stances = stances_of(s)
    gct = [(to - ic) / s.rate_hz * 1000.0 for ic, to in ((ic0, to0), (ic1, to1))]
    flight = [(ic1 - to0) / s.rate_hz * 1000.0, (ic2 - to1) / s.rate_hz * 1000.0]
    com = com_force(s) if com is None else com
    vert, fwd = com[:, 2], com[:, 0]
    raw_vert = s.f_g[:, 2]
    side = _side(s)
    mean_f = s.f_g[ic0:ic2].mean(axis=0)
    braking = [float(-fwd[st][: (st.stop - st.start) // 2].min()) for st in stances]
    braking_impulse = [float(-np.minimum(fwd[st], 0.0).sum() * GRAVITY_MPS2 / s.rate_hz) for st in stances]
    gct_by_side = _by_side(side, gct[0], gct[1])
    drop_by_side: dict[str, float | None] = {"left": None, "right": None}
    angles: dict[str, float | None] = {"tilt": None, "rotation": None}
    if s.angles_deg is not None:
        sag, _front, heading = (s.angles_deg[ic0 : ic2 + 1, k] for k in range(3))
        angles = {"tilt": _range_deg(sag), "rotation": _range_deg(_unwrap_deg(heading))}
        if side != "unknown":
            drops = [float(np.ptp(s.angles_deg[st, 1])) for st in stances]
            drop_by_side = _by_side(side, drops[0], drops[1])
    return Stride(
        index=s.index,
        t_start_s=float(s.t_s[ic0]),
        t_end_s=float(s.t_s[ic2]),
        side=side,
        running=True,
        cadence_spm=120.0 / period_s,
        gct_ms=_mean2(gct),
        flight_ms=_mean2(flight),
        duty_factor=_mean2(gct) / (period_s * 1000.0),
        peak_vertical_accel_g=_mean2([float(raw_vert[st].max()) for st in stances]),
        loading_rate_g_per_s=_mean2([_loading_rate(raw_vert, st, s.rate_hz) for st in stances]),
        vgrf_peak_bw=_mean2([float(vert[st].max()) for st in stances]),
        braking_g=_mean2(braking) if s.forward_known else None,
        braking_impulse_mps=_mean2(braking_impulse) if s.forward_known else None,
        vertical_oscillation_cm=_vertical_oscillation_cm(
            _earth_vertical(
                s.f_g[ic0 : ic2 + 1], None if s.angles_deg is None else s.angles_deg[ic0 : ic2 + 1]
            ),
            s.t_s[ic0 : ic2 + 1],
        ),
        trunk_lean_deg=float(np.degrees(np.arctan2(-mean_f[0], mean_f[2]))) if s.forward_known else None,
        trunk_lateral_lean_deg=float(np.degrees(np.arctan2(-mean_f[1], mean_f[2])))
        if s.forward_known
        else None,
        pelvic_tilt_rom_deg=angles["tilt"],
        pelvic_drop_left_deg=drop_by_side["left"],
        pelvic_drop_right_deg=drop_by_side["right"],
        pelvic_rotation_deg=angles["rotation"],
        gct_left_ms=gct_by_side["left"],
        gct_right_ms=gct_by_side["right"],
        quality=0.7 if s.clipped else 1.0,
        flags=("clipped",) if s.clipped else (),
    )
