"""Start against end, like for like: a speed step is never read as a change of form."""

from __future__ import annotations

import pytest

from spinesense.cli.report._speed import SpeedError, SpeedSchedule, like_for_like, pace
from spinesense.models import Stride


def _strides(gct_by_minute: list[float]) -> list[Stride]:
    """One stride every 6 s with the contact time of its minute."""
    return [
        Stride(
            index=n,
            t_start_s=6.0 * n,
            t_end_s=6.0 * n + 0.7,
            side="left",
            running=True,
            cadence_spm=170.0,
            gct_ms=gct_by_minute[int(6 * n // 60)],
        )
        for n in range(10 * len(gct_by_minute))
    ]


def test_parse_a_constant_speed_and_steps() -> None:
    assert SpeedSchedule.parse("3.5").steps == ((0.0, 3.5),)
    steps = SpeedSchedule.parse("0:00=3.5, 5:00=4.5,6:30=3.5")
    assert steps.steps == ((0.0, 3.5), (300.0, 4.5), (390.0, 3.5))
    assert steps.at(320) == 4.5
    assert steps.at(400) == 3.5
    assert pace(3.5) == "4:46 /km"


@pytest.mark.parametrize(
    ("text", "why"),
    [("fast", "not SPEED"), ("0:00=30", "not a running speed"), ("1:00=3,0:30=4", "times must rise")],
)
def test_bad_speeds_name_the_fault(text: str, why: str) -> None:
    with pytest.raises(SpeedError, match=why):
        SpeedSchedule.parse(text)


def test_a_speed_step_alone_is_not_compared() -> None:
    strides = _strides([250, 250, 200, 200])  # faster in the second half: shorter contacts
    assert like_for_like(strides, "gct_ms", SpeedSchedule.parse("0:00=3,2:00=4")) is None
    unknown = like_for_like(strides, "gct_ms", None)
    assert unknown is not None
    assert (unknown.first, unknown.last) == (250, 200)  # what a report without the speed would see


def test_the_same_speed_again_is_compared_with_itself() -> None:
    strides = _strides([250, 200, 260])  # 3 m/s, 4 m/s, then 3 m/s again with longer contacts
    found = like_for_like(strides, "gct_ms", SpeedSchedule.parse("0:00=3,1:00=4,2:00=3"))
    assert found is not None
    assert (found.first, found.last, found.speed_mps) == (250, 260, 3.0)
