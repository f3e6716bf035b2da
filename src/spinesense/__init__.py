"""spinesense: running form from a lower-back IMU, with alerts over MQTT.

The public face of the library: ``analyse`` for a recording, ``Service`` for a live stream, the stages
they are made of, and the data classes passed between them (docs/api.md). Names are loaded on first
use, so ``import spinesense`` stays cheap (no SciPy, bleak, bumble or MQTT until they are needed).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spinesense.alerts import AlertConfig, AlertEngine, BaselineState, RunnerProfile
    from spinesense.config import Config, load_config
    from spinesense.models import Alert, Counts, EventRecord, FrameRecord, Gap, SampleBlock, Stride
    from spinesense.processing.pipeline import Pipeline
    from spinesense.publish import BrokerSettings, Publisher
    from spinesense.run import RunResult, analyse
    from spinesense.service import Service
    from spinesense.sources.ble import SensorLink
    from spinesense.sources.replay import Recording, RecordingError, ReplaySource, open_recording

__version__ = "0.1.0"

_HOMES = {
    "analyse": "spinesense.run",
    "RunResult": "spinesense.run",
    "Service": "spinesense.service",
    "Config": "spinesense.config",
    "load_config": "spinesense.config",
    "Pipeline": "spinesense.processing.pipeline",
    "AlertConfig": "spinesense.alerts",
    "AlertEngine": "spinesense.alerts",
    "RunnerProfile": "spinesense.alerts",
    "BaselineState": "spinesense.alerts",
    "open_recording": "spinesense.sources.replay",
    "Recording": "spinesense.sources.replay",
    "RecordingError": "spinesense.sources.replay",
    "ReplaySource": "spinesense.sources.replay",
    "SensorLink": "spinesense.sources.ble",
    "Publisher": "spinesense.publish",
    "BrokerSettings": "spinesense.publish",
    "Alert": "spinesense.models",
    "Counts": "spinesense.models",
    "EventRecord": "spinesense.models",
    "FrameRecord": "spinesense.models",
    "Gap": "spinesense.models",
    "SampleBlock": "spinesense.models",
    "Stride": "spinesense.models",
}
"""Public name -> the module that defines it."""

__all__ = [
    "Alert",
    "AlertConfig",
    "AlertEngine",
    "BaselineState",
    "BrokerSettings",
    "Config",
    "Counts",
    "EventRecord",
    "FrameRecord",
    "Gap",
    "Pipeline",
    "Publisher",
    "Recording",
    "RecordingError",
    "ReplaySource",
    "RunResult",
    "RunnerProfile",
    "SampleBlock",
    "SensorLink",
    "Service",
    "Stride",
    "__version__",
    "analyse",
    "load_config",
    "open_recording",
]


def __getattr__(name: str) -> Any:  # noqa: ANN401 - any public name
    """Import a public name's module on first use and keep the name here."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'spinesense' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, for completion."""
    return sorted(__all__)
