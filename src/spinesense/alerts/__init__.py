"""Alert rules a runner can trust: one alert per episode.

Rules compare against the runner's own baseline and absolute limits, hold for several strides before
firing, clear with hysteresis and then cool down.
"""

from spinesense.alerts.baseline import BaselineState
from spinesense.alerts.config import AlertConfig, RuleConfig
from spinesense.alerts.engine import AlertEngine, RunnerProfile, check_baseline
from spinesense.alerts.rules import ALERT_KINDS

__all__ = [
    "ALERT_KINDS",
    "AlertConfig",
    "AlertEngine",
    "BaselineState",
    "RuleConfig",
    "RunnerProfile",
    "check_baseline",
]
