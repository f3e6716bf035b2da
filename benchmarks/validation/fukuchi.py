"""Validation on the Fukuchi running data (synthesised sacral IMU), per stride and as session medians.

Sessions: replay_data/fukuchi/ (benchmarks/synth_fukuchi.py) and those of benchmarks/synth_mountings.py
(standing, a turn, running; every mounting class).

The pipeline runs on the synthetic capture; each stride is scored against the motion-capture truth over
the same time window: pelvic tilt range, obliquity range in each stance (pelvic drop), rotation range and
sacral vertical excursion, and, where treadmill forces exist, initial contacts, contact time and peak
vertical force. Tests the orientation and alignment chain end to end (mounting rotation, noise, bias).
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from spinesense import analyse
from spinesense.processing.reference import range_less_line
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
    score_strides(analyse(folder / f"{name}.jsonl.gz").strides, table, meta, score)
    return score


def score_strides(
    strides: list[Stride], table: NDArray[np.float64], meta: dict[str, object], score: PairedScores
) -> None:
    """Add each stride's pairs to ``score``: angles and excursion over its window, its stances, contacts."""
    t, tilt, obliquity, rotation, height = table.T
    for s in strides:
        window = (t >= s.t_start_s) & (t <= s.t_end_s)
        if window.sum() < 20:
            continue
        tw = t[window]
        if s.pelvic_tilt_rom_deg is not None:
            score.add("pelvic tilt range (deg)", s.pelvic_tilt_rom_deg, range_less_line(tilt[window], tw))
        if s.pelvic_rotation_deg is not None:
            score.add(
                "pelvic rotation range (deg)", s.pelvic_rotation_deg, range_less_line(rotation[window], tw)
            )
        if s.vertical_oscillation_cm is not None:
            score.add(
                "vertical oscillation (cm)", s.vertical_oscillation_cm, range_less_line(height[window], tw)
            )
        if s.side != "unknown":
            sides = (s.side, "right" if s.side == "left" else "left")  # the first stance's foot, the other's
            for side, reference in zip(sides, _stance_ranges(s, t, obliquity), strict=False):
                ours = getattr(s, f"pelvic_drop_{side}_deg")
                if ours is not None and reference is not None:
                    score.add("pelvic drop in stance (deg)", ours, reference)
    _score_contacts(strides, meta, score)


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


SESSION_METRICS = {
    "cadence (spm)": "cadence_spm",
    "vertical oscillation (cm)": "vertical_oscillation_cm",
    "pelvic tilt range (deg)": "pelvic_tilt_rom_deg",
    "pelvic rotation range (deg)": "pelvic_rotation_deg",
    "trunk lean vs standing (deg)": "trunk_lean_deg",
    "pelvic drop in stance (deg)": "pelvic_drop",
}
"""Scored name -> the Stride field whose session median is compared (pelvic drop: both sides pooled)."""


@dataclass
class TrialResult:
    """One session with standing, a turn and running, scored as a whole and per stride."""

    name: str
    mounting: str
    ours: dict[str, float | None]
    """Session medians of the strides (``spinesense replay --fast --json --summary``'s figures)."""
    truth: dict[str, float | None]
    """The same medians from the motion capture (None where the session has no such reference)."""
    drop_coverage: float | None
    """Running stances with a pelvic drop, over those from the first stride with a known side on."""
    realigned: int
    """Re-alignment notices after the turn into running (steady running: each one is false)."""
    forward_found: int
    """Times forward was found from braking (once: it settled and stayed)."""
    lean_gaps: int
    """Running strides without a trunk lean after the first one with it (0: on every stride once settled)."""
    strides: PairedScores = field(default_factory=PairedScores)
    """Per-stride pairs, as ``score_session`` gives them, plus trunk lean against standing."""


def score_trial(folder: Path, name: str) -> TrialResult:
    """Run one session (``benchmarks/synth_mountings.py``) through the pipeline and score it."""
    table, meta = load_truth(folder, name)
    t, tilt, obliquity, rotation, height = table.T
    segments = {s["file"]: s for s in meta["segments"]}  # type: ignore[attr-defined]
    stand = segments["standing"]
    standing_tilt = float(tilt[(t >= stand["start_s"] + 0.5) & (t <= stand["end_s"] - 0.5)].mean())
    run = analyse(folder / f"{name}.jsonl.gz")  # what spinesense replay --fast --json gives
    running = [s for s in run.strides if s.running]
    result = TrialResult(
        name=name,
        mounting=str(meta["mounting"]),
        ours=_session_medians(running, run.summary),
        truth={},
        drop_coverage=_drop_coverage(running),
        realigned=sum("re-aligned" in n for n in run.notices),
        forward_found=sum("forward direction found" in n for n in run.notices),
        lean_gaps=_lean_gaps(running),
    )
    truths: dict[str, list[float]] = {key: [] for key in SESSION_METRICS}
    for s in running:
        window = (t >= s.t_start_s) & (t <= s.t_end_s)
        tw = t[window]
        truths["pelvic tilt range (deg)"].append(range_less_line(tilt[window], tw))
        truths["pelvic rotation range (deg)"].append(range_less_line(rotation[window], tw))
        truths["vertical oscillation (cm)"].append(range_less_line(height[window], tw))
        lean = float(tilt[window][:-1].mean()) - standing_tilt
        truths["trunk lean vs standing (deg)"].append(lean)
        if s.trunk_lean_deg is not None:
            result.strides.add("trunk lean vs standing (deg)", s.trunk_lean_deg, lean)
        truths["pelvic drop in stance (deg)"] += [r for r in _stance_ranges(s, t, obliquity) if r is not None]
    score_strides(running, table, meta, result.strides)
    result.truth = {key: float(np.median(v)) if v else None for key, v in truths.items()}
    result.truth["cadence (spm)"] = _cadence(meta)
    return result


def _session_medians(running: list[Stride], summary: dict[str, Any]) -> dict[str, float | None]:
    """The session ``summary``'s medians per scored metric (None when no stride has the metric).

    Pelvic drop: the median over both sides' stances of the ``running`` strides.
    """
    out: dict[str, float | None] = {}
    for key, stride_field in SESSION_METRICS.items():
        if stride_field == "pelvic_drop":
            drops = [
                d for s in running for d in (s.pelvic_drop_left_deg, s.pelvic_drop_right_deg) if d is not None
            ]
            out[key] = float(np.median(drops)) if drops else None
        else:
            out[key] = summary.get(f"{stride_field}_median")
    return out


def _lean_gaps(running: list[Stride]) -> int:
    """Strides without a lean after the first stride with one."""
    has = [s.trunk_lean_deg is not None for s in running]
    return has[has.index(True) :].count(False) if True in has else len(has)


def _drop_coverage(running: list[Stride]) -> float | None:
    """Share of stances with a pelvic drop, from the first stride whose side is known (None: never)."""
    known = [i for i, s in enumerate(running) if s.side != "unknown"]
    if not known:
        return None
    after = running[known[0] :]
    found = sum(d is not None for s in after for d in (s.pelvic_drop_left_deg, s.pelvic_drop_right_deg))
    return found / (2 * len(after))


def _stance_ranges(s: Stride, t: NDArray[np.float64], obliquity: NDArray[np.float64]) -> list[float | None]:
    """The true obliquity range in each stance (None: too few samples).

    The first stance at the stride's start, the second half a stride later, each as long as the
    stride's mean contact time.
    """
    if s.gct_ms is None:
        return []
    half = (s.t_end_s - s.t_start_s) / 2
    out: list[float | None] = []
    for start in (s.t_start_s, s.t_start_s + half):
        stance = (t >= start) & (t <= start + s.gct_ms / 1000)
        out.append(float(np.ptp(obliquity[stance])) if stance.sum() > 5 else None)
    return out


def _cadence(meta: dict[str, object]) -> float | None:
    """Median cadence from the treadmill's contacts (steps/min), None without forces."""
    contacts = meta["contacts_from_forces"]
    assert isinstance(contacts, list)
    ics = np.array([c["ic_s"] for c in contacts])
    if ics.size < 3:
        return None
    return float(np.median(120.0 / (ics[2:] - ics[:-2])))
