"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"
REPLAY_DATA = REPO_ROOT / "replay_data"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The reference datasets beside the repository (../shared/datasets); skip the test without them."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"reference datasets not found at {SHARED_DATASETS}")
    return SHARED_DATASETS
