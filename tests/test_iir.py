"""The filter fast path (_iir.py) gives scipy.signal.lfilter's output and state to the bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, lfilter, lfilter_zi

from spinesense.processing._iir import linear_filter
from spinesense.processing._lowpass import CausalLowPass


@pytest.mark.parametrize("shape", [(19,), (1,), (3, 7, 140)])
@pytest.mark.parametrize("cutoff_hz", [5.0, 8.0, 20.0])
def test_linear_filter_is_lfilter_to_the_bit(shape: tuple[int, ...], cutoff_hz: float) -> None:
    rng = np.random.default_rng(len(shape) * 100 + int(cutoff_hz))
    b, a = butter(2, cutoff_hz, fs=200.0)
    x = rng.normal(1.0, 2.0, shape)
    zi = lfilter_zi(b, a) * x[..., :1]  # settled on each row's first sample, as the pipeline starts
    out, zf = linear_filter(b, a, x, zi)
    want_out, want_zf = lfilter(b, a, x, axis=-1, zi=zi)
    assert np.array_equal(out, want_out)
    assert np.array_equal(zf, want_zf)


def test_the_low_pass_gives_the_same_output_however_the_stream_is_split() -> None:
    x = np.random.default_rng(7).normal(1.0, 1.5, 1000)
    whole = CausalLowPass(20.0, 200.0)(x)
    split = CausalLowPass(20.0, 200.0)
    pieces = np.concatenate([split(x[i : i + 19]) for i in range(0, len(x), 19)])
    assert np.array_equal(pieces, whole)
    b, a = butter(2, 20.0, fs=200.0)
    assert np.array_equal(whole, lfilter(b, a, x, zi=lfilter_zi(b, a) * x[0])[0])
