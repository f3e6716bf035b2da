"""Polar PMD and Movesense GSP decoders on byte fixtures built from the vendors' public protocol documents."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from spinesense.models import GRAVITY_MPS2
from spinesense.sensors import DECODERS, make_decoder
from spinesense.sensors import movesense as ms
from spinesense.sensors import polar_pmd as pmd


def pmd_frame(measurement: int, stamp_ns: int, samples: list[tuple[int, int, int]]) -> bytes:
    """A raw (frame type 1, int16) PMD data frame; the timestamp is the last sample's."""
    header = struct.pack("<BQB", measurement, stamp_ns, 0x01)
    return header + b"".join(struct.pack("<hhh", *s) for s in samples)


def test_polar_start_command_matches_the_documented_example() -> None:
    # Polar measurement data specification: start ACC at 52 Hz, 16 bit, range 8 G.
    assert pmd.start_command(pmd.MEAS_ACC, 52, 8) == bytes.fromhex(
        "02020001340001011000020108 00".replace(" ", "")
    )
    assert pmd.VERITY_SENSE.start_commands()[0] == bytes([0x02, 0x09])  # SDK mode first
    assert len(pmd.H10.start_commands()) == 1  # no SDK mode, no gyroscope


def test_delta_frame_decodes_reference_plus_lsb_first_deltas() -> None:
    # reference (10, -5, 0) as int16; one block: width 4, count 1, deltas (2, -1, 3) packed LSB first.
    content = bytes.fromhex("0a00fbff00000401f203")
    assert pmd.delta_decode(content, 3, 16).tolist() == [[10, -5, 0], [12, -6, 3]]
    # Two blocks accumulate onto each other: +1 on each axis twice (width 2: 01 01 01 | 01 01 01).
    content2 = bytes.fromhex("00000000000002025505")
    assert pmd.delta_decode(content2, 3, 16).tolist() == [[0, 0, 0], [1, 1, 1], [2, 2, 2]]


def test_compressed_acc_frame_through_the_decoder() -> None:
    decoder = make_decoder("polar_h10")
    frame = struct.pack("<BQB", pmd.MEAS_ACC, 5_000_000_000, 0x81) + bytes.fromhex("e803fbff00000401f203")
    block = decoder.feed(pmd.DATA_UUID, frame, 123)
    assert block is not None
    np.testing.assert_allclose(block.acc_mps2 / GRAVITY_MPS2 * 1000, [[1000, -5, 0], [1002, -6, 3]])
    assert block.gyr_radps is None
    assert block.host_t_ns == 123


def test_h10_timing_from_last_sample_stamp_and_gap_estimate() -> None:
    decoder = pmd.PolarDecoder(pmd.H10)
    period_ns = 5_000_000  # 200 Hz
    t_last = 10**15
    first = decoder.feed(pmd.DATA_UUID, pmd_frame(2, t_last, [(0, 0, 1000)] * 4))
    assert first is not None
    np.testing.assert_allclose(first.t_s, [-0.015, -0.010, -0.005, 0.0], atol=1e-9)
    np.testing.assert_allclose(first.acc_mps2[0], [0, 0, GRAVITY_MPS2])
    # Ten samples are lost, then four more arrive.
    second = decoder.feed(pmd.DATA_UUID, pmd_frame(2, t_last + 14 * period_ns, [(0, 0, 1000)] * 4))
    assert second is not None
    assert second.first_index == 14
    assert [(g.before_index, g.missing, g.exact) for g in second.gaps] == [(14, 10, False)]
    assert decoder.lost_samples == 10
    # The next frame follows without loss.
    third = decoder.feed(pmd.DATA_UUID, pmd_frame(2, t_last + 18 * period_ns, [(0, 0, 1000)] * 4))
    assert third is not None
    assert third.first_index == 18
    assert third.gaps == ()


def test_verity_pairs_gyro_with_acc_using_the_factor_from_the_start_response() -> None:
    decoder = pmd.PolarDecoder(pmd.VERITY_SENSE)
    # Start response for GYRO: F0 02 05 00 00, then FACTOR setting (type 5, one float32).
    decoder.feed(pmd.CONTROL_UUID, bytes.fromhex("f002050000") + struct.pack("<BBf", 5, 1, 0.5))
    assert decoder.factors[pmd.MEAS_GYRO] == pytest.approx(0.5)
    period_ns = round(1e9 / 208)
    t_last = 7 * period_ns
    acc = decoder.feed(pmd.DATA_UUID, pmd_frame(2, t_last, [(0, 0, 1000)] * 8), 1)
    assert acc is None  # held until angular rate covers it
    gyr = [(2 * k, 0, -360) for k in range(8)]  # raw * 0.5 deg/s
    block = decoder.feed(pmd.DATA_UUID, pmd_frame(5, t_last, gyr), 2)
    assert block is not None
    assert block.gyr_radps is not None
    np.testing.assert_allclose(np.rad2deg(block.gyr_radps[:, 0]), np.arange(8), atol=1e-6)
    np.testing.assert_allclose(np.rad2deg(block.gyr_radps[:, 2]), -180.0)
    assert decoder.samples == 8


def test_verity_acc_does_not_wait_forever_for_a_silent_gyro() -> None:
    decoder = pmd.PolarDecoder(pmd.VERITY_SENSE)
    period_ns = round(1e9 / 208)
    out = [
        decoder.feed(pmd.DATA_UUID, pmd_frame(2, (k + 1) * 26 * period_ns, [(0, 0, 1000)] * 26))
        for k in range(12)
    ]
    released = [b for b in out if b is not None]
    assert released, "acceleration must go out after a second without angular rate"
    assert decoder.errors["gyro_missing"] >= 1


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x02\x00", "too_short"),
        (struct.pack("<BQB", 2, 0, 0x07) + b"\x00" * 6, "bad_frame"),  # unknown raw frame type
        (struct.pack("<BQB", 2, 0, 0x01) + b"\x00" * 5, "bad_frame"),  # not whole samples
        (struct.pack("<BQB", 2, 0, 0x81) + bytes.fromhex("0000000000001001"), "bad_frame"),  # cut off
        (struct.pack("<BQB", 1, 0, 0x00) + b"\x00" * 6, "unknown_measurement"),  # PPG
    ],
)
def test_polar_bad_frames_are_counted_not_decoded(data: bytes, kind: str) -> None:
    decoder = pmd.PolarDecoder(pmd.H10)
    assert decoder.feed(pmd.DATA_UUID, data) is None
    assert decoder.errors[kind] == 1


def imu6(
    stamp_ms: int, acc: list[tuple[float, float, float]], gyr_dps: list[tuple[float, float, float]]
) -> bytes:
    """A GSP DATA notification of an IMU6 subscription: timestamp, n acc samples, then n gyro samples."""
    values = [v for sample in acc + gyr_dps for v in sample]
    return bytes([ms.RESP_DATA, ms.REFERENCE]) + struct.pack(f"<I{len(values)}f", stamp_ms, *values)


def test_movesense_subscribe_command_bytes() -> None:
    assert ms.subscribe_command(208) == bytes([1, 99]) + b"/Meas/IMU6/208"
    assert ms.unsubscribe_command() == bytes([2, 99])


def test_movesense_imu6_payload_units_timing_and_gap() -> None:
    decoder = ms.MovesenseDecoder(rate_hz=104)
    acc = [(0.0, 0.0, 9.81)] * 8
    gyr = [(90.0, 0.0, -45.0)] * 8
    block = decoder.feed(ms.NOTIFY_UUID, imu6(1000, acc, gyr), 5)
    assert block is not None
    assert len(block) == 8
    np.testing.assert_allclose(block.acc_mps2[0], [0, 0, 9.81], rtol=1e-6)
    assert block.gyr_radps is not None
    np.testing.assert_allclose(block.gyr_radps[0], [np.pi / 2, 0, -np.pi / 4], rtol=1e-6)
    np.testing.assert_allclose(block.t_s, np.arange(8) / 104)
    # 8 samples later (77 ms at 104 Hz) comes the next one; then 16 samples go missing.
    nxt = decoder.feed(ms.NOTIFY_UUID, imu6(1077, acc, gyr))
    assert nxt is not None
    assert nxt.first_index == 8
    assert nxt.gaps == ()
    late = decoder.feed(ms.NOTIFY_UUID, imu6(1000 + round(32 / 104 * 1000), acc, gyr))
    assert late is not None
    assert late.first_index == 32
    assert [(g.missing, g.exact) for g in late.gaps] == [(16, False)]
    assert decoder.lost_samples == 16


def test_movesense_payload_split_over_two_notifications_and_clock_wrap() -> None:
    decoder = ms.MovesenseDecoder(rate_hz=208)
    whole = imu6(2**32 - 10, [(1.0, 2.0, 3.0)] * 8, [(0.0, 0.0, 0.0)] * 8)
    assert decoder.feed(ms.NOTIFY_UUID, whole[:100]) is None
    block = decoder.feed(ms.NOTIFY_UUID, bytes([ms.RESP_DATA_PART2, ms.REFERENCE]) + whole[100:])
    assert block is not None
    np.testing.assert_allclose(block.acc_mps2[-1], [1, 2, 3])
    # The millisecond clock wraps: the next payload 8 samples later (38 ms) continues without a gap.
    after = decoder.feed(ms.NOTIFY_UUID, imu6(28, [(1.0, 2.0, 3.0)] * 8, [(0.0, 0.0, 0.0)] * 8))
    assert after is not None
    assert after.first_index == 8
    assert after.gaps == ()


def test_movesense_foreign_and_broken_notifications_are_counted() -> None:
    decoder = ms.MovesenseDecoder()
    assert decoder.feed(ms.NOTIFY_UUID, bytes([ms.RESP_DATA, 7]) + b"\x00" * 28) is None
    assert decoder.feed(ms.NOTIFY_UUID, bytes([ms.RESP_DATA_PART2, ms.REFERENCE, 0])) is None
    nan = imu6(0, [(float("nan"), 0.0, 0.0)], [(0.0, 0.0, 0.0)])
    assert decoder.feed(ms.NOTIFY_UUID, nan) is None
    assert decoder.feed(ms.NOTIFY_UUID, bytes([ms.RESP_COMMAND_RESULT, ms.REFERENCE, 200])) is None
    assert dict(decoder.errors) == {"not_ours": 1, "orphan_part2": 1, "not_finite": 1}


@pytest.mark.filterwarnings("error")
def test_movesense_signalling_nan_is_counted_without_a_warning() -> None:
    # A signalling NaN (as corrupted bytes can spell) raises "invalid value" when widened to float64;
    # found by benchmarks/fuzz.py. The frame is skipped and counted, and nothing is printed.
    decoder = ms.MovesenseDecoder()
    good = imu6(0, [(1.0, 2.0, 3.0)], [(0.0, 0.0, 0.0)])
    signalling_nan = struct.pack("<I", 0x7F800001)
    broken = good[:6] + signalling_nan + good[10:]
    assert decoder.feed(ms.NOTIFY_UUID, broken) is None
    assert dict(decoder.errors) == {"not_finite": 1}
    assert decoder.feed(ms.NOTIFY_UUID, imu6(5, [(1.0, 2.0, 3.0)], [(0.0, 0.0, 0.0)])) is not None


def test_every_family_is_registered() -> None:
    assert {"reference", "polar_verity", "polar_h10", "movesense"} <= set(DECODERS)
