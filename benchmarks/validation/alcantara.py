"""Validation on Alcantara et al. (2022): sacral accelerometer vs force treadmill, 500 Hz.

One runner, 25 trials of 4.96 s (2.5-4.17 m/s, slopes -10..+10 deg), vertical and anteroposterior
acceleration only (no gyroscope). Reference contact: normal GRF above 0.1 BW (stated in the datasets
README); our contact times, GCT, flight, cadence and peak vGRF are scored against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from spinesense.models import GRAVITY_MPS2, SampleBlock
from validation.blocks import strides_from_blocks
from validation.errors import PairedScores, crossings, match_events

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

    from spinesense.models import Stride

RATE_HZ = 500.0
CONTACT_BW = 0.1
"""Reference contact: normal GRF above this many body weights."""
MATCH_S = 0.06
"""A detected event further than this from every reference event is not paired."""


@dataclass(frozen=True)
class TreadmillTrial:
    """One trial: sacral vertical and anteroposterior acceleration (g) and normal GRF (BW)."""

    vertical_g: NDArray[np.float64]
    forward_g: NDArray[np.float64]
    grf_bw: NDArray[np.float64]
    speed_mps: float

    def block(self, rotation: NDArray[np.float64] | None = None) -> SampleBlock:
        """The trial as one block in sensor axes x forward, y left, z up, optionally rotated."""
        acc = (
            np.column_stack([self.forward_g, np.zeros_like(self.vertical_g), self.vertical_g]) * GRAVITY_MPS2
        )
        if rotation is not None:
            acc = acc @ rotation.T
        t = np.arange(acc.shape[0]) / RATE_HZ
        return SampleBlock(t_s=t, acc_mps2=acc, gyr_radps=None, first_index=0, rate_hz=RATE_HZ)


def load_trials(folder: Path) -> list[TreadmillTrial]:
    """All trials of ``alcantara_recurrent_grf/``."""
    acc = np.loadtxt(folder / "Accelerometer_one_sub.csv", delimiter=",")
    grf = np.loadtxt(folder / "GRF_one_sub.csv", delimiter=",")
    info = np.genfromtxt(folder / "Sub_Info_one_sub.csv", delimiter=",", names=True)
    half = acc.shape[1] // 2
    return [
        TreadmillTrial(acc[i, :half], acc[i, half:], grf[i], float(info["Speed"][i]))
        for i in range(acc.shape[0])
    ]


def score_trial(trial: TreadmillTrial, rotation: NDArray[np.float64] | None = None) -> PairedScores:
    """Run the pipeline on one trial; its paired errors (times in ms) and its mean cadence pair.

    Returned rather than added to a total so that a caller can add one run to several totals.
    """
    strides = strides_from_blocks([trial.block(rotation)]).strides
    score = PairedScores()
    _score_strides(strides, trial, score)
    est, ref = score.pairs.get("cadence (steps/min)", ([], []))
    if est:
        score.add("cadence, trial mean (steps/min)", float(np.mean(est)), float(np.mean(ref)))
    return score


def _score_strides(strides: list[Stride], trial: TreadmillTrial, score: PairedScores) -> None:
    """Pair each stride with the force plate's contacts and add the errors to ``score``."""
    rises, falls = crossings(trial.grf_bw, CONTACT_BW)
    ref_ic, ref_to = rises / RATE_HZ, falls / RATE_HZ
    for s in strides:
        # The stride's first contact: IC at t_start, toe-off after gct (mean of the two contacts).
        _, j = match_events(np.array([s.t_start_s]), ref_ic, MATCH_S)
        if not j.size:
            continue
        ic = ref_ic[j[0]]
        score.add("initial contact (ms)", 1000 * s.t_start_s, 1000 * ic)
        later_to = ref_to[ref_to > ic]
        nxt = ref_ic[ref_ic > ic]
        if later_to.size < 2 or nxt.size < 2:
            continue
        ref_gct = 1000 * float(np.mean([later_to[0] - ic, later_to[1] - nxt[0]]))
        ref_flight = 1000 * float(np.mean([nxt[0] - later_to[0], nxt[1] - later_to[1]]))
        ref_period = float(nxt[1] - ic)
        if s.gct_ms is None or s.flight_ms is None:
            continue
        score.add("ground contact time (ms)", s.gct_ms, ref_gct)
        score.add("flight time (ms)", s.flight_ms, ref_flight)
        score.add("cadence (steps/min)", s.cadence_spm, 120.0 / ref_period)
        score.add("toe-off (ms)", 1000 * s.t_start_s + s.gct_ms, 1000 * ic + ref_gct)
        peaks = [
            trial.grf_bw[int(a * RATE_HZ) : int(b * RATE_HZ)].max()
            for a, b in ((ic, later_to[0]), (nxt[0], later_to[1]))
        ]
        if s.vgrf_peak_bw is not None:
            score.add("peak vGRF (BW)", s.vgrf_peak_bw, float(np.mean(peaks)))


def score_all(folder: Path, rotation: NDArray[np.float64] | None = None) -> PairedScores:
    """Score every trial."""
    score = PairedScores()
    for trial in load_trials(folder):
        score.extend(score_trial(trial, rotation))
    return score
