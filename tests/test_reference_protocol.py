"""The reference protocol: round trips, exact gaps, clock unwrap, and malformed frames."""

from __future__ import annotations

import logging
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinesense.models import SampleBlock
from spinesense.sensors.reference import (
    FLAG_ACC_CLIPPED,
    FLAG_STREAM_START,
    HEADER,
    MAX_SAMPLES_PER_FRAME,
    FrameError,
    ReferenceDecoder,
    SensorInfo,
    encode_frame,
    encode_samples,
    parse_frame,
    quantise,
)

INFO = SensorInfo(sample_rate_hz=200.0)


def _signal(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    acc = rng.normal(0.0, 20.0, (n, 3)) + np.array([0.0, 0.0, 9.81])
    gyr = rng.normal(0.0, 3.0, (n, 3))
    return acc, gyr


def _decode_all(frames: list[bytes], decoder: ReferenceDecoder | None = None) -> list[SampleBlock]:
    decoder = decoder or ReferenceDecoder(INFO)
    return [b for f in frames if (b := decoder.decode(f)) is not None]


def test_info_round_trip() -> None:
    info = SensorInfo(sample_rate_hz=199.87, config_id=3, has_gyro=False, firmware=(2, 1, 7))
    data = info.to_bytes()
    assert len(data) == 20
    back = SensorInfo.from_bytes(data)
    assert back.config_id == 3
    assert not back.has_gyro
    assert back.firmware == (2, 1, 7)
    assert back.sample_rate_hz == pytest.approx(199.87, rel=1e-6)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x01" * 19, "info_length"),
        (SensorInfo.INFO.pack(9, 0, 0, 0.1, 0.1, 200.0, 1, 0, 0, 1), "info_version"),
        (SensorInfo.INFO.pack(1, 0, 0, 0.1, 0.1, 0.0, 1, 0, 0, 1), "info_values"),
        (SensorInfo.INFO.pack(1, 0, 0, float("nan"), 0.1, 200.0, 1, 0, 0, 1), "info_values"),
    ],
)
def test_bad_info_is_rejected_and_old_info_kept(data: bytes, kind: str) -> None:
    with pytest.raises(FrameError) as err:
        SensorInfo.from_bytes(data)
    assert err.value.kind == kind
    decoder = ReferenceDecoder(INFO)
    decoder.feed_info(data)
    assert decoder.errors[kind] == 1
    assert decoder.info == INFO


def test_samples_round_trip_within_one_lsb() -> None:
    acc, gyr = _signal(1000)
    frames = encode_samples(acc, gyr, INFO)
    assert len(frames) == -(-1000 // MAX_SAMPLES_PER_FRAME)
    assert all(len(f) <= 244 for f in frames)
    blocks = _decode_all(frames)
    got_acc = np.concatenate([b.acc_mps2 for b in blocks])
    got_gyr = np.concatenate([b.gyr_radps for b in blocks])
    np.testing.assert_allclose(got_acc, acc, atol=INFO.acc_lsb_mps2 / 2 + 1e-12)
    np.testing.assert_allclose(got_gyr, gyr, atol=INFO.gyr_lsb_radps / 2 + 1e-12)
    t = np.concatenate([b.t_s for b in blocks])
    np.testing.assert_allclose(np.diff(t), 1 / 200.0, atol=2e-6)
    assert [b.first_index for b in blocks] == list(range(0, 1000, MAX_SAMPLES_PER_FRAME))
    assert not any(b.gaps for b in blocks)


def test_clipping_is_flagged() -> None:
    acc = np.array([[0.0, 0.0, 200.0], [0.0, 0.0, 9.8]])  # 200 m/s^2 > 16 g full scale
    words, clipped = quantise(acc, None, INFO)
    assert words[0, 2] == 32767
    assert clipped.tolist() == [True, False]
    frame = encode_samples(acc, None, INFO)[0]
    assert parse_frame(frame).flags & FLAG_ACC_CLIPPED
    assert _decode_all([frame])[0].clipped


def test_gaps_are_reported_exactly() -> None:
    acc, gyr = _signal(19 * 20)
    frames = encode_samples(acc, gyr, INFO)
    dropped = {3, 4, 11}
    blocks = _decode_all([f for i, f in enumerate(frames) if i not in dropped])
    gaps = [g for b in blocks for g in b.gaps]
    assert [(g.before_index, g.missing, g.exact) for g in gaps] == [(5 * 19, 38, True), (12 * 19, 19, True)]
    decoder = ReferenceDecoder(INFO)
    _decode_all([f for i, f in enumerate(frames) if i not in dropped], decoder)
    assert decoder.lost_samples == 57
    assert decoder.samples == 19 * 17


def test_duplicates_and_reordered_frames_are_counted_and_skipped() -> None:
    acc, gyr = _signal(19 * 4)
    f = encode_samples(acc, gyr, INFO)
    decoder = ReferenceDecoder(INFO)
    blocks = _decode_all([f[0], f[1], f[1], f[3], f[2]], decoder)
    assert [b.first_index for b in blocks] == [0, 19, 57]
    assert decoder.errors["out_of_order"] == 2


def test_index_and_clock_unwrap_across_32_bit_wrap() -> None:
    acc, gyr = _signal(19 * 10)
    start_index = 2**32 - 19 * 3
    start_us = 2**32 - 20_000  # the clock wraps within the second frame
    frames = encode_samples(acc, gyr, INFO, first_sample_index=start_index, t_first_us=start_us)
    blocks = _decode_all(frames)
    idx = [b.first_index for b in blocks]
    assert idx == [start_index + 19 * k for k in range(10)]
    t = np.concatenate([b.t_s for b in blocks])
    assert np.all(np.diff(t) > 0)
    np.testing.assert_allclose(np.diff(t), 1 / 200.0, atol=2e-6)


def test_stream_restart_continues_time_and_estimates_the_loss() -> None:
    acc, gyr = _signal(19 * 4)
    first = encode_samples(acc, gyr, INFO)
    second = encode_samples(acc, gyr, INFO)  # index and clock restart at 0 with STREAM_START
    assert parse_frame(second[0]).flags & FLAG_STREAM_START
    decoder = ReferenceDecoder(INFO)
    t0 = 1_000_000_000
    period_ns = 19 * 5_000_000  # one frame of samples at 200 Hz
    for k, frame in enumerate(first):
        decoder.decode(frame, t0 + k * period_ns)
    restart_ns = t0 + 3 * period_ns + 2_000_000_000  # two seconds later
    block = decoder.decode(second[0], restart_ns)
    assert block is not None
    (gap,) = block.gaps
    assert not gap.exact
    assert gap.missing == pytest.approx(400 - 19 + 1, abs=1)
    assert block.first_index == 4 * 19 + gap.missing
    assert block.t_s[0] == pytest.approx(4 * 19 / 200 + gap.missing / 200, abs=1e-6)
    assert decoder.restarts == 1


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (b"", "too_short"),
        (b"\x01\x00\x01", "too_short"),
        (HEADER.pack(2, 0, 1, 0, 0, 0) + b"\x00" * 12, "unknown_version"),
        (HEADER.pack(1, 0, 0, 0, 0, 0), "bad_sample_count"),
        (HEADER.pack(1, 0, 20, 0, 0, 0) + b"\x00" * 240, "bad_sample_count"),
        (HEADER.pack(1, 0, 2, 0, 0, 0) + b"\x00" * 12, "length_mismatch"),
        (HEADER.pack(1, 0, 1, 0, 0, 0) + b"\x00" * 13, "length_mismatch"),
    ],
)
def test_malformed_frames_are_counted_logged_once_and_skipped(
    frame: bytes, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    acc, gyr = _signal(19 * 2)
    good = encode_samples(acc, gyr, INFO)
    decoder = ReferenceDecoder(INFO)
    with caplog.at_level(logging.WARNING):
        blocks = _decode_all([good[0], frame, frame, frame, good[1]], decoder)
    assert [b.first_index for b in blocks] == [0, 19]
    assert decoder.errors == {kind: 3}
    assert sum(kind in r.getMessage() for r in caplog.records) == 1


def test_encode_frame_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match=r"1\.\.19 samples"):
        encode_frame(np.zeros((20, 6), dtype=np.int16), 0, 0)
    with pytest.raises(ValueError, match="6 words"):
        encode_frame(np.zeros((2, 5), dtype=np.int16), 0, 0)


def test_sensor_without_gyro_yields_no_gyro() -> None:
    info = SensorInfo(has_gyro=False)
    acc, _ = _signal(40)
    (block, *_) = _decode_all(encode_samples(acc, None, info), ReferenceDecoder(info))
    assert block.gyr_radps is None


raw_samples = st.integers(1, MAX_SAMPLES_PER_FRAME).flatmap(
    lambda n: st.lists(st.integers(-32768, 32767), min_size=6 * n, max_size=6 * n)
)


@given(
    words=raw_samples,
    index=st.integers(0, 2**32 - 1),
    t_us=st.integers(0, 2**32 - 1),
    flags=st.integers(0, 255),
    config_id=st.integers(0, 255),
)
def test_frame_round_trip_is_exact(
    words: list[int], index: int, t_us: int, flags: int, config_id: int
) -> None:
    raw = np.array(words, dtype=np.int16).reshape(-1, 6)
    frame = parse_frame(encode_frame(raw, index, t_us, config_id=config_id, flags=flags))
    assert (frame.first_sample_index, frame.t_first_us, frame.flags, frame.config_id) == (
        index,
        t_us,
        flags,
        config_id,
    )
    np.testing.assert_array_equal(frame.raw, raw)


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_frame_error(data: bytes) -> None:
    try:
        frame = parse_frame(data)
    except FrameError:
        return
    assert frame.raw.shape == (data[2], 6)
    ReferenceDecoder(INFO).decode(data)


@settings(max_examples=300)
@given(
    position=st.integers(0, 243),
    value=st.integers(0, 255),
    cut=st.integers(0, 244),
)
def test_mutated_frames_never_raise_from_the_decoder(position: int, value: int, cut: int) -> None:
    acc, gyr = _signal(19 * 3, seed=position)
    frames = encode_samples(acc, gyr, INFO)
    mutated = bytearray(frames[1])
    mutated[position % len(mutated)] = value
    decoder = ReferenceDecoder(INFO)
    out = [
        decoder.decode(frames[0]),
        decoder.decode(bytes(mutated[: max(cut, 1)])),
        decoder.decode(frames[2]),
    ]
    assert out[0] is not None
    received = sum(len(b) for b in out if b is not None)
    assert received + decoder.lost_samples >= 19 * 2 or sum(decoder.errors.values()) >= 1


def test_header_layout_is_twelve_bytes_little_endian() -> None:
    frame = encode_frame(np.ones((1, 6), dtype=np.int16), 0x01020304, 0x0A0B0C0D, config_id=7, flags=1)
    assert frame[:12] == bytes([1, 1, 1, 7, 4, 3, 2, 1, 0x0D, 0x0C, 0x0B, 0x0A])
    assert struct.unpack("<6h", frame[12:]) == (1, 1, 1, 1, 1, 1)
