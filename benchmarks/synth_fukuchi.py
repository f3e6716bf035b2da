"""Synthesise the sacral IMU a runner in the Fukuchi running data set would have worn, with ground truth.

From the pelvis markers (ASIS, PSIS; 150 Hz, mm; lab X forward, Y up, Z right): the pelvis frame
(y = right-to-left ASIS, x = mid-PSIS to mid-ASIS made horizontal-ish, z = x cross y), a sensor on the sacrum
(mid-PSIS) mounted with a random rotation, its specific force (second derivative of position, low-passed
at 12 Hz, plus gravity, in sensor axes) and angular velocity (from successive orientations), resampled to
200 Hz, with white noise, a constant accelerometer bias and a constant gyroscope bias. Written as
reference-protocol captures (standing calibration, then each running speed) with the ground truth beside:
pelvis angles and sacral height per sample, and contacts from the treadmill forces where they exist.
It is real motion with a simulated sensor: no soft-tissue or clip wobble.

Usage: .venv/bin/python benchmarks/synth_fukuchi.py [DATASETS_DIR]   (writes replay_data/fukuchi/)
Fukuchi, Fukuchi, Duarte (2017) PeerJ 5:e3298, CC BY 4.0.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.signal import butter, sosfiltfilt
from scipy.spatial.transform import Rotation

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

RATE_HZ = 200.0
MARKER_HZ = 150.0
MARKER_CUTOFF_HZ = 12.0
"""Marker noise (about 1 mm) doubly differentiated swamps the signal above this; running kinematics
are usually filtered at 10-15 Hz."""
FORCE_HZ = 300.0
MIN_STANCE_S = 0.1
OUT = Path(__file__).resolve().parents[1] / "replay_data" / "fukuchi"
SESSIONS = {
    "RBDS0041": ["RBDS0041static.txt", "RBDS0041runT252.txt", "RBDS0041runT352.txt", "RBDS0041runT452.txt"],
    "RBDS032": ["RBDS032static.txt", "RBDS032runT35markers.txt"],
}
FORCES = {"RBDS0041runT252.txt": "RBDS0041runT252forces.txt"}
NOISE = {"acc_mps2": 0.15, "gyr_radps": 0.005, "acc_bias_mps2": 0.08, "gyr_bias_radps": 0.015}
"""White-noise SD and constant-bias SD, typical of a consumer 6-axis IMU at 200 Hz."""


def _markers(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Times and the four pelvis markers in m, in a right-handed frame x forward, y left, z up."""
    table = _columns(path)
    t = table["Time"]
    markers = {}
    for name in ("R.ASIS", "L.ASIS", "R.PSIS", "L.PSIS"):
        x, y, z = (_filled(table[f"{name}{axis}"]) / 1000 for axis in "XYZ")
        markers[name] = np.column_stack([x, -z, y])
    return t, markers


def _columns(path: Path) -> dict[str, np.ndarray]:
    """A tab-separated file with a header row, as named float columns."""
    with path.open(encoding="utf-8") as handle:
        names = handle.readline().rstrip("\n").split("\t")
    data = np.genfromtxt(path, delimiter="\t", skip_header=1, dtype=float)
    return {name: data[:, i] for i, name in enumerate(names)}


def _filled(values: np.ndarray) -> np.ndarray:
    """Gaps (marker dropouts) filled by linear interpolation, ends held."""
    good = np.isfinite(values)
    out: np.ndarray = np.interp(np.arange(values.size), np.flatnonzero(good), values[good])
    return out


def _smooth(values: np.ndarray) -> np.ndarray:
    """Zero-phase low-pass of marker trajectories (marker noise would dominate the derivatives)."""
    sos = butter(2, MARKER_CUTOFF_HZ, fs=MARKER_HZ, output="sos")
    out: np.ndarray = sosfiltfilt(sos, values, axis=0)
    return out


def pelvis_frames(markers: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Sacral point (n, 3) and world-from-pelvis rotation matrices (n, 3, 3)."""
    m = {k: _smooth(v) for k, v in markers.items()}
    sacrum = (m["R.PSIS"] + m["L.PSIS"]) / 2
    left = m["L.ASIS"] - m["R.ASIS"]
    left /= np.linalg.norm(left, axis=1, keepdims=True)
    forward = (m["R.ASIS"] + m["L.ASIS"]) / 2 - sacrum
    up = np.cross(forward, left)
    up /= np.linalg.norm(up, axis=1, keepdims=True)
    forward = np.cross(left, up)
    return sacrum, np.stack([forward, left, up], axis=2)


def pelvis_angles(rot: np.ndarray) -> np.ndarray:
    """Tilt (anterior +), obliquity (left side up +), rotation (to the left +), deg.

    Cardan angles of the pelvis: rotation about the vertical, then obliquity about forward, then tilt
    about the left axis (the sequence clinical gait analysis uses for the pelvis). A positive turn about
    the left axis takes the forward axis down: anterior tilt (the tilt column was posterior + until the
    lean against standing was scored; the ranges never depended on it).
    """
    zxy = Rotation.from_matrix(rot).as_euler("ZXY", degrees=True)
    return np.column_stack([zxy[:, 2], zxy[:, 1], zxy[:, 0]])


def synthesise(path: Path, mounting: Rotation, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One trial: sensor signals at 200 Hz and the truth at the same times."""
    t, markers = _markers(path)
    sacrum, rot = pelvis_frames(markers)
    return sensor_signals(t, sacrum, rot, mounting, rng)


def sensor_signals(
    t: np.ndarray, sacrum: np.ndarray, rot: np.ndarray, mounting: Rotation, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """The sacral sensor's signals at 200 Hz (with white noise) and the truth at the same times.

    ``t``, ``sacrum`` (n, 3) and ``rot`` (n, 3, 3): the pelvis's motion at the marker rate, smoothed.
    """
    t_new = np.arange(0.0, t[-1] - t[0], 1 / RATE_HZ) + t[0]
    spline = CubicSpline(t, sacrum, axis=0)
    acc_world = spline(t_new, 2) + np.array([0.0, 0.0, GRAVITY_MPS2])
    rotations = Rotation.from_matrix(rot)
    quat = rotations.as_quat()
    quat *= np.sign((quat * quat[0]).sum(axis=1))[:, None]  # one hemisphere, for interpolation
    quat_new = CubicSpline(t, quat, axis=0)(t_new)
    world_from_pelvis = Rotation.from_quat(quat_new / np.linalg.norm(quat_new, axis=1, keepdims=True))
    world_from_sensor = world_from_pelvis * mounting
    acc = world_from_sensor.inv().apply(acc_world)
    step = world_from_sensor[:-1].inv() * world_from_sensor[1:]
    gyr = step.as_rotvec() * RATE_HZ
    gyr = np.vstack([gyr, gyr[-1]])
    acc += rng.normal(0, NOISE["acc_mps2"], acc.shape)
    gyr += rng.normal(0, NOISE["gyr_radps"], gyr.shape)
    return {
        "t": t_new - t_new[0],
        "acc": acc,
        "gyr": gyr,
        "angles": pelvis_angles(world_from_pelvis.as_matrix()),
        "height_cm": spline(t_new)[:, 2] * 100,
    }


def contacts(path: Path, t_offset: float) -> list[dict[str, float]]:
    """Stance phases from the treadmill's vertical force file (column Fy, N, at FORCE_HZ)."""
    return stances(_filled(_columns(path)["Fy"]), FORCE_HZ, t_offset)


def stances(force: np.ndarray, rate_hz: float, t_offset: float) -> list[dict[str, float]]:
    """Stance phases where the vertical force (N, stance positive) is above 0.1 body weight.

    Body weight is the mean force (a runner on a treadmill is on average carried by it).
    """
    weight = force.mean()
    above = force > 0.1 * weight
    rises = np.flatnonzero(~above[:-1] & above[1:]) + 1
    falls = np.flatnonzero(above[:-1] & ~above[1:]) + 1
    out = []
    for r in rises:
        after = falls[falls > r]
        if after.size and after[0] - r >= MIN_STANCE_S * rate_hz:  # not a blip of plate noise
            out.append(
                {
                    "ic_s": t_offset + r / rate_hz,
                    "to_s": t_offset + after[0] / rate_hz,
                    "peak_bw": float(force[r : after[0]].max() / weight),
                }
            )
    return out


def write_session(name: str, files: list[str], datasets: Path, seed: int) -> None:
    """One capture (static, then each speed) and its truth files."""
    rng = np.random.default_rng(seed)
    mounting = Rotation.random(random_state=seed)
    acc_bias = rng.normal(0, NOISE["acc_bias_mps2"], 3)
    gyr_bias = rng.normal(0, NOISE["gyr_bias_radps"], 3)
    parts, events, segments, offset = [], [], [], 0.0
    for file in files:
        trial = synthesise(datasets / file, mounting, rng)
        trial["t"] = trial["t"] + offset
        parts.append(trial)
        segments.append({"file": file, "start_s": offset, "end_s": float(trial["t"][-1])})
        if file in FORCES:
            events += contacts(datasets / FORCES[file], offset)
        offset = float(trial["t"][-1]) + 1 / RATE_HZ
    whole = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    whole["acc"] += acc_bias
    whole["gyr"] += gyr_bias
    meta = {"segments": segments, "contacts_from_forces": events}
    origin = f"benchmarks/synth_fukuchi.py from Fukuchi RBDS {name} (CC BY 4.0)"
    write_recording(OUT, name, whole, meta, mounting, origin)


def write_recording(
    folder: Path,
    name: str,
    trial: dict[str, np.ndarray],
    meta: dict[str, object],
    mounting: Rotation,
    origin: str,
) -> None:
    """A reference-protocol capture of ``trial``'s signals and its truth files (same bytes every time).

    ``origin``: the capture header's source; ``meta`` (segments, contacts, ...) goes into the truth JSON
    with the mounting and the noise levels.
    """
    t, acc, gyr = trial["t"], trial["acc"], trial["gyr"]
    info = SensorInfo(sample_rate_hz=RATE_HZ)
    header = make_header(
        protocol="reference",
        rate_hz=RATE_HZ,
        sensor_name=f"synthetic sacral IMU ({name})",
        start_utc="2026-01-01T00:00:00Z",
        source=origin,
    )
    folder.mkdir(parents=True, exist_ok=True)
    with CaptureWriter(folder / f"{name}.jsonl.gz", header) as writer:
        writer.frame(0, INFO_UUID, info.to_bytes())
        for k, frame in enumerate(encode_samples(acc, gyr, info)):
            last = min((k + 1) * MAX_SAMPLES_PER_FRAME, len(t)) - 1
            writer.frame(round(t[last] * 1e9), DATA_UUID, frame)
    lines = io.StringIO()
    lines.write("time_s,pelvic_tilt_deg,pelvic_obliquity_deg,pelvic_rotation_deg,sacrum_height_cm\n")
    np.savetxt(lines, np.column_stack([t, trial["angles"], trial["height_cm"]]), fmt="%.4f", delimiter=",")
    with gzip.GzipFile(folder / f"{name}_truth.csv.gz", "wb", mtime=0) as handle:  # same bytes every time
        handle.write(lines.getvalue().encode())
    meta = {**meta, "mounting_rotation_xyzw": list(mounting.as_quat()), "noise": NOISE}
    (folder / f"{name}_truth.json").write_text(json.dumps(meta, indent=1))


def main() -> None:
    """Write every session and the licence."""
    datasets = datasets_root()
    folder = datasets / "fukuchi_rbds_subset"
    for seed, (name, files) in enumerate(SESSIONS.items(), start=1):
        write_session(name, files, folder, seed)
    shutil.copyfile(folder / "LICENSE.txt", OUT / "LICENSE.txt")
    for path in sorted(OUT.iterdir()):
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
