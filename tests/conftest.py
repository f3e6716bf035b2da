"""Fixtures shared by the whole suite.

Each area keeps its own fixtures in ``tests/fixtures_<area>.py``; they are loaded here as plugins so
test modules use them by name without importing them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = Path(os.environ.get("SPINESENSE_DATASETS", REPO_ROOT.parent / "shared" / "datasets"))
REPLAY_DATA = REPO_ROOT / "replay_data"

# Subprocesses started by tests (`python -m spinesense ...`) must run this checkout's code.
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(REPO_ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
)

pytest_plugins = ["pytester", *sorted(p.stem for p in Path(__file__).parent.glob("fixtures_*.py"))]


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Captures and outboxes of the runs a test starts go to its own folder, not the user's."""
    monkeypatch.setenv("SPINESENSE_DATA_DIR", str(tmp_path / "spinesense-data"))


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The reference datasets beside the repository (../shared/datasets); skip the test without them."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"reference datasets not found at {SHARED_DATASETS}")
    return SHARED_DATASETS


@pytest.fixture
def short_flush(tmp_path: Path) -> Path:
    """A config file whose runs wait 1 s for a broker that is away at their end, not the default 10 s."""
    path = tmp_path / "short-flush.toml"
    path.write_text("[broker]\nflush_timeout_s = 1\n")
    return path
