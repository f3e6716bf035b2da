"""Build the demo run (replay_data/demo/fatigue_run.jsonl.gz), a demonstration, not a measurement.

11 minutes of real running pelvis motion with a gyroscope, no seams, and a documented, deterministic
fatigue drift (replay_data/README.md).

The motion is runner RBDS0041 of the Fukuchi running data set (pelvis markers on a treadmill at 2.5, 3.5
and 4.5 m/s; Fukuchi, Fukuchi, Duarte (2017) PeerJ 5:e3298, CC BY 4.0). Each trial is cut into strides
(one period of the sacrum's sideways sway: upward crossings of its band-passed lateral position), and
every stride is resampled to a common phase axis with a quarter stride of margin on each side. The run
is a schedule of strides from those trials, one after another; neighbouring strides overlap in their
margins and are cross-faded there (raised cosine), and a change of speed cross-fades the two trials'
strides over several strides, so the signal and its derivatives are continuous everywhere. The drift is
added to the kinematics, and the sensor signals are synthesised from them as in benchmarks/synth_fukuchi.py
(specific force from the sacrum's second derivative plus gravity, angular velocity from successive
orientations, a tilted clip, noise and bias).

Usage: .venv/bin/python scripts/make_demo.py [DATASETS_DIR]   (deterministic: same bytes every run)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.signal import butter, sosfiltfilt
from scipy.spatial.transform import Rotation

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _datasets import datasets_root
from spinesense.capture import CaptureWriter, make_header
from spinesense.models import GRAVITY_MPS2
from spinesense.sensors.reference import (
    DATA_UUID,
    INFO_UUID,
    MAX_SAMPLES_PER_FRAME,
    SensorInfo,
    encode_samples,
)
from synth_fukuchi import MARKER_HZ, NOISE, RATE_HZ, _markers, pelvis_frames

OUT = Path(__file__).resolve().parents[1] / "replay_data" / "demo" / "fatigue_run.jsonl.gz"
TRIALS = {2.5: "RBDS0041runT252.txt", 3.5: "RBDS0041runT352.txt", 4.5: "RBDS0041runT452.txt"}
STANDING = "RBDS0041static.txt"
STAND_S = 4.0
"""The runner stands still this long (the sensor's alignment sees upright standing), then starts running."""
START_S = 0.7
"""Standing turns into running over this long (a raised-cosine blend of the two)."""
SCHEDULE = ((0.0, 3.5), (300.0, 4.5), (390.0, 3.5), (540.0, 2.5))
"""(from second, speed m/s): the run's speeds; each change is cross-faded over CHANGE_S seconds."""
LENGTH_S = 660.0
CHANGE_S = 5.0
MARGIN = 0.25
"""Phase margin on each side of a stride (in strides), over which neighbours are cross-faded."""
PHASE_POINTS = 240
MOUNTING = Rotation.from_euler("xyz", [180.0, 12.0, 0.0], degrees=True)
"""The clip as a runner might wear it: upside down and tilted 12 degrees."""
SEED = 41
EDGE_STRIDES = 2
REGULAR = 0.05
"""Strides whose duration is more than 5 % off the trial's median are left out."""


def lean_drift_deg(t: np.ndarray) -> np.ndarray:
    """Forward lean: unchanged for the first 2 minutes, then 1.2 degrees more per minute (+10.8 at 11 min)."""
    return np.clip((t - 120.0) / 60.0, 0.0, None) * 1.2


def drop_drift_deg(t: np.ndarray) -> np.ndarray:
    """Obliquity added at mid-stance of right-foot stances (deg): a tiring right hip, twice.

    Up to 7 from 35 s to 75 s, back to 0.5 by 150 s (the runner heeds the cue), then a slow fatigue rise to
    6 by the end.
    """
    early = np.interp(t, [35.0, 75.0, 120.0, 150.0], [0.0, 7.0, 7.0, 0.5])
    late = np.interp(t, [240.0, LENGTH_S], [0.0, 5.5])
    drift: np.ndarray = np.maximum(early, 0.5 * (t > 150.0) + late)
    return drift


def cadence_factor(t: np.ndarray) -> np.ndarray:
    """Cadence falls linearly by 5 % over the run (stride times grow by the inverse)."""
    return 1.0 - 0.05 * t / LENGTH_S


def _lateral_phase(sacrum: np.ndarray) -> np.ndarray:
    """Sample indices where a stride starts: upward crossings of the band-passed sideways position."""
    sos = butter(2, [0.7, 2.0], btype="bandpass", fs=MARKER_HZ, output="sos")
    y = sosfiltfilt(sos, sacrum[:, 1])
    return np.flatnonzero((y[:-1] < 0) & (y[1:] >= 0)) + 1


def trial_strides(path: Path) -> list[np.ndarray]:
    """A trial's strides on the phase axis: (PHASE_POINTS, 6) = sacrum xyz (m), tilt, obliquity, yaw (rad)."""
    t, markers = _markers(path)
    sacrum, rot = pelvis_frames(markers)
    sacrum = sacrum - sacrum.mean(axis=0)
    yaw, obliquity, tilt = Rotation.from_matrix(rot).as_euler("ZXY").T
    channels = np.column_stack([sacrum, tilt, obliquity, yaw])
    starts = _lateral_phase(sacrum)
    phase = np.linspace(-MARGIN, 1 + MARGIN, PHASE_POINTS)
    smooth = CubicSpline(np.arange(len(t)), channels, axis=0)
    out = []
    for a, b, c, d in zip(starts[:-3], starts[1:-2], starts[2:-1], starts[3:], strict=True):
        # phase -1..0 is the previous stride, 1..2 the next: the margins keep their own timing
        samples = np.interp(phase, [-1.0, 0.0, 1.0, 2.0], np.array([a, b, c, d], dtype=float))
        duration = np.full((PHASE_POINTS, 1), (c - b) / MARKER_HZ)
        out.append(np.hstack([smooth(samples), duration]))
    # The trial's first and last strides carry the filters' edge effects; odd ones break the rhythm.
    out = out[EDGE_STRIDES:-EDGE_STRIDES]
    usual = np.median([table[0, 6] for table in out])
    return [table for table in out if abs(table[0, 6] / usual - 1) < REGULAR]


def _mix_at(t: float) -> tuple[float, float, float]:
    """(speed before, speed after, weight of the later one) for the schedule at time ``t``."""
    before = after = SCHEDULE[0][1]
    weight = 1.0
    for start, speed in SCHEDULE[1:]:
        if t >= start:
            before, after = after, speed
            weight = min((t - start) / CHANGE_S, 1.0)
    return before, after, 0.5 - 0.5 * np.cos(np.pi * weight)


def schedule(strides: dict[float, list[np.ndarray]]) -> list[tuple[float, float, np.ndarray]]:
    """Strides of the run in order: (start s, duration s, phase table), each trial's strides in turn."""
    run: list[tuple[float, float, np.ndarray]] = []
    t, taken = 0.0, dict.fromkeys(strides, 0)

    def take(speed: float) -> np.ndarray:
        taken[speed] += 1
        return strides[speed][(taken[speed] - 1) % len(strides[speed])]

    while t < LENGTH_S + 2:
        before, after, w = _mix_at(t)
        table = take(after) if w >= 1.0 else (1 - w) * take(before) + w * take(after)
        duration = float(table[0, 6]) / float(cadence_factor(np.array([t]))[0])
        run.append((t, duration, table))
        t += duration
    return run


def _weights(p: np.ndarray) -> np.ndarray:
    """A stride's weight over its phase: 1 inside, raised-cosine ramps over the margins at both ends."""
    up = np.clip((p + MARGIN) / (2 * MARGIN), 0.0, 1.0)
    down = np.clip((1 + MARGIN - p) / (2 * MARGIN), 0.0, 1.0)
    ramp = np.minimum(up, down)
    return 0.5 - 0.5 * np.cos(np.pi * ramp)


def kinematics(run: list[tuple[float, float, np.ndarray]], t: np.ndarray) -> np.ndarray:
    """The six channels at times ``t``: every stride on its time span, cross-faded in the margins.

    0 where no stride is (before the run starts).
    """
    total = np.zeros((t.size, 6))
    weight = np.zeros(t.size)
    phase = np.linspace(-MARGIN, 1 + MARGIN, PHASE_POINTS)
    for start, duration, table in run:
        i0, i1 = np.searchsorted(t, [start - MARGIN * duration, start + (1 + MARGIN) * duration])
        p = (t[i0:i1] - start) / duration
        w = _weights(p)
        total[i0:i1] += w[:, None] * CubicSpline(phase, table[:, :6], axis=0)(p)
        weight[i0:i1] += w
    return np.divide(total, weight[:, None], out=np.zeros_like(total), where=weight[:, None] > 0)


def drop_bump(t: np.ndarray, run: list[tuple[float, float, np.ndarray]]) -> np.ndarray:
    """A smooth bump (0 at contact, 1 at mid-stance, 0 at toe-off) in the right-foot half of every stride."""
    bump = np.zeros(t.size)
    for start, duration, _ in run:
        i0, i1 = np.searchsorted(t, [start, start + duration])
        p = (t[i0:i1] - start) / duration
        stance = (p - RIGHT_STANCE[0]) / (RIGHT_STANCE[1] - RIGHT_STANCE[0])
        bump[i0:i1] = np.where((stance > 0) & (stance < 1), np.sin(np.pi * stance) ** 2, 0.0)
    return bump


RIGHT_STANCE = (0.55, 0.90)
"""Where in a stride (phase) the right foot is on the ground, as the stride cut above falls."""


def standing_pose(path: Path) -> np.ndarray:
    """The six channels of the runner standing still: the sacrum where running centres it, the mean angles."""
    _, markers = _markers(path)
    _, rot = pelvis_frames(markers)
    yaw, obliquity, tilt = Rotation.from_matrix(rot).as_euler("ZXY").T
    return np.array([0.0, 0.0, 0.0, tilt.mean(), obliquity.mean(), yaw.mean()])


def with_start(run_channels: np.ndarray, standing: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Standing for STAND_S, then the run (its time 0 at STAND_S), blended over START_S."""
    ramp = np.clip((t - STAND_S) / START_S, 0.0, 1.0)
    blend = 0.5 - 0.5 * np.cos(np.pi * ramp)
    channels: np.ndarray = (1 - blend)[:, None] * standing + blend[:, None] * run_channels
    return channels


def synthesise(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample times, specific force and angular velocity (sensor axes, SI) of the whole demo run."""
    datasets = datasets_root() / "fukuchi_rbds_subset"
    strides = {speed: trial_strides(datasets / name) for speed, name in TRIALS.items()}
    run = schedule(strides)
    t = np.arange(0.0, STAND_S + LENGTH_S, 1 / RATE_HZ)
    ch = with_start(kinematics(run, t - STAND_S), standing_pose(datasets / STANDING), t)
    tilt = ch[:, 3] + np.radians(lean_drift_deg(t))
    obliquity = ch[:, 4] + DROP_SIGN * np.radians(drop_drift_deg(t)) * drop_bump(t - STAND_S, run)
    world_from_pelvis = Rotation.from_euler("ZXY", np.column_stack([ch[:, 5], obliquity, tilt]))
    acc_world = CubicSpline(t, ch[:, :3], axis=0)(t, 2) + np.array([0.0, 0.0, GRAVITY_MPS2])
    world_from_sensor = world_from_pelvis * MOUNTING
    acc = world_from_sensor.inv().apply(acc_world)
    gyr = (world_from_sensor[:-1].inv() * world_from_sensor[1:]).as_rotvec() * RATE_HZ
    gyr = np.vstack([gyr, gyr[-1]])
    acc += rng.normal(0, NOISE["acc_mps2"], acc.shape) + rng.normal(0, NOISE["acc_bias_mps2"], 3)
    gyr += rng.normal(0, NOISE["gyr_radps"], gyr.shape) + rng.normal(0, NOISE["gyr_bias_radps"], 3)
    return t, acc, gyr


DROP_SIGN = 1.0
"""Which way the obliquity moves for a deeper right-stance drop (checked: pelvic_drop_right grows)."""


def main() -> None:
    """Write the demo capture."""
    t, acc, gyr = synthesise(np.random.default_rng(SEED))
    info = SensorInfo(sample_rate_hz=RATE_HZ)
    header = make_header(
        protocol="reference",
        rate_hz=RATE_HZ,
        sensor_name="demo: synthetic sacral IMU (Fukuchi RBDS0041 motion, fatigue drift added)",
        start_utc="2026-01-01T07:00:00Z",
        source=(
            "scripts/make_demo.py from Fukuchi RBDS RBDS0041 (CC BY 4.0): a demonstration, not a measurement"
        ),
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with CaptureWriter(OUT, header) as writer:
        writer.frame(0, INFO_UUID, info.to_bytes())
        for k, frame in enumerate(encode_samples(acc, gyr, info)):
            last = min((k + 1) * MAX_SAMPLES_PER_FRAME, len(t)) - 1
            writer.frame(round(t[last] * 1e9), DATA_UUID, frame)
    print(f"{OUT}: {t[-1] / 60:.1f} min, {OUT.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
