"""Signal processing: alignment, tilt, gait events, strides and the streaming pipeline."""
