"""Toe-off and contact time against the force treadmill (Alcantara et al. 2022), trial by trial.

The toe-off rule (gait.py: PUSH_OFF_G and TOE_OFF_STEP) was fitted on the odd-numbered trials only; the
even ones are held out. Bounds are from benchmarks/toe_off.py (measured figures in the comments); a
toe-off at a fixed low level (0.45 g, before) gave GCT RMSE 18.1 and 18.4 ms on the two halves and
per-trial mean toe-off errors from -27 to +34 ms, which every bound here rejects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from validation.alcantara import load_trials, score_trial
from validation.errors import PairedScores

if TYPE_CHECKING:
    from pathlib import Path

    from validation.alcantara import TreadmillTrial

TOE_OFF, GCT, FLIGHT = "toe-off (ms)", "ground contact time (ms)", "flight time (ms)"
BOUNDS = {
    # half: (toe-off RMSE, GCT RMSE, flight RMSE) in ms; measured 7.2 / 10.7 / 10.8 and 7.9 / 14.1 / 14.0
    "tuning": (8.5, 12.0, 12.0),
    "held out": (9.0, 15.0, 15.0),
}
TRIAL_MEAN_MS = 16.0
"""Every trial's mean toe-off error lies within this (measured -14.4 to +13.6 ms)."""
MOUNTINGS = {
    "upside down, yawed 35 deg": Rotation.from_euler("xz", [180, 35], degrees=True).as_matrix(),
    "on its side, pitched 20 deg": Rotation.from_euler("yx", [20, 90], degrees=True).as_matrix(),
}


@pytest.fixture(scope="module")
def trials(shared_datasets: Path) -> list[TreadmillTrial]:
    """The 25 treadmill trials."""
    return load_trials(shared_datasets / "alcantara_recurrent_grf")


def _halves(trials: list[TreadmillTrial], rotation: np.ndarray | None = None) -> dict[str, PairedScores]:
    """Scores of the tuning (odd-numbered) and held-out (even) trials, the sensor turned by ``rotation``."""
    halves = {"tuning": PairedScores(), "held out": PairedScores()}
    for number, trial in enumerate(trials, start=1):
        halves["tuning" if number % 2 else "held out"].extend(score_trial(trial, rotation))
    return halves


def _check(halves: dict[str, PairedScores]) -> None:
    """Each half within its bounds, with nearly all its strides scored."""
    for half, score in halves.items():
        assert score.stats(GCT).n >= 80, f"{half}: strides missed"
        for name, bound in zip((TOE_OFF, GCT, FLIGHT), BOUNDS[half], strict=True):
            rmse = score.stats(name).rmse
            assert rmse <= bound, f"{half}, {name}: RMSE {rmse:.2f} above {bound}"


def test_contact_time_on_both_halves(trials: list[TreadmillTrial]) -> None:
    _check(_halves(trials))


@pytest.mark.parametrize("mounting", MOUNTINGS)
def test_contact_time_whatever_the_mounting(trials: list[TreadmillTrial], mounting: str) -> None:
    _check(_halves(trials, MOUNTINGS[mounting]))


def test_no_trial_has_its_own_toe_off_offset(trials: list[TreadmillTrial]) -> None:
    """A rule that is right on average but off on every trial fails here, whichever half the trial is in."""
    for number, trial in enumerate(trials, start=1):
        est, ref = score_trial(trial).pairs[TOE_OFF]
        mean = float(np.mean(np.subtract(est, ref)))
        assert abs(mean) <= TRIAL_MEAN_MS, f"trial {number}: mean toe-off error {mean:+.1f} ms"
