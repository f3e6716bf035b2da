"""Data contracts passed between the stages of the flow: source -> decoder -> pipeline -> rules -> sinks.

Records (frames and link events) come out of sources; SampleBlocks out of decoders; Strides out of the
pipeline; Alerts out of the rules.

Units are SI inside (s, m/s^2, rad/s). Axes of a SampleBlock are the sensor's own; the pipeline finds
the body frame (x forward, y left, z up).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

GRAVITY_MPS2 = 9.80665
"""Standard gravity, used to convert g to m/s^2 and back."""
RATE_RANGE_HZ = (10.0, 4000.0)
"""Sample rates a body-worn IMU plausibly runs at; a rate outside comes from damage or a misread column."""


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """A notification or characteristic read (the raw bytes a sensor sent), with its host receive time."""

    t_ns: int
    char: str
    data: bytes


@dataclass(frozen=True, slots=True)
class EventRecord:
    """Something that happened to the link or the run: connect, disconnect, note."""

    t_ns: int
    event: str
    fields: dict[str, Any]


Record = FrameRecord | EventRecord
"""What a source yields and a capture holds: frames and link events, in the order they happened."""


@dataclass(slots=True)
class Counts:
    """What passed through a stream, counted: one tally for the sensor link, a run and the virtual sensor.

    Each keeps the counts that apply to it and leaves the others at 0.
    """

    frames: int = 0
    """Notifications and reads received (the virtual sensor: sent)."""
    events: int = 0
    """Link events (connect, disconnect ...)."""
    samples: int = 0
    """Samples decoded."""
    gaps: int = 0
    lost_samples: int = 0
    """Samples the sensor produced that never arrived."""
    dropped_frames: int = 0
    """Frames that never reached the next stage: the consumer fell behind (link), or no host listened
    (the virtual sensor)."""
    connects: int = 0
    disconnects: int = 0
    watchdog_resets: int = 0
    """Reconnects forced because a link that claimed to be up brought no data."""
    reconnect_s: list[float] = field(default_factory=list)
    """Time from each loss of the link to the next successful connect."""


@dataclass(frozen=True, slots=True)
class Gap:
    """Samples the sensor produced but we never received, placed just before ``before_index``."""

    before_index: int
    """Stream index of the first sample received after the gap."""
    missing: int
    """How many samples were lost (exact when the protocol has a counter, estimated otherwise)."""
    exact: bool = True
    """True when a sample counter makes the count exact; False when it comes from timestamps."""


@dataclass(frozen=True, slots=True, eq=False)
class SampleBlock:
    """Consecutive IMU samples as decoded from one or more frames.

    ``first_index`` is the stream index of the first sample (unwrapped, counting from the start of
    the stream, including lost samples), so sample ``k`` of the block has index ``first_index + k``
    unless a gap lies inside the block (blocks built by the decoders never contain a gap: a gap
    starts a new block and is reported in ``gaps``).
    """

    t_s: NDArray[np.float64]
    """Sample times in seconds on the sensor's (unwrapped) clock, shape (n,)."""
    acc_mps2: NDArray[np.float64]
    """Specific force in m/s^2 (gravity included), sensor axes, shape (n, 3)."""
    gyr_radps: NDArray[np.float64] | None
    """Angular velocity in rad/s, sensor axes, shape (n, 3); None when the sensor has no gyroscope."""
    first_index: int
    """Stream index of the first sample."""
    rate_hz: float
    """The sensor's true sample rate."""
    gaps: tuple[Gap, ...] = ()
    """Gaps that end at the start of this block (samples lost just before it)."""
    host_t_ns: int | None = None
    """Host receive time (ns since the Unix epoch) of the frame that carried the last sample."""
    clipped: bool = False
    """True when the sensor reported that an accelerometer axis hit full scale in this block."""

    def __post_init__(self) -> None:
        """Check shapes so a malformed block fails where it is made, not deep in the pipeline."""
        n = self.t_s.shape[0]
        if self.t_s.ndim != 1:
            raise ValueError(f"t_s must be 1-D, got shape {self.t_s.shape}")
        if self.acc_mps2.shape != (n, 3):
            raise ValueError(f"acc_mps2 must have shape ({n}, 3), got {self.acc_mps2.shape}")
        if self.gyr_radps is not None and self.gyr_radps.shape != (n, 3):
            raise ValueError(f"gyr_radps must have shape ({n}, 3), got {self.gyr_radps.shape}")
        if self.rate_hz <= 0:
            raise ValueError(f"rate_hz must be positive, got {self.rate_hz}")

    def __len__(self) -> int:
        """Number of samples in the block."""
        return int(self.t_s.shape[0])

    @property
    def has_gyr(self) -> bool:
        """Whether the block carries gyroscope data."""
        return self.gyr_radps is not None

    def slice(self, start: int, stop: int) -> SampleBlock:
        """Samples ``start:stop`` as a new block; gaps stay with the slice that starts at 0."""
        return SampleBlock(
            t_s=self.t_s[start:stop],
            acc_mps2=self.acc_mps2[start:stop],
            gyr_radps=None if self.gyr_radps is None else self.gyr_radps[start:stop],
            first_index=self.first_index + start,
            rate_hz=self.rate_hz,
            gaps=self.gaps if start == 0 else (),
            host_t_ns=self.host_t_ns,
            clipped=self.clipped,
        )


def concat_blocks(blocks: list[SampleBlock]) -> SampleBlock:
    """Join blocks that follow each other into one (gaps are kept, in order)."""
    if not blocks:
        raise ValueError("concat_blocks needs at least one block")
    gyr_parts = [b.gyr_radps for b in blocks if b.gyr_radps is not None]
    gyr = np.concatenate(gyr_parts) if len(gyr_parts) == len(blocks) else None
    return SampleBlock(
        t_s=np.concatenate([b.t_s for b in blocks]),
        acc_mps2=np.concatenate([b.acc_mps2 for b in blocks]),
        gyr_radps=gyr,
        first_index=blocks[0].first_index,
        rate_hz=blocks[-1].rate_hz,
        gaps=tuple(g for b in blocks for g in b.gaps),
        host_t_ns=blocks[-1].host_t_ns,
        clipped=any(b.clipped for b in blocks),
    )


def repeat_block(block: SampleBlock, duration_s: float) -> SampleBlock:
    """``block``'s samples played over and over for ``duration_s`` seconds, as one uninterrupted stream."""
    n = max(1, round(duration_s * block.rate_hz))
    take = np.arange(n) % len(block)
    return SampleBlock(
        t_s=block.t_s[0] + np.arange(n) / block.rate_hz,
        acc_mps2=block.acc_mps2[take],
        gyr_radps=None if block.gyr_radps is None else block.gyr_radps[take],
        first_index=block.first_index,
        rate_hz=block.rate_hz,
    )


@dataclass(frozen=True, slots=True)
class Stride:
    """One stride's metrics (two steps: from an initial contact to the next one of the same foot).

    Public field names carry their unit. A metric that cannot be computed (for example one that needs
    the gyroscope on an accelerometer-only sensor) is None, never guessed.
    """

    index: int
    """Running count of strides in the run, from 0."""
    t_start_s: float
    """Sensor time of the stride's first initial contact."""
    t_end_s: float
    """Sensor time of the next initial contact of the same foot."""
    side: str
    """Foot of the first contact: "left", "right" or "unknown"."""
    running: bool
    """True when the stride was classified as running (running metrics and alerts apply)."""
    cadence_spm: float
    gct_ms: float | None = None
    flight_ms: float | None = None
    duty_factor: float | None = None
    peak_vertical_accel_g: float | None = None
    loading_rate_g_per_s: float | None = None
    vgrf_peak_bw: float | None = None
    braking_g: float | None = None
    braking_impulse_mps: float | None = None
    vertical_oscillation_cm: float | None = None
    trunk_lean_deg: float | None = None
    trunk_lateral_lean_deg: float | None = None
    pelvic_tilt_rom_deg: float | None = None
    pelvic_drop_left_deg: float | None = None
    pelvic_drop_right_deg: float | None = None
    pelvic_rotation_deg: float | None = None
    gct_left_ms: float | None = None
    gct_right_ms: float | None = None
    quality: float = 1.0
    """0..1: how much the stride can be trusted (gaps, clipping, irregular timing lower it)."""
    flags: tuple[str, ...] = field(default=())
    """Why quality is below 1, e.g. ("gap", "clipped")."""


STRIDE_METRICS = tuple(
    f.name
    for f in fields(Stride)
    if f.name not in {"index", "t_start_s", "t_end_s", "side", "running", "quality", "flags"}
)
"""Every numeric per-stride metric, in the order of the Stride fields (summaries and baselines use them)."""


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert event: something a runner should hear about once per episode."""

    kind: str
    """Rule name, e.g. "forward_lean", "pelvic_drop_left", "high_impact", "signal_lost"."""
    severity: str
    """"info", "warning" or "critical"."""
    state: str
    """"raised" when an episode starts, "cleared" when it ends."""
    message: str
    """A short sentence the runner understands."""
    values: dict[str, float]
    """The numbers behind the alert (current value, baseline, threshold ...)."""
    first_stride: int
    last_stride: int
    t_s: float
    """Sensor time of the stride that raised or cleared it."""


def to_json_dict(record: Stride | Alert) -> dict[str, Any]:
    """A stride or alert as plain JSON values (tuples become lists), for --json output and MQTT.

    One level deep by hand: the only containers are a stride's ``flags`` (a tuple of strings) and an
    alert's ``values`` (a flat dict of floats), so ``asdict``'s recursive deep copy, most of the
    per-stride publish cost, buys nothing.
    """
    out = {f.name: getattr(record, f.name) for f in fields(record)}
    if "flags" in out:
        out["flags"] = list(out["flags"])
    if "values" in out:
        out["values"] = dict(out["values"])
    return out
