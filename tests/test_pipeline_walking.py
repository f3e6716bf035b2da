"""Walking: initial contacts against mobgap's INDIP reference (bounds a little above what we measured),
the same walking strides whatever the block sizes and within 150 ms, and running never taken for walking."""

from __future__ import annotations

from typing import TYPE_CHECKING

from conftest import REPLAY_DATA
from spinesense import analyse
from test_pipeline import SHIMMER_RUN, _feed_in_pieces, _whole
from validation.mobgap_walking import load_trials, our_contacts, score

if TYPE_CHECKING:
    from pathlib import Path

WALK = REPLAY_DATA / "mobgap" / "HA_001_TimeMeasure1_Test11_Trial1.jsonl.gz"


def test_walking_contacts_against_the_indip_reference(shared_datasets: Path) -> None:
    lab = shared_datasets / "walking_lowerback_examples" / "mobgap" / "example_data" / "data" / "lab"
    result = score(load_trials(lab), our_contacts)
    # Measured: 92 of 236 matched, 2 false, RMSE 64.9 ms (benchmarks/README.md).
    assert result.matched >= 85
    assert result.false <= 6
    assert result.timing.rmse <= 72.0


def test_walking_strides_whatever_the_block_sizes_and_on_time() -> None:
    whole, _ = _feed_in_pieces(_whole(WALK), len(_whole(WALK)))
    assert len(whole) >= 10
    assert not any(s.running for s in whole)
    assert all(70 < s.cadence_spm < 140 for s in whole)  # steps per minute, walking pace
    for size in (1, 19):
        pieces, emitted_at = _feed_in_pieces(_whole(WALK), size)
        assert pieces == whole, f"different strides when fed {size} samples at a time"
        if size == 1:
            assert max(at - s.t_end_s for s, at in zip(pieces, emitted_at, strict=True)) <= 0.150


def test_running_is_never_taken_for_walking() -> None:
    strides = analyse(SHIMMER_RUN).strides
    assert strides
    assert all(s.running for s in strides)
