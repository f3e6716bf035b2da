"""Pipeline accuracy against reference data other people recorded; prints Markdown tables.

Usage: .venv/bin/python benchmarks/accuracy.py [DATASETS_DIR]   (default ../shared/datasets)
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from mobgap.initial_contacts import IcdHKLeeImproved, IcdIonescu, IcdShinImproved

import accuracy_mountings
from _datasets import datasets_root
from validation import mobgap_walking
from validation.alcantara import score_all
from validation.errors import PairedScores
from validation.fukuchi import score_session

UNITS = {"(ms)": "ms", "(steps/min)": "spm", "(BW)": "BW"}


def main() -> None:
    """Score every dataset we have a reference for."""
    root = datasets_root()
    folder = root / "alcantara_recurrent_grf"
    _print_scores(
        "Alcantara et al. 2022: sacral accelerometer vs force treadmill (contact = GRF > 0.1 BW), per stride",
        score_all(folder),
        UNITS,
    )
    fukuchi()
    print()
    # 14 runners x 6 mounting classes, each standing first (synth_mountings.py)
    accuracy_mountings.print_tables(accuracy_mountings.score_all())
    print()
    walking(root)


def fukuchi() -> None:
    """Pelvic angles and excursion against motion capture (synthetic sacral IMU, replay_data/fukuchi/)."""
    folder = Path(__file__).resolve().parents[1] / "replay_data" / "fukuchi"
    score = PairedScores()
    for name in ("RBDS0041", "RBDS032"):
        score_session(folder, name, score)
    print()
    _print_scores(
        "Fukuchi RBDS (synthetic sacral IMU from pelvis markers; truth: markers, forces), per stride",
        score,
        {**UNITS, "(deg)": "deg", "(cm)": "cm"},
    )


def _print_scores(title: str, score: PairedScores, units: dict[str, str]) -> None:
    """A titled Markdown table of every metric in ``score``; ``units``: name part -> unit shown."""
    print(title)
    print()
    print("| metric | n | bias | SD | MAE | RMSE |")
    print("|---|---|---|---|---|---|")
    for name in score.pairs:
        unit = next((u for k, u in units.items() if k in name), "")
        print(score.stats(name).row(name, unit))


def walking(root: Path) -> None:
    """Walking initial contacts on mobgap's lab data: ours beside mobgap's own detectors."""
    lab = root / "walking_lowerback_examples" / "mobgap" / "example_data" / "data" / "lab"
    trials = mobgap_walking.load_trials(lab)
    print()
    print("mobgap lab walking (INDIP reference initial contacts, inside the reference walking bouts)")
    print()
    print("| detector | matched / reference | false | bias (ms) | SD (ms) | RMSE (ms) |")
    print("|---|---|---|---|---|---|")
    detectors = {"spinesense (walking strides)": mobgap_walking.our_contacts}
    for algo in (IcdIonescu, IcdShinImproved, IcdHKLeeImproved):
        detectors[f"mobgap {algo.__name__} (per bout)"] = partial(
            mobgap_walking.mobgap_contacts, detector=algo
        )
    for name, contacts in detectors.items():
        r = mobgap_walking.score(trials, contacts)
        t = r.timing
        found = f"{r.matched} / {r.reference} | {r.false}"
        print(f"| {name} | {found} | {t.bias:+.1f} | {t.sd:.1f} | {t.rmse:.1f} |")


if __name__ == "__main__":
    main()
