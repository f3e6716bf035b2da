"""Files runners' tools open: a run as a FIT activity, or its strides as CSV."""

from spinesense.export._csv import write_csv
from spinesense.export._fit import DEV_FIELDS, write_fit

__all__ = ["DEV_FIELDS", "write_csv", "write_fit"]
