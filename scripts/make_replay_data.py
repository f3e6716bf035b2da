"""Rebuild replay_data/ from the reference datasets in ../shared/datasets (see replay_data/README.md).

Each source recording is rewritten as a sample CSV (documented columns, SI or named units, the sensor's
own axes) and turned into a reference-protocol capture by `spinesense import`, exactly as the reference
firmware would have sent it. Deterministic: running it twice gives the same files.

Usage: .venv/bin/python scripts/make_replay_data.py [DATASETS_DIR]
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from spinesense.cli import main as spinesense
from spinesense.models import GRAVITY_MPS2
from spinesense.sample_csv import write_sample_csv

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "replay_data"
START_UTC = "2026-01-01T00:00:00Z"
"""The originals carry no usable wall-clock start; a fixed one keeps the captures reproducible."""
DPS = np.pi / 180.0


def _import(csv: Path, out: Path, name: str, source: str) -> None:
    """Convert one sample CSV into a capture with ``spinesense import``; stop on failure."""
    out.parent.mkdir(parents=True, exist_ok=True)
    code = spinesense(
        [
            "import",
            str(csv),
            str(out),
            "--force",
            "--name",
            name,
            "--source",
            source,
            "--start-utc",
            START_UTC,
        ]
    )
    if code != 0:
        raise SystemExit(f"import of {csv} failed with exit code {code}")


def alcantara_shimmer(datasets: Path, work: Path) -> None:
    """The Shimmer sacral sample (512 Hz, m/s^2, accelerometer only): running at about 3 m/s."""
    src = datasets / "alcantara_recurrent_grf" / "Sample_test_data.csv"
    rows = np.loadtxt(src, delimiter=",", skiprows=1)
    t_s = rows[:, 3] / 1000.0
    csv = work / "alcantara_shimmer.csv"
    write_sample_csv(csv, t_s - t_s[0], rows[:, :3])
    _import(
        csv,
        OUT / "alcantara" / "shimmer_sacral_run.jsonl.gz",
        "Shimmer3 (sacrum)",
        "Alcantara et al. 2022, Sample_test_data.csv (Apache-2.0)",
    )


def mobgap_lowerback(datasets: Path, work: Path) -> None:
    """The lower-back example trials of mobgap (100 Hz, acc in g, gyr in deg/s): walking, daily life."""
    base = datasets / "walking_lowerback_examples" / "mobgap" / "example_data" / "data_csv"
    for src in sorted(base.glob("*/*/*.csv")):
        cohort, participant = src.parts[-3], src.parts[-2]
        rows = np.loadtxt(src, delimiter=",", skiprows=1)
        csv = work / f"mobgap_{cohort}_{participant}_{src.stem}.csv"
        write_sample_csv(csv, rows[:, 0] / 100.0, rows[:, 1:4] * GRAVITY_MPS2, rows[:, 4:7] * DPS)
        _import(
            csv,
            OUT / "mobgap" / f"{cohort}_{participant}_{src.stem}.jsonl.gz",
            f"Mobilise-D lower back ({cohort} {participant})",
            f"mobgap example_data/data_csv/{cohort}/{participant}/{src.name} (Apache-2.0)",
        )


def skdh_lowerback(datasets: Path, work: Path) -> None:
    """SKDH's two-minute lower-back example (100 Hz, unix time, acc in g, gyr in deg/s)."""
    src = datasets / "walking_lowerback_examples" / "skdh" / "example_data_2min.csv"
    rows = np.loadtxt(src, delimiter=",")
    csv = work / "skdh.csv"
    write_sample_csv(csv, rows[:, 0] - rows[0, 0], rows[:, 1:4] * GRAVITY_MPS2, rows[:, 4:7] * DPS)
    _import(
        csv,
        OUT / "skdh" / "example_2min.jsonl.gz",
        "SKDH example (lower back)",
        "scikit-digital-health example_data_2min.csv (MIT)",
    )


def copy_licences(datasets: Path) -> None:
    """Keep each source's licence beside the data made from it."""
    for src, dst in [
        (datasets / "alcantara_recurrent_grf" / "LICENSE", OUT / "alcantara" / "LICENSE"),
        (datasets / "walking_lowerback_examples" / "mobgap" / "LICENSE", OUT / "mobgap" / "LICENSE"),
        (datasets / "walking_lowerback_examples" / "mobgap" / "NOTICE", OUT / "mobgap" / "NOTICE"),
        (datasets / "walking_lowerback_examples" / "skdh" / "LICENSE", OUT / "skdh" / "LICENSE"),
    ]:
        shutil.copyfile(src, dst)


def main() -> None:
    """Rebuild every converted recording and list the sizes."""
    datasets = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "datasets"
    if not datasets.is_dir():
        raise SystemExit(f"datasets not found at {datasets}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        alcantara_shimmer(datasets, work)
        mobgap_lowerback(datasets, work)
        skdh_lowerback(datasets, work)
    copy_licences(datasets)
    sizes = {str(p.relative_to(OUT)): p.stat().st_size for p in sorted(OUT.rglob("*.jsonl.gz"))}
    print(json.dumps(sizes, indent=1))


if __name__ == "__main__":
    main()
