"""Validation on the Fukuchi running data (synthesised sacral IMU, replay_data/fukuchi/).

The pipeline runs on the synthetic capture; each stride is scored against the motion-capture truth over
the same time window: pelvic tilt range, obliquity range in each stance (pelvic drop), rotation range and
sacral vertical excursion, and, where treadmill forces exist, initial contacts, contact time and peak
vertical force. Tests the orientation and alignment chain end to end (mounting rotation, noise, bias).
"""

from __future__ import annotations

import gzip
import json
from typing import TYPE_CHECKING

import numpy as np

from spinesense import analyse
from spinesense.processing.strides import detrended_range, other_side
from validation.errors import PairedScores, match_events

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

    from spinesense.models import Stride


def load_truth(folder: Path, name: str) -> tuple[NDArray[np.float64], dict[str, object]]:
    """The per-sample truth table and the events/segments description of one session."""
    with gzip.open(folder / f"{name}_truth.csv.gz", "rt", encoding="utf-8") as handle:
        table = np.loadtxt(handle, delimiter=",", skiprows=1)
    return table, json.loads((folder / f"{name}_truth.json").read_text())


def score_session(folder: Path, name: str, score: PairedScores | None = None) -> PairedScores:
    """Score every stride of one synthetic session."""
    score = score or PairedScores()
    table, meta = load_truth(folder, name)
    t, tilt, obliquity, rotation, height = table.T
    strides: list[Stride] = analyse(folder / f"{name}.jsonl.gz").strides
    for s in strides:
        window = (t >= s.t_start_s) & (t <= s.t_end_s)
        if window.sum() < 20:
            continue
        tw = t[window]
        if s.pelvic_tilt_rom_deg is not None:
            score.add("pelvic tilt range (deg)", s.pelvic_tilt_rom_deg, detrended_range(tilt[window], tw))
        if s.pelvic_rotation_deg is not None:
            score.add(
                "pelvic rotation range (deg)", s.pelvic_rotation_deg, detrended_range(rotation[window], tw)
            )
        if s.vertical_oscillation_cm is not None:
            score.add(
                "vertical oscillation (cm)", s.vertical_oscillation_cm, detrended_range(height[window], tw)
            )
        _score_drop(s, t, obliquity, score)
    _score_contacts(strides, meta, score)
    return score


def _score_drop(
    s: Stride, t: NDArray[np.float64], obliquity: NDArray[np.float64], score: PairedScores
) -> None:
    """Obliquity range in each stance (the first at the stride's start, the second half a stride later)."""
    if s.gct_ms is None or s.side == "unknown":
        return
    half = (s.t_end_s - s.t_start_s) / 2
    for side, start in ((s.side, s.t_start_s), (other_side(s.side), s.t_start_s + half)):
        ours = getattr(s, f"pelvic_drop_{side}_deg")
        stance = (t >= start) & (t <= start + s.gct_ms / 1000)
        if ours is not None and stance.sum() > 5:
            score.add("pelvic drop in stance (deg)", ours, float(np.ptp(obliquity[stance])))


def _score_contacts(strides: list[Stride], meta: dict[str, object], score: PairedScores) -> None:
    """Initial contacts, contact time and peak force against the treadmill, where it recorded forces."""
    contacts = meta["contacts_from_forces"]
    assert isinstance(contacts, list)
    if not contacts:
        return
    ics = np.array([c["ic_s"] for c in contacts])
    for s in strides:
        _, j = match_events(np.array([s.t_start_s]), ics, 0.06)
        if not j.size:
            continue
        k = int(j[0])
        score.add("initial contact (ms)", 1000 * s.t_start_s, 1000 * contacts[k]["ic_s"])
        if k + 1 >= len(contacts):
            continue
        pair = contacts[k : k + 2]  # the stride's two stances
        if s.gct_ms is not None:
            ref_gct = 1000 * np.mean([c["to_s"] - c["ic_s"] for c in pair])
            score.add("ground contact time (ms)", s.gct_ms, float(ref_gct))
        if s.vgrf_peak_bw is not None:
            score.add("peak vGRF (BW)", s.vgrf_peak_bw, float(np.mean([c["peak_bw"] for c in pair])))
