"""Orientation filters compared on the BROAD benchmark (accuracy) and in the pipeline's block sizes (speed).

Inclination error = angle between the estimated and the optical vertical in the sensor frame (heading
ignored), RMSE over the `movement` samples of each trial. Candidates: VQF (what tilt.py uses), x-io Fusion
(imufusion) and a vectorised complementary filter on roll/pitch (scipy.signal.lfilter, state carried).

Usage: .venv/bin/python benchmarks/orientation.py [DATASETS_DIR]
"""

from __future__ import annotations

import time
from collections.abc import Callable

import imufusion
import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter

from _datasets import datasets_root
from spinesense.processing.tilt import Orientation, quat_to_matrix
from validation.broad import inclination_rmse, load_trial

Filter = Callable[[NDArray[np.float64], NDArray[np.float64], float, int], NDArray[np.float64]]
"""(acc, gyr, rate, block size) -> estimated vertical in sensor axes, (n, 3)."""


def vqf_vertical(
    acc: NDArray[np.float64], gyr: NDArray[np.float64], rate: float, block: int
) -> NDArray[np.float64]:
    """VQF through spinesense's Orientation, fed ``block`` samples at a time."""
    orientation = Orientation(rate)
    quats = [orientation.feed(acc[i : i + block], gyr[i : i + block]) for i in range(0, len(acc), block)]
    return quat_to_matrix(np.concatenate(quats))[:, 2, :]  # earth z in sensor axes: third row


def fusion_vertical(
    acc: NDArray[np.float64], gyr: NDArray[np.float64], rate: float, block: int
) -> NDArray[np.float64]:
    """x-io Fusion AHRS without magnetometer (it updates one sample per call)."""
    del block
    ahrs = imufusion.Ahrs()
    settings = imufusion.AhrsSettings()
    settings.convention = imufusion.CONVENTION_NWU
    settings.gain = 0.5
    settings.gyroscope_range = 2000
    settings.acceleration_rejection = 10
    settings.magnetic_rejection = 0
    settings.rejection_timeout = int(5 * rate)
    settings.sample_rate = round(rate)
    ahrs.set_settings(settings)
    ahrs.set_sample_period(1 / rate)
    out = np.empty((len(acc), 4))
    gyr_dps, acc_g = np.degrees(gyr), acc / 9.81
    for i in range(len(acc)):
        ahrs.update_no_magnetometer(gyr_dps[i], acc_g[i])
        out[i] = ahrs.get_quaternion()
    return quat_to_matrix(out)[:, 2, :]


def complementary_vertical(
    acc: NDArray[np.float64], gyr: NDArray[np.float64], rate: float, block: int, tau_s: float = 1.0
) -> NDArray[np.float64]:
    """Roll/pitch from gravity blended with integrated body rates: a first-order IIR (lfilter, state kept)."""
    alpha = tau_s / (tau_s + 1 / rate)
    roll_acc = np.arctan2(acc[:, 1], acc[:, 2])
    pitch_acc = np.arctan2(-acc[:, 0], np.hypot(acc[:, 1], acc[:, 2]))
    # Euler rates from body rates, linearised at the accelerometer's angles (no feedback: stays vectorised).
    roll_rate = gyr[:, 0] + np.tan(pitch_acc) * (np.sin(roll_acc) * gyr[:, 1] + np.cos(roll_acc) * gyr[:, 2])
    pitch_rate = np.cos(roll_acc) * gyr[:, 1] - np.sin(roll_acc) * gyr[:, 2]
    angles = []
    for rate_k, acc_k in ((roll_rate, roll_acc), (pitch_rate, pitch_acc)):
        drive = alpha * rate_k / rate + (1 - alpha) * acc_k
        zi = np.array([alpha * acc_k[0]])
        parts = []
        for i in range(0, len(acc), block):
            y, zi = lfilter([1.0], [1.0, -alpha], drive[i : i + block], zi=zi)
            parts.append(y)
        angles.append(np.concatenate(parts))
    roll, pitch = angles
    return np.column_stack([-np.sin(pitch), np.cos(pitch) * np.sin(roll), np.cos(pitch) * np.cos(roll)])


FILTERS: dict[str, Filter] = {
    "VQF": vqf_vertical,
    "imufusion": fusion_vertical,
    "complementary": complementary_vertical,
}


def main() -> None:
    """Accuracy per trial group, then speed in big blocks and 19-sample frames."""
    root = datasets_root()
    trials = sorted((root / "broad" / "data_hdf5").glob("*.hdf5"))
    errors: dict[str, list[float]] = {name: [] for name in FILTERS}
    for path in trials:
        trial = load_trial(path)
        for name, fn in FILTERS.items():
            vertical = fn(trial.acc, trial.gyr, trial.rate_hz, len(trial.acc))
            errors[name].append(inclination_rmse(vertical, trial))
    print(f"BROAD inclination RMSE over {len(trials)} trials (deg): median [min - max]")
    print("| filter | median | min | max | samples/s, big blocks | samples/s, 19-sample frames |")
    print("|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    n = 200_000
    acc = rng.normal(0, 1, (n, 3)) + np.array([0, 0, 9.81])
    gyr = rng.normal(0, 0.5, (n, 3))
    for name, fn in FILTERS.items():
        speeds = []
        for block in (n, 19):
            m = n if name != "imufusion" else 50_000
            start = time.perf_counter()
            fn(acc[:m], gyr[:m], 200.0, block)
            speeds.append(m / (time.perf_counter() - start))
        e = np.array(errors[name])
        accuracy = f"{np.median(e):.2f} | {e.min():.2f} | {e.max():.2f}"
        print(f"| {name} | {accuracy} | {speeds[0]:,.0f} | {speeds[1]:,.0f} |")


if __name__ == "__main__":
    main()
