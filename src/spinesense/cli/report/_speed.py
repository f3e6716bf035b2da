"""The run's speed when it is known (a treadmill's settings given on the command line), and like-for-like.

Contact time, lean and impact all change with speed, so a start and an end run at different speeds are
not compared as if the runner had tired: the comparison is made within one speed, or not at all.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from spinesense.models import Stride


class SpeedError(ValueError):
    """A speed given on the command line that cannot be read."""


@dataclass(frozen=True, slots=True)
class SpeedSchedule:
    """Speed in m/s from each start time on (seconds of the recording), in time order."""

    steps: tuple[tuple[float, float], ...]

    @classmethod
    def parse(cls, text: str) -> SpeedSchedule:
        """``3.5`` (the whole run) or ``0:00=3.5,5:00=4.5`` (M:SS=m/s steps); SpeedError if unreadable."""
        steps = []
        for part in text.split(","):
            when, _, speed = part.strip().rpartition("=")
            try:
                mps = float(speed)
                minutes, _, seconds = when.partition(":") if when else ("0", "", "0")
                start_s = float(minutes) * 60 + float(seconds or 0)
            except ValueError:
                raise SpeedError(f"--speed: {part.strip()!r} is not SPEED or M:SS=SPEED (m/s)") from None
            if not 0 < mps < 12:
                raise SpeedError(f"--speed: {mps} m/s is not a running speed (0 to 12 m/s)")
            steps.append((start_s, mps))
        starts = [s for s, _ in steps]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise SpeedError("--speed: the times must rise (M:SS=SPEED,M:SS=SPEED,...)")
        return cls(tuple(steps))

    def at(self, t_s: float) -> float:
        """The speed at ``t_s`` (the first setting also before its start)."""
        current = self.steps[0][1]
        for start_s, mps in self.steps:
            if t_s >= start_s:
                current = mps
        return current

    def segments(self, end_s: float) -> list[tuple[float, float, float]]:
        """(start s, end s, m/s) for each setting, the last one up to ``end_s``."""
        bounds = [s for s, _ in self.steps[1:]] + [max(end_s, self.steps[-1][0])]
        return [(start, stop, mps) for (start, mps), stop in zip(self.steps, bounds, strict=True)]


def pace(mps: float) -> str:
    """A speed as a runner's pace: ``3.5`` -> ``4:46 /km``."""
    seconds = round(1000 / mps)
    return f"{seconds // 60}:{seconds % 60:02d} /km"


@dataclass(frozen=True, slots=True)
class Comparison:
    """Start against end of the run for one metric, and the speed both were run at (None: unknown)."""

    first: float
    last: float
    speed_mps: float | None


def like_for_like(
    strides: Sequence[Stride], name: str, speed: SpeedSchedule | None, *, part: float = 1 / 3
) -> Comparison | None:
    """The first against the last part of the running strides at one speed (the end's), or None.

    Without a speed the whole run is taken as one. With one, only strides run at the speed of the end
    count, so a speed step is never read as a change of form; None when the end's speed was not run
    earlier too (nothing like to compare with).
    """
    running = [s for s in strides if s.running and getattr(s, name) is not None]
    if not running:
        return None
    end_speed = None if speed is None else speed.at(running[-1].t_start_s)
    if speed is not None:
        starts = [start_s for start_s, mps in speed.steps if mps == end_speed]
        if len(starts) < 2:
            return None
        same = [s for s in running if speed.at(s.t_start_s) == end_speed]
        first_block = [s for s in same if s.t_start_s < starts[1]]
        last_block = [s for s in same if s.t_start_s >= starts[-1]]
    else:
        n = max(int(len(running) * part), 1)
        first_block, last_block = running[:n], running[-n:]
    if len(first_block) < 3 or len(last_block) < 3:
        return None
    return Comparison(
        statistics.median(getattr(s, name) for s in first_block),
        statistics.median(getattr(s, name) for s in last_block),
        end_speed,
    )
