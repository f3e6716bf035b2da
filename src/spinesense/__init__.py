"""spinesense: running form from a lower-back IMU, with alerts over MQTT."""

from spinesense.models import Alert, Gap, SampleBlock, Stride

__version__ = "0.1.0"

__all__ = ["Alert", "Gap", "SampleBlock", "Stride", "__version__"]
