"""Synthesise a sacral IMU for 14 Fukuchi runners in every mounting class: standing, a turn, running.

Each session: 5 s of quiet standing (the runner's standing trial), a 1 s turn of 60-120 degrees into the
running direction while starting to run, then running at 3.5 m/s on the treadmill; the pelvis motion is
the runner's own (markers), the sensor is simulated as in ``synth_fukuchi.py`` (same noise and biases)
and mounted in one of six classes (upright, upside down, sideways left or right, face flipped towards
the body, flat), each turned further by a random 10-20 degrees. Runners: the 12 of the raw C3D set
(``fukuchi_rbds_c3d``, contacts from its treadmill force plate) and the 2 of the TXT subset.

The 84 sessions are written to a cache outside the repository (``SPINESENSE_CACHE``, default
``~/.cache/spinesense``), the same bytes every time; ``write_bundled`` writes the few short ones the
tests use into ``replay_data/fukuchi_mountings/``.
Usage: .venv/bin/python benchmarks/synth_mountings.py [DATASETS_DIR]   (writes the cache and the bundle)
Fukuchi, Fukuchi, Duarte (2017) PeerJ 5:e3298, CC BY 4.0.
"""

from __future__ import annotations

import lzma
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import c3d
import numpy as np
from scipy.spatial.transform import Rotation

from _datasets import datasets_root
from synth_fukuchi import (
    MARKER_HZ,
    NOISE,
    _filled,
    _markers,
    pelvis_frames,
    sensor_signals,
    stances,
    write_recording,
)

MOUNTINGS = {
    "upright": ((0, 0, 1), (-1, 0, 0)),
    "upside down": ((0, 0, -1), (-1, 0, 0)),
    "sideways left": ((0, 1, 0), (-1, 0, 0)),
    "sideways right": ((0, -1, 0), (-1, 0, 0)),
    "face flipped": ((0, 0, 1), (1, 0, 0)),
    "flat": ((-1, 0, 0), (0, 0, 1)),
}
"""Each class: where the sensor's top (+y) and face (+z) point, in the pelvis frame (x forward, y left,
z up). Upright: top up, face out of the back."""
C3D_RUNNERS = ("RBDS03", "RBDS04", "RBDS05", "RBDS08", "RBDS09", *(f"RBDS0{n}" for n in range(16, 23)))
TXT_RUNNERS = {"RBDS0041": "RBDS0041runT352.txt", "RBDS032": "RBDS032runT35markers.txt"}
RUNNERS = (*C3D_RUNNERS, *TXT_RUNNERS)
STANDING_S = 5.0
TURN_S = 1.0
RUNNING_S = 20.0
BUNDLED_RUNNING_S = 8.0
FORCE_PLATE_HZ = 300.0
FZ_NEWTON_PER_VOLT = 1000.0
"""Treadmill plate calibration (the files' FORCE_PLATFORM:CAL_MATRIX); its Fz is negative in stance."""
VERSION = "v2"
"""Changes whenever the synthesis does: the cache folder is named after it, so old recordings go stale."""


@dataclass(frozen=True, slots=True)
class Motion:
    """The pelvis at the marker rate: times (s), sacral point (n, 3, m) and world_from_pelvis (n, 3, 3)."""

    t: np.ndarray
    sacrum: np.ndarray
    rot: np.ndarray

    def head(self, seconds: float) -> Motion:
        """The first ``seconds`` of the motion."""
        keep = self.t - self.t[0] <= seconds
        return Motion(self.t[keep] - self.t[0], self.sacrum[keep], self.rot[keep])


def cache_dir() -> Path:
    """Where the 84 generated sessions live (outside the repository: about 20 MB)."""
    root = Path(os.environ.get("SPINESENSE_CACHE", Path.home() / ".cache" / "spinesense"))
    return root / f"fukuchi_mountings_{VERSION}"


def session_name(runner: str, mounting: str) -> str:
    """File stem of one session, e.g. ``RBDS03_upside_down``."""
    return f"{runner}_{mounting.replace(' ', '_')}"


def read_c3d(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Times, pelvis markers (m; x forward, y left, z up) and vertical plate force (N, stance +) of a C3D.

    ``path`` is xz-compressed. Lab axes: X anteroposterior, Y up, Z to the right; gaps (marked by a
    negative residual or all-zero coordinates) are filled by linear interpolation.
    """
    with lzma.open(path) as handle, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "No analog data found", UserWarning)  # standing trials: no plate
        reader = c3d.Reader(handle)
        labels = [label.strip() for label in reader.point_labels]
        points, analog = [], []
        for _, frame_points, frame_analog in reader.read_frames():
            points.append(frame_points[:, :4].copy())
            analog.append(frame_analog.copy())
    xyz = np.array(points)
    missing = (xyz[..., 3] < 0) | (np.abs(xyz[..., :3]).sum(-1) == 0)
    xyz[..., :3][missing] = np.nan
    markers = {}
    for name in ("R.ASIS", "L.ASIS", "R.PSIS", "L.PSIS"):
        x, y, z = (_filled(xyz[:, labels.index(name), k]) / 1000 for k in range(3))
        markers[name] = np.column_stack([x, -z, y])
    t = np.arange(xyz.shape[0]) / MARKER_HZ
    force = -np.concatenate(analog, axis=1)[2] * FZ_NEWTON_PER_VOLT if analog[0].size else np.zeros(0)
    return t, markers, force


def motion(t: np.ndarray, markers: dict[str, np.ndarray]) -> Motion:
    """The pelvis motion of a trial's markers."""
    sacrum, rot = pelvis_frames(markers)
    return Motion(t - t[0], sacrum, rot)


def standing(still: Motion, seconds: float) -> Motion:
    """``seconds`` of standing from a (possibly shorter) standing trial, played forwards and backwards.

    Reflecting keeps the posture continuous where the trial repeats (the C3D standing trials last 1 s).
    """
    n = round(seconds * MARKER_HZ) + 1
    period = 2 * (still.t.size - 1)
    k = np.arange(n) % period
    index = np.where(k < still.t.size, k, period - k)
    return Motion(np.arange(n) / MARKER_HZ, still.sacrum[index], still.rot[index])


def _min_jerk(s: np.ndarray) -> np.ndarray:
    """0 -> 1 with zero velocity and acceleration at both ends (no jolt where the turn joins)."""
    out: np.ndarray = s**3 * (10 - 15 * s + 6 * s**2)
    return out


def _yaw(degrees: np.ndarray) -> Rotation:
    """Rotations about the vertical."""
    return Rotation.from_euler("z", degrees[:, None], degrees=True)


def session(still: Motion, run: Motion, turn_deg: float) -> Motion:
    """Standing (facing ``turn_deg`` away from the running direction), a 1 s turn, then running.

    During the turn the pose blends from the standing posture to the running motion (already under
    way) and the heading turns to the running direction; the standing place is moved onto the
    treadmill's, so only the turn itself moves the pelvis horizontally.
    """
    stand = standing(still, STANDING_S)
    shift = run.sacrum[0] - stand.sacrum[-1]
    shift[2] = 0.0
    stand_sacrum = stand.sacrum + shift
    stand_rot = (_yaw(np.full(stand.t.size, turn_deg)) * Rotation.from_matrix(stand.rot)).as_matrix()
    turning = run.t <= TURN_S
    w = _min_jerk(run.t[turning] / TURN_S)
    last = Rotation.from_matrix(stand.rot[-1])
    poses = Rotation.from_matrix(run.rot[turning])
    blended = last * Rotation.from_rotvec(w[:, None] * (last.inv() * poses).as_rotvec())  # slerp
    turn_rot = (_yaw(turn_deg * (1 - w)) * blended).as_matrix()
    turn_sacrum = (1 - w)[:, None] * stand_sacrum[-1] + w[:, None] * run.sacrum[turning]
    rot = np.concatenate([stand_rot, turn_rot, run.rot[~turning]])
    sacrum = np.concatenate([stand_sacrum, turn_sacrum, run.sacrum[~turning]])
    t = np.arange(rot.shape[0]) / MARKER_HZ
    return Motion(t, sacrum, rot)


def mounting_rotation(mounting: str, rng: np.random.Generator) -> Rotation:
    """pelvis_from_sensor of a class, turned further about a random axis by 10-20 degrees."""
    top, face = (np.array(v, dtype=float) for v in MOUNTINGS[mounting])
    base = Rotation.from_matrix(np.column_stack([np.cross(top, face), top, face]))
    axis = rng.normal(size=3)
    angle = np.radians(rng.uniform(10.0, 20.0))
    return base * Rotation.from_rotvec(axis / np.linalg.norm(axis) * angle)


def runner_trials(runner: str, datasets: Path) -> tuple[Motion, Motion, list[dict[str, float]]]:
    """A runner's standing and running motion, and the running trial's stances (empty without forces)."""
    if runner in TXT_RUNNERS:
        folder = datasets / "fukuchi_rbds_subset"
        still = motion(*_markers(folder / f"{runner}static.txt"))
        return still, motion(*_markers(folder / TXT_RUNNERS[runner])), []
    folder = datasets / "fukuchi_rbds_c3d"
    t, markers, _ = read_c3d(folder / f"{runner}static.c3d.xz")
    t_run, markers_run, force = read_c3d(folder / f"{runner}runT35.c3d.xz")
    return motion(t, markers), motion(t_run, markers_run), stances(force, FORCE_PLATE_HZ, 0.0)


def write_runner(runner: str, datasets: Path, folder: Path, running_s: float, mountings: list[str]) -> None:
    """One session per mounting class of ``runner`` (seeded by runner and class: the same every time)."""
    still, run, contacts = runner_trials(runner, datasets)
    run = run.head(running_s + TURN_S)
    start = STANDING_S + 1 / MARKER_HZ  # the running trial's t = 0 is where the turn begins
    for mounting in mountings:
        seed = RUNNERS.index(runner) * len(MOUNTINGS) + list(MOUNTINGS).index(mounting)
        rng = np.random.default_rng(1000 + seed)
        pose = mounting_rotation(mounting, rng)
        turn_deg = rng.choice([-1.0, 1.0]) * rng.uniform(60.0, 120.0)
        whole = session(still, run, turn_deg)
        trial = sensor_signals(whole.t, whole.sacrum, whole.rot, pose, rng)
        trial["acc"] += rng.normal(0, NOISE["acc_bias_mps2"], 3)
        trial["gyr"] += rng.normal(0, NOISE["gyr_bias_radps"], 3)
        end = float(trial["t"][-1])
        shifted = [
            {**c, "ic_s": c["ic_s"] + start, "to_s": c["to_s"] + start}
            for c in contacts
            if c["ic_s"] > TURN_S and c["to_s"] + start < end
        ]
        meta = {
            "runner": runner,
            "mounting": mounting,
            "turn_deg": turn_deg,
            "segments": [
                {"file": "standing", "start_s": 0.0, "end_s": STANDING_S},
                {"file": "turn", "start_s": STANDING_S, "end_s": STANDING_S + TURN_S},
                {"file": "running", "start_s": STANDING_S + TURN_S, "end_s": end},
            ],
            "contacts_from_forces": shifted,
        }
        source = f"benchmarks/synth_mountings.py from Fukuchi RBDS {runner} (CC BY 4.0)"
        write_recording(folder, session_name(runner, mounting), trial, meta, pose, source)


def ensure_cache(datasets: Path) -> Path:
    """The cache folder, written first if it is missing or incomplete."""
    folder = cache_dir()
    for runner in RUNNERS:
        if not all((folder / f"{session_name(runner, m)}_truth.json").exists() for m in MOUNTINGS):
            write_runner(runner, datasets, folder, RUNNING_S, list(MOUNTINGS))
    return folder


BUNDLED = {
    "RBDS03": "upright",
    "RBDS05": "upside down",
    "RBDS09": "sideways left",
    "RBDS017": "sideways right",
    "RBDS019": "face flipped",
    "RBDS021": "flat",
}
"""The short sessions bundled for the tests: one per mounting class, each of another runner."""
BUNDLE = Path(__file__).resolve().parents[1] / "replay_data" / "fukuchi_mountings"


def write_bundled(datasets: Path) -> None:
    """The short sessions the tests use, and the data set's licence, into ``replay_data/``."""
    for runner, mounting in BUNDLED.items():
        write_runner(runner, datasets, BUNDLE, BUNDLED_RUNNING_S, [mounting])
    shutil.copyfile(datasets / "fukuchi_rbds_c3d" / "LICENSE.txt", BUNDLE / "LICENSE.txt")


def main() -> None:
    """Write the cache and the bundled sessions."""
    datasets = datasets_root()
    print(f"cache: {ensure_cache(datasets)}")
    write_bundled(datasets)
    for path in sorted(BUNDLE.iterdir()):
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
