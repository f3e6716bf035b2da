"""Alcantara scores split into the tuning half (odd trial numbers, 1-based) and the held-out half (even).

Constants fitted on Alcantara (LANDING_G, PUSH_OFF_G and TOE_OFF_STEP) were chosen on the odd trials only; the
even ones report them.
Usage: .venv/bin/python benchmarks/accuracy_split.py [DATASETS_DIR]   (default ../shared/datasets)
"""

from __future__ import annotations

from _datasets import datasets_root
from validation.alcantara import load_trials, score_trial
from validation.errors import PairedScores


def main() -> None:
    """Print bias and RMSE per metric for each half and for the whole set."""
    root = datasets_root()
    halves = {"tuning (odd trials)": PairedScores(), "held out (even trials)": PairedScores()}
    halves["whole"] = PairedScores()
    for number, trial in enumerate(load_trials(root / "alcantara_recurrent_grf"), start=1):
        half = "tuning (odd trials)" if number % 2 else "held out (even trials)"
        trial_score = score_trial(trial)  # the pipeline once per trial, added to its half and the whole
        halves[half].extend(trial_score)
        halves["whole"].extend(trial_score)
    print("| half | metric | n | bias | RMSE |")
    print("|---|---|---|---|---|")
    for half, score in halves.items():
        for name in score.pairs:
            s = score.stats(name)
            print(f"| {half} | {name} | {s.n} | {s.bias:+.2f} | {s.rmse:.2f} |")


if __name__ == "__main__":
    main()
