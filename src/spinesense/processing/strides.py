"""Per-stride metrics, computed for a batch of strides at once, in the body frame.

Every metric is defined in docs/metrics.md. The strides of a batch are padded to a common width and
measured with whole-array operations, so a minute of strides costs little more than one stride. Each
stride's figures depend only on its own samples (see ``_rows``), so a stride gives the same result
whatever batch it is measured in, which keeps the pipeline's output independent of how the stream is split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Generic, NamedTuple, TypeVar

import numpy as np
from scipy.signal import butter, lfilter_zi

from spinesense.models import GRAVITY_MPS2, Stride
from spinesense.processing._rows import Rows, double_integral, edge_padded, rows_for, unwrap_deg
from spinesense.processing.tilt import body_angles, earth_vertical

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

COM_CUTOFF_HZ = 8.0
"""Low-pass (zero phase) that turns sacral acceleration into an estimate of the centre of mass's:
above about 8 Hz the sacrum carries impact transients and soft-tissue wobble the body mass does not
follow. Chosen on the Alcantara treadmill data (benchmarks/README.md)."""
ACCEL_VGRF_WEIGHT = 0.68
"""Weight of the acceleration peak in ``vgrf_peak_bw``; the spring-mass peak from the contact timings
takes the rest. Inverse-variance weights from their errors on the Alcantara tuning half (odd trials):
RMSE 0.159 BW (acceleration) and 0.233 BW (spring-mass) give 0.68 (benchmarks/README.md)."""
SIDE_MARGIN_G = 0.02
"""Mean sideways force difference per stride (between its two stances) below which the side is unknown."""
_LOADING_LEVELS = np.array([0.2, 0.8])[:, None, None, None]
"""The fractions of each stance's peak between which ``StrideBatch._loading_rate`` takes the slope,
shaped to broadcast over the stances' (k, 2, s) cells."""


@dataclass(frozen=True, slots=True)
class StrideSamples:
    """The samples of one stride as the gait stage cut them (sensor frame), and what it found in them."""

    index: int
    t_s: NDArray[np.float64]
    """Sample times from the first initial contact to the next one of the same foot (inclusive)."""
    acc_mps2: NDArray[np.float64]
    """Sensor-frame specific force, shape (n, 3)."""
    quat: NDArray[np.float64] | None
    """Orientation [w, x, y, z] per sample (n, 4); None without a gyroscope. NaN rows (gyroscope data
    missing for some samples) make the stride's pelvic angles None, as if there were no gyroscope."""
    body_from_sensor: NDArray[np.float64]
    """The alignment in force when the stride was found (rows: forward, left, up in sensor axes)."""
    ics: tuple[int, int, int]
    """Initial contacts: first foot, second foot, first foot again (the last is the stride's end)."""
    tos: tuple[int, int]
    """Toe-offs of the two contacts."""
    forward_known: bool = True
    """False until braking has fixed the forward sign: metrics that need it are then None."""
    orientation_settled: bool = True
    """False within ORIENTATION_SETTLE_S (pipeline.py) of the stream's start or a gap: the orientation's
    mean angle may still be off, so the lean is None (its ranges are not affected by an offset)."""
    clipped: bool = False
    new_evidence: bool = False
    """The first stride of its step sequence (or since the forward sign flipped): side evidence restarts."""


@cache
def _com_filter(rate_hz: float) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Numerator, denominator and unit-step initial state of the centre-of-mass low-pass."""
    cutoff = min(COM_CUTOFF_HZ, 0.45 * rate_hz)
    b, a = butter(2, cutoff, fs=rate_hz)
    return b, a, lfilter_zi(b, a)


def _body_force_g(rotation: NDArray[np.float64], acc: NDArray[np.float64]) -> NDArray[np.float64]:
    """Body-frame specific force (3, k, w) in g from the sensor-frame force ``acc`` (3, k, w).

    ``rotation`` (3, 3, k, 1) is each stride's alignment. Element by element (no BLAS), summing the
    sensor axes in order: the same arithmetic for a stride whatever the batch's shape. One temporary,
    reused: fresh arrays this size can cost a page fault per page.
    """
    out: NDArray[np.float64] = rotation[:, 0] * acc[0]
    term = np.empty_like(out)
    for axis in (1, 2):
        np.multiply(rotation[:, axis], acc[axis], out=term)
        out += term
    out /= GRAVITY_MPS2
    return out


def side_of(evidence_g: float, strides_in_sequence: int, *, forward_known: bool) -> str:
    """Foot of a stride's first contact from the evidence of its step sequence.

    ``evidence_g`` sums the stance force differences (``Measures.lateral_difference_g``) of the
    strides of the sequence so far, which all start on the same foot, so one noisy stride cannot flip it.
    """
    if not forward_known or abs(evidence_g) < SIDE_MARGIN_G * strides_in_sequence:
        return "unknown"
    return "right" if evidence_g > 0 else "left"


def _lean_deg(mean_angle_deg: float, mean_force: float, mean_up_force: float) -> float:
    """A stride's lean: its mean body angle from the orientation, else the tilt of its mean force.

    The mean specific force over a stride is not gravity's direction in the body: the pelvis tilts
    with the phase of the stride while the force is 2-3 g in stance and 0 in flight, so their product
    leans the mean by 2-3 degrees (Fukuchi runners, benchmarks/README.md). Only without a gyroscope is
    the force the estimate (``mean_force`` and ``mean_up_force``: the mean force along the axis and up).
    """
    if not math.isnan(mean_angle_deg):
        return mean_angle_deg
    return math.degrees(math.atan2(-mean_force, mean_up_force))


def _by_side(side: str, first: float, second: float) -> tuple[float | None, float | None]:
    """A per-stance pair as (left, right), the first stance being ``side``'s (both None if "unknown")."""
    if side == "unknown":
        return None, None
    return (first, second) if side == "left" else (second, first)


Figure = TypeVar("Figure")
"""One number per stride: a float, or an array (k,) of them (a batch's column)."""
Pair = TypeVar("Pair")
"""Several numbers per stride (a pair, one per contact; a triple): a sequence, or an array (k, 2 or 3)."""


class Measures(NamedTuple, Generic[Figure, Pair]):
    """A stride's figures before its side is known; pairs are (first contact, second contact).

    ``Measures[float, Sequence[float]]``: one stride's, a row of ``StrideBatch.measures`` or measured by
    ``reference.measure``; ``stride_record`` makes the Stride from it. ``StrideBatch.columns`` holds a
    batch's as arrays. NaN where a figure cannot be measured (pelvic angles without a whole orientation).
    """

    start_s: Figure
    end_s: Figure
    gct_ms: Pair
    flight_ms: Pair
    peak_g: Pair
    loading_g_per_s: Pair
    vgrf_bw: Pair
    braking_g: Pair
    impulse_mps: Pair
    vertical_oscillation_cm: Figure
    mean_force_g: Pair
    """Mean body-frame force (forward, left, up) up to the stride's last contact."""
    lean_deg: Pair
    """Mean sagittal and frontal angle up to the stride's last contact."""
    tilt_rom_deg: Figure
    rotation_deg: Figure
    drops_deg: Pair
    lateral_difference_g: Figure
    """Mean leftward force in the first stance minus the second (g). The ground pushes the body
    towards the midline, away from the foot: a positive difference says the first stance is the
    right foot's."""


class Pelvis(NamedTuple):
    """The pelvic angles of a batch's strides, NaN for a stride without a whole orientation."""

    tilt_rom_deg: NDArray[np.float64]
    """(k,)"""
    rotation_deg: NDArray[np.float64]
    """(k,)"""
    lean_deg: NDArray[np.float64]
    """(k, 2): mean sagittal and frontal angle up to the stride's last contact."""
    drops_deg: NDArray[np.float64]
    """(k, 2): range of the frontal angle over each stance."""

    @classmethod
    def unknown(cls, k: int) -> Pelvis:
        """The angles of ``k`` strides without orientation: all NaN."""
        return cls(np.full(k, np.nan), np.full(k, np.nan), np.full((k, 2), np.nan), np.full((k, 2), np.nan))


def stride_record(s: StrideSamples, side: str, m: Measures[float, Sequence[float]]) -> Stride:
    """The Stride record of one stride's figures, given its side (from ``side_of``)."""
    period = m.end_s - m.start_s
    known = s.forward_known
    angles_ok = not math.isnan(m.tilt_rom_deg)
    lean, mean_f = m.lean_deg, m.mean_force_g
    leans = known and (s.orientation_settled or math.isnan(lean[0]))  # the force needs no settling
    gct_left, gct_right = _by_side(side, *m.gct_ms)
    drop_left, drop_right = _by_side(side, *m.drops_deg) if angles_ok else (None, None)
    gct = _mean(m.gct_ms)
    return Stride(
        index=s.index,
        t_start_s=m.start_s,
        t_end_s=m.end_s,
        side=side,
        running=True,
        cadence_spm=120.0 / period,
        gct_ms=gct,
        flight_ms=_mean(m.flight_ms),
        duty_factor=gct / (period * 1000.0),
        peak_vertical_accel_g=_mean(m.peak_g),
        loading_rate_g_per_s=_mean(m.loading_g_per_s),
        vgrf_peak_bw=_mean(m.vgrf_bw),
        braking_g=_mean(m.braking_g) if known else None,
        braking_impulse_mps=_mean(m.impulse_mps) if known else None,
        vertical_oscillation_cm=m.vertical_oscillation_cm,
        trunk_lean_deg=_lean_deg(lean[0], mean_f[0], mean_f[2]) if leans else None,
        trunk_lateral_lean_deg=_lean_deg(lean[1], mean_f[1], mean_f[2]) if leans else None,
        pelvic_tilt_rom_deg=m.tilt_rom_deg if angles_ok else None,
        pelvic_drop_left_deg=drop_left,
        pelvic_drop_right_deg=drop_right,
        pelvic_rotation_deg=m.rotation_deg if angles_ok else None,
        gct_left_ms=gct_left,
        gct_right_ms=gct_right,
        quality=0.7 if s.clipped else 1.0,
        flags=("clipped",) if s.clipped else (),
    )


def _mean(pair: Sequence[float]) -> float:
    """The mean of a stride's two per-contact figures."""
    return (pair[0] + pair[1]) / 2


class StrideBatch:
    """The metrics of several strides, measured together; ``stride_records`` turns them into Stride records.

    Each signal is held as a (k, w) array, one row per stride (see ``_rows``): a batch of strides costs
    little more than one, which is what makes the pipeline fast on long blocks. ``reference.measure``
    is the same measurement written for one stride, each metric a short function: the definitions.
    """

    def __init__(self, samples: Sequence[StrideSamples], rate_hz: float) -> None:
        """Lay the strides out side by side and measure everything that does not need the side."""
        self._samples = samples
        self.rate_hz = rate_hz
        rows = rows_for(tuple(s.t_s.size for s in samples))
        events = np.array([(*s.ics, *s.tos) for s in samples])
        ics, stops = events[:, :3], events[:, 3:]
        starts = ics[:, :2]
        length = stops - starts
        at = self._stance_cells(rows, starts, length)
        f_g, vertical, pelvis = self._forces(rows, at)
        t = rows.join([s.t_s for s in samples])
        raw_vert = f_g[2].take(at)
        # The centre of mass's force is needed only in the stances: the filter gives only those cells.
        fwd, left, vert = rows.zero_phase(f_g, *_com_filter(rate_hz), at)
        peak = raw_vert.max(-1)
        braking, impulse, left_mean = self._stance_forces(rows, fwd, left, length)
        position = self._vertical_position(rows, vertical, t)
        # Copies, not views that would keep the rows. The last cell repeats the stride's last sample.
        columns: Measures[NDArray[np.float64], NDArray[np.float64]] = Measures(
            start_s=t[:, 0].copy(),
            end_s=t[:, -1].copy(),
            gct_ms=length / rate_hz * 1000.0,
            flight_ms=(ics[:, 1:] - stops) / rate_hz * 1000.0,
            peak_g=peak,
            loading_g_per_s=self._loading_rate(raw_vert, peak),
            vgrf_bw=self._vgrf(vert, ics, length),
            braking_g=braking,
            impulse_mps=impulse,
            vertical_oscillation_cm=rows.detrended_ranges(position, t) * 100.0,
            # Up to the stride's last contact, not including it (the last cell holds the last sample).
            mean_force_g=((rows.sums(f_g) - f_g[..., -1]) / (rows.n - 1)).T,
            lean_deg=pelvis.lean_deg,
            tilt_rom_deg=pelvis.tilt_rom_deg,
            rotation_deg=pelvis.rotation_deg,
            drops_deg=pelvis.drops_deg,
            lateral_difference_g=left_mean[:, 0] - left_mean[:, 1],
        )
        self.columns = columns
        """Every figure of every stride, one array per field (first axis: the stride)."""

    def _vgrf(
        self, vert: NDArray[np.float64], ics: NDArray[np.intp], length: NDArray[np.intp]
    ) -> NDArray[np.float64]:
        """Peak vertical ground reaction force (body weights) of each stance (k, 2), from the COM's force.

        Spring-mass model (Morin et al. 2005): a half-sine force over the contact whose impulse carries
        the body through the step, so peak = pi/2 * (contact + flight) / contact body weights. Its error
        comes from the contact timings, the acceleration peak's from the sensor's gain and the sacrum's
        own motion: largely independent, so their weighted mean is closer than either.
        """
        spring_mass = math.pi / 2 * (ics[:, 1:] - ics[:, :2]) / length
        out: NDArray[np.float64] = ACCEL_VGRF_WEIGHT * vert.max(-1) + (1 - ACCEL_VGRF_WEIGHT) * spring_mass
        return out

    def _stance_forces(
        self, rows: Rows, fwd: NDArray[np.float64], left: NDArray[np.float64], length: NDArray[np.intp]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Braking peak (g), braking impulse (m/s) and mean leftward force (g) of each stance (k, 2).

        From the centre of mass's forward and leftward force over the stance cells (k, 2, s).
        """
        early = np.arange(fwd.shape[-1]) < np.maximum(length // 2, 1)[..., None]
        braking = -np.where(early, fwd, np.inf).min(-1)
        stance = np.empty((2, *fwd.shape))  # the braking force and the leftward force
        np.minimum(fwd, 0.0, out=stance[0])
        stance[1] = left
        stance_sums = rows.sums(stance, length)
        return braking, -stance_sums[0] * GRAVITY_MPS2 / self.rate_hz, stance_sums[1] / length

    def _forces(
        self, rows: Rows, at: NDArray[np.intp]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], Pelvis]:
        """Body-frame force (3, k, w), vertical force to integrate (k, w), in g, and the pelvic angles.

        The vertical is the earth's with a whole orientation, else the body's up axis.

        Measures the pelvic angles first (``_pelvis``), before the sensor-frame force is laid out, which
        only the vertical and body-frame forces need. The force and the orientation die here, before the
        filter's arrays are made: arrays this size make up a batch's memory peak, and a peak above what
        the allocator keeps costs a page fault per fresh page, every batch.
        """
        samples = self._samples
        rotation = np.array([s.body_from_sensor for s in samples]).transpose(1, 2, 0)[..., None]
        acc_parts = [s.acc_mps2.T for s in samples]
        if all(s.quat is None for s in samples):
            f_g = _body_force_g(rotation, rows.join(acc_parts))
            return f_g, f_g[2], Pelvis.unknown(len(samples))
        quat = self._quaternions(rows)
        pelvis = self._pelvis(rows, quat, rotation, at)
        acc = rows.join(acc_parts)
        with np.errstate(invalid="ignore"):  # NaN (no orientation for some samples) carries through
            vertical = earth_vertical(quat, acc) / GRAVITY_MPS2
        # A stride is incomplete when its orientation is NaN for some samples (no gyroscope for them).
        incomplete = np.isnan(quat).any(axis=(0, 2)).reshape(-1)
        del quat
        f_g = _body_force_g(rotation, acc)
        if incomplete.any():
            # A stride without a whole orientation is measured as without a gyroscope: along the body's
            # up axis, fixed at alignment (never a mix of the two within one stride).
            vertical = np.where(incomplete[:, None], f_g[2], vertical)
        return f_g, vertical, pelvis

    @staticmethod
    def _pelvis(
        rows: Rows, quat: NDArray[np.float64], rotation: NDArray[np.float64], at: NDArray[np.intp]
    ) -> Pelvis:
        """The pelvic angles from the orientation ``quat`` (4, k, w).

        A stride whose orientation is NaN for some samples (no gyroscope for them) gets NaN angles.
        """
        with np.errstate(invalid="ignore"):  # NaN carries through
            angles = body_angles(quat, rotation)
        angles[2] = unwrap_deg(angles[2])
        tilt, turn = rows.ranges_over_samples(angles[::2])
        frontal = angles[1].take(at)
        # Mean sagittal and frontal angle up to the stride's last contact (the last cell holds it).
        lean = ((rows.sums(angles[:2]) - angles[:2, :, -1]) / (rows.n - 1)).T
        drops = frontal.max(-1) - frontal.min(-1)
        # NaN anywhere in a stride (its tilt range) makes all its angles NaN, not only those it reaches.
        incomplete = np.isnan(tilt)
        lean[incomplete] = drops[incomplete] = np.nan
        return Pelvis(tilt_rom_deg=tilt, rotation_deg=turn, lean_deg=lean, drops_deg=drops)

    @staticmethod
    def _stance_cells(rows: Rows, starts: NDArray[np.intp], length: NDArray[np.intp]) -> NDArray[np.intp]:
        """Flat indices (into the k x w cells) of each stance's samples (k, 2, s), the last one repeated."""
        at = (np.arange(starts.shape[0]) * rows.width)[:, None] + starts
        out: NDArray[np.intp] = at[..., None] + edge_padded(length)
        return out

    def _loading_rate(self, raw_vert: NDArray[np.float64], peak: NDArray[np.float64]) -> NDArray[np.float64]:
        """Mean slope (g/s) of vertical force between 20 % and 80 % of each stance's peak, on the rise."""
        rising = np.arange(raw_vert.shape[-1]) <= raw_vert.argmax(-1)[..., None]
        # argmax finds the first sample reaching each level (0, the contact's start, if none does); both
        # levels in one pass: for one stride, each call's overhead outweighs its work.
        reached = raw_vert >= _LOADING_LEVELS * peak[..., None]
        reached &= rising
        low, high = reached.argmax(-1)
        out: NDArray[np.float64] = 0.6 * peak * self.rate_hz / np.maximum(high - low, 1)
        return out

    def _quaternions(self, rows: Rows) -> NDArray[np.float64]:
        """The orientation of every sample (4, k, w), NaN where not known (no gyroscope).

        The NaN parts are made sample-major like the stored ones, which ``Rows.join`` copies in blocks.
        """
        return rows.join(
            [np.full((s.t_s.size, 4), np.nan).T if s.quat is None else s.quat.T for s in self._samples]
        )

    @staticmethod
    def _vertical_position(
        rows: Rows, vert: NDArray[np.float64], t: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Vertical position (m) over each stride from doubly integrated vertical force (g), up to a line.

        A stride is periodic: velocity and position return to their start. The mean acceleration is
        removed before integrating; the unknown start velocity and the drift add a straight line to the
        position, which the detrended range (vertical oscillation) removes. The force is not low-passed:
        integrating twice already weighs content at f by 1/(2 pi f)^2, and a zero-phase filter over one
        stride's samples bends its ends into centimetres of false excursion (+3.3 cm against the Fukuchi
        motion capture).
        """
        return double_integral((vert - rows.means(vert)) * GRAVITY_MPS2, t)

    def column_slice(self, start: int, stop: int) -> Measures[NDArray[np.float64], NDArray[np.float64]]:
        """The columns of strides ``start:stop`` of the batch (views)."""
        return Measures._make(column[start:stop] for column in self.columns)

    def measures(self) -> list[Measures[float, Sequence[float]]]:
        """Each stride's figures as a row of named fields (plain floats and lists)."""
        return _rows_of(self.columns)


def stride_records(
    samples: Sequence[StrideSamples],
    columns: Measures[NDArray[np.float64], NDArray[np.float64]],
    sides: Sequence[str],
) -> list[Stride]:
    """The Stride records of strides measured as ``columns`` (a batch's, or a ``column_slice``).

    ``sides``: each stride's side (from ``side_of``).
    """
    return [stride_record(s, side, m) for s, side, m in zip(samples, sides, _rows_of(columns), strict=True)]


def _rows_of(
    columns: Measures[NDArray[np.float64], NDArray[np.float64]],
) -> list[Measures[float, Sequence[float]]]:
    """Each stride's figures from a batch's columns, as a row of named fields (plain floats and lists)."""
    values = [column.tolist() for column in columns]
    return [Measures._make(row) for row in zip(*values, strict=True)]
