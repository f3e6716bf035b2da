"""The baseline's state as the runner and dashboards see it: learning (how long still) or known (the values).

One value object, so the terminal, ``alerts FILE``, the report and the retained MQTT ``baseline`` topic
all say the same thing, and none of them claims a baseline that was never learned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

BaselineSource = Literal["learning", "learned", "profile"]


@dataclass(frozen=True, slots=True)
class BaselineState:
    """Where the runner's personal baseline stands after the strides seen so far."""

    state: BaselineSource
    """``learning`` (not known yet), ``learned`` (in this run) or ``profile`` (given in the configuration)."""
    running_s: float
    """Seconds since the first running stride (0 before it)."""
    needed_s: float
    """Seconds of running the baseline needs (warm-up + baseline window; 0 for a profile baseline)."""
    values: dict[str, float] | None = None
    """The baseline medians (metric -> value) once known."""

    @property
    def known(self) -> bool:
        """Whether the baseline-relative rules can judge."""
        return self.values is not None

    @property
    def seconds_left(self) -> float:
        """Seconds of running still needed before the baseline is known (0 once known)."""
        return 0.0 if self.known else max(self.needed_s - self.running_s, 0.0)

    def describe(self) -> str:
        """One line for a person: what is known, and what the rules can check meanwhile."""
        if self.state == "profile":
            return "personal baseline from your profile; absolute limits and baseline rules checked"
        if self.state == "learned":
            return (
                f"personal baseline learned over the first {_minutes(self.needed_s)} of running; "
                "absolute limits and baseline rules checked"
            )
        return (
            f"no personal baseline: {_minutes(self.running_s)} of running, {_minutes(self.needed_s)} "
            "needed; absolute limits checked"
        )

    def to_json(self) -> dict[str, Any]:
        """The payload of the retained ``baseline`` topic (docs/schemas/baseline.schema.json)."""
        return {
            "state": self.state,
            "running_s": round(self.running_s, 1),
            "needed_s": round(self.needed_s, 1),
            "seconds_left": round(self.seconds_left, 1),
            "values": None if self.values is None else {k: round(v, 4) for k, v in self.values.items()},
        }


def _minutes(seconds: float) -> str:
    """``90`` -> ``1.5 min``; whole minutes without a decimal."""
    minutes = seconds / 60
    return f"{minutes:.0f} min" if abs(minutes - round(minutes)) < 0.05 else f"{minutes:.1f} min"


COUNTDOWN_EVERY_S = 10.0
"""While learning, a dashboard's countdown is refreshed after this much more running."""


def baseline_news(told: BaselineState | None, now: BaselineState) -> bool:
    """Whether ``now`` is worth publishing after ``told``: a new state, or the countdown moved on."""
    if told is None or told.state != now.state:
        return True
    return now.state == "learning" and now.running_s - told.running_s >= COUNTDOWN_EVERY_S
