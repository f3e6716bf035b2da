"""The bundled recordings in replay_data/: each opens, decodes cleanly, and matches its README entry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPLAY_DATA
from spinesense.sources.replay import open_recording

CAPTURES = sorted(REPLAY_DATA.rglob("*.jsonl.gz"))


def _readme_rows() -> dict[str, tuple[float, float]]:
    """`file -> (rate Hz, duration s)` from the table in replay_data/README.md."""
    rows = {}
    for line in (REPLAY_DATA / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*`([^`]+\.jsonl\.gz)`\s*\|[^|]*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|", line)
        if match:
            rows[match[1]] = (float(match[2]), float(match[3]))
    return rows


def test_replay_data_is_small_and_documented() -> None:
    total = sum(p.stat().st_size for p in REPLAY_DATA.rglob("*") if p.is_file())
    assert total < 8 * 2**20, f"replay_data/ is {total / 2**20:.1f} MiB; keep it a few MB"
    documented = set(_readme_rows())
    bundled = {str(p.relative_to(REPLAY_DATA)) for p in CAPTURES}
    assert bundled <= documented, f"not in replay_data/README.md: {sorted(bundled - documented)}"
    for folder in {p.parent for p in CAPTURES}:
        assert any(f.name.startswith("LICENSE") for f in folder.iterdir()), f"{folder} has no licence"


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: str(p.relative_to(REPLAY_DATA)))
def test_every_bundled_capture_decodes_cleanly(path: Path) -> None:
    recording = open_recording(str(path))
    decoder = recording.decoder()
    blocks = list(recording.blocks(decoder))
    samples = sum(len(b) for b in blocks)
    assert samples > 0
    assert not decoder.errors, f"corrupt frames: {dict(decoder.errors)}"
    assert decoder.lost_samples == 0
    rate, duration = _readme_rows()[str(path.relative_to(REPLAY_DATA))]
    assert blocks[0].rate_hz == pytest.approx(rate, rel=1e-3)
    assert samples / blocks[0].rate_hz == pytest.approx(duration, abs=0.5)
