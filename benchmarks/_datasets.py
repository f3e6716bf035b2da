"""Where the benchmarks find the reference datasets: the first argument, else ../shared/datasets."""

from __future__ import annotations

import sys
from pathlib import Path


def datasets_root() -> Path:
    """``sys.argv[1]`` if given, else the ``shared/datasets`` folder beside the repository."""
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    return Path(__file__).resolve().parents[2] / "shared" / "datasets"
