"""Toe-off per Alcantara trial: the mean and spread of its error, per half, upright and turned on the body.

A toe-off rule can average out over the trials while every trial is off (a per-trial offset): this prints
each trial's mean error and SD, the range of the trial means, and the halves' toe-off and contact-time
errors with the sensor mounted upright, upside down and yawed (the signals rotated before the pipeline).
Usage: .venv/bin/python benchmarks/toe_off.py [DATASETS_DIR]   (default ../shared/datasets)
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from _datasets import datasets_root
from validation.alcantara import load_trials, score_trial
from validation.errors import PairedScores

TOE_OFF, GCT = "toe-off (ms)", "ground contact time (ms)"
MOUNTINGS = {
    "upright": None,
    "upside down": Rotation.from_euler("x", 180, degrees=True).as_matrix(),
    "upside down, yawed 35 deg": Rotation.from_euler("xz", [180, 35], degrees=True).as_matrix(),
    "on its side, pitched 20 deg": Rotation.from_euler("yx", [20, 90], degrees=True).as_matrix(),
}


def main() -> None:
    """Print the per-trial table, then the halves for each mounting."""
    trials = load_trials(datasets_root() / "alcantara_recurrent_grf")
    print("| trial | half | speed (m/s) | toe-off error mean (ms) | SD (ms) | n |")
    print("|---|---|---|---|---|---|")
    means = []
    for number, trial in enumerate(trials, start=1):
        est, ref = score_trial(trial).pairs[TOE_OFF]
        error = np.subtract(est, ref)
        means.append(float(error.mean()))
        half = "tuning" if number % 2 else "held out"
        row = f"{trial.speed_mps:.2f} | {error.mean():+.1f} | {error.std():.1f} | {error.size}"
        print(f"| {number} | {half} | {row} |")
    print(f"\ntrial means from {min(means):+.1f} to {max(means):+.1f} ms, SD {np.std(means):.1f} ms\n")
    print("| mounting | half | toe-off bias / RMSE (ms) | GCT bias / RMSE (ms) |")
    print("|---|---|---|---|")
    for name, rotation in MOUNTINGS.items():
        halves = {"tuning": PairedScores(), "held out": PairedScores()}
        for number, trial in enumerate(trials, start=1):
            halves["tuning" if number % 2 else "held out"].extend(score_trial(trial, rotation))
        for half, score in halves.items():
            to, gct = score.stats(TOE_OFF), score.stats(GCT)
            print(f"| {name} | {half} | {to.bias:+.2f} / {to.rmse:.2f} | {gct.bias:+.2f} / {gct.rmse:.2f} |")


if __name__ == "__main__":
    main()
