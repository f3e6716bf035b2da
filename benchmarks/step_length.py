"""Step length model: fit on Alcantara et al. (2021), leave-one-runner-out error, then Fukuchi's speeds.

Usage: .venv/bin/python benchmarks/step_length.py [DATASETS]. Prints the coefficients (to compare with
spinesense.store.distance.STEP_LENGTH_COEF), the cross-validated speed error on the fitting data, and
the error on the Fukuchi captures in replay_data/ (other runners, other lab, the whole pipeline).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from _datasets import datasets_root
from spinesense.store.distance import STEP_LENGTH_COEF
from validation.step_length import fit_coefficients, fukuchi_checks

REPLAY = Path(__file__).resolve().parents[1] / "replay_data" / "fukuchi"


def main() -> None:
    """Fit, cross-validate and check."""
    table = np.genfromtxt(
        datasets_root() / "alcantara_sacral_accel_manuscript" / "GRF_IMU_data.csv", delimiter=",", names=True
    )
    f, tc, v, runner = table["IMUsf"], table["IMUtc"], table["Speed"], table["Sub"]
    coef = fit_coefficients(f, tc, v)
    runners = len(np.unique(runner))
    print(f"fit on {len(v)} trials of {runners} runners ({v.min():.1f}-{v.max():.1f} m/s):")
    print(f"  step length = {coef[0]:.4f} + {coef[1]:.5f} * f_step + {coef[2]:.4f} * t_contact  (m, Hz, s)")
    print(f"  in the code:  {STEP_LENGTH_COEF}")
    errors = []
    for left_out in np.unique(runner):
        out = runner == left_out
        a, b, c = fit_coefficients(f[~out], tc[~out], v[~out])
        errors.extend((a + b * f[out] + c * tc[out]) * f[out] / v[out] - 1.0)
    e = np.asarray(errors)
    print(
        f"leave-one-runner-out speed (= distance) error: bias {e.mean():+.1%}, "
        f"RMS {np.sqrt((e**2).mean()):.1%}, worst {np.abs(e).max():.1%}"
    )
    print("Fukuchi RBDS through the pipeline (treadmill speed, model estimate, error):")
    for name in ("RBDS0041", "RBDS032"):
        for check in fukuchi_checks(REPLAY, name):
            print(
                f"  {check.trial:24s} {check.speed_mps:.1f} m/s  {check.estimate_mps:.2f} m/s  "
                f"{check.error:+.1%}"
            )


if __name__ == "__main__":
    main()
