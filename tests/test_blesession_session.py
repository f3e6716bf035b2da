"""SensorLink under scripted link faults: backoff, watchdog, resubscription, gap accounting, overflow."""

# ruff: noqa: S311 - seeded generators drive the jitter under test

from __future__ import annotations

import asyncio
import random
import struct

import numpy as np
import pytest

from fixtures_blesession import Link, ScriptedSensor
from spinesense.models import EventRecord, FrameRecord, Gap, Record, concat_blocks
from spinesense.sensors import decode_records, make_decoder, movesense, reference
from spinesense.sensors import polar_pmd as pmd
from spinesense.sources.ble import (
    Backoff,
    BluetoothUnavailableError,
    LinkGaveUpError,
    LinkOptions,
    SensorLink,
    find_sensor,
    identify,
    scan,
)

FAST = LinkOptions(
    scan_timeout_s=0.3, connect_timeout_s=0.2, connect_grace_s=0.2, watchdog_s=0.3, max_attempts=2
)


async def collect(link: SensorLink, delay_s: float = 0.0) -> list[Record]:
    """Every record until the link gives up (a slow consumer when ``delay_s`` > 0)."""
    records: list[Record] = []

    async def consume() -> None:
        async with asyncio.timeout(30):  # hang guard only
            async for record in link:
                records.append(record)
                if delay_s:
                    await asyncio.sleep(delay_s)

    with pytest.raises(LinkGaveUpError):
        await consume()
    return records


def events(records: list[Record], name: str) -> list[EventRecord]:
    return [r for r in records if isinstance(r, EventRecord) and r.event == name]


def decoded_gaps(records: list[Record], protocol: str) -> list[Gap]:
    """The gaps the service's decoder finds in the link's records (the link itself does not decode)."""
    return [gap for block in decode_records(records, make_decoder(protocol)) for gap in block.gaps]


def data_frames(records: list[Record]) -> list[bytes]:
    return [r.data for r in records if isinstance(r, FrameRecord) and r.char == reference.DATA_UUID]


async def no_sleep(_s: float) -> None:
    return None


def test_backoff_doubles_up_to_the_cap_within_the_jitter() -> None:
    backoff = Backoff(initial_s=0.5, factor=2.0, max_s=8.0, jitter=0.25)
    rng = random.Random(1)
    for attempt, base in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        delays = [backoff.delay(attempt, rng) for _ in range(200)]
        assert base * 0.75 <= min(delays) < base * 0.8
        assert base * 1.2 < max(delays) <= base * 1.25


async def test_reconnects_resubscribe_and_report_the_exact_gap() -> None:
    sensor = ScriptedSensor([Link(frames=20, lost_after=5), Link(frames=20)])
    link = SensorLink(None, backend=sensor.backend(), options=FAST, sleep=no_sleep)
    records = await collect(link)
    # Every frame the sensor sent while connected arrived, in order; the five sent in between did not.
    assert data_frames(records) == sensor.frames[:20] + sensor.frames[25:45]
    assert len(events(records, "connect")) == 2
    assert [(g.missing, g.exact) for g in decoded_gaps(records, "reference")] == [(5 * 19, True)]
    assert link.counts.disconnects == 2
    assert len(link.counts.reconnect_s) == 1
    # Info was read again on the second connection; the decoded stream continues across the gap.
    decoder = reference.ReferenceDecoder()
    blocks = [b for d in data_frames(records) if (b := decoder.decode(d)) is not None]
    joined = concat_blocks(blocks)
    assert joined.first_index == 0
    assert len(joined) == 40 * 19
    assert blocks[20].first_index == 25 * 19


async def test_backoff_schedule_is_followed_while_the_sensor_is_away() -> None:
    sensor = ScriptedSensor([Link(frames=3, then="disconnect")])
    slept: list[float] = []

    async def record_sleep(s: float) -> None:
        slept.append(s)

    backoff = Backoff(initial_s=1.0, factor=2.0, max_s=60.0, jitter=0.1)
    options = LinkOptions(scan_timeout_s=0.1, watchdog_s=1.0, max_attempts=4, backoff=backoff)
    link = SensorLink(
        "SpineSense-", backend=sensor.backend(), options=options, rng=random.Random(7), sleep=record_sleep
    )
    records = await collect(link)
    expected_rng = random.Random(7)
    # After the streaming link ends (it delivered data: failures reset), three scans find nothing.
    assert slept == pytest.approx([backoff.delay(n, expected_rng) for n in (1, 1, 2, 3)])
    assert [e.fields["failures"] for e in events(records, "disconnect")] == [0, 1, 2, 3, 4]
    assert len(events(records, "give_up")) == 1


async def test_watchdog_forces_a_reconnect_on_a_zombie_link() -> None:
    sensor = ScriptedSensor([Link(frames=5, then="silent"), Link(frames=5)])
    link = SensorLink(None, backend=sensor.backend(), options=FAST, sleep=no_sleep)
    records = await collect(link)
    reasons = [e.fields["reason"] for e in events(records, "disconnect")]
    assert "although the link is up" in reasons[0]
    assert link.counts.watchdog_resets == 1
    assert data_frames(records) == sensor.frames[:10]


async def test_a_connect_that_hangs_is_abandoned_and_retried() -> None:
    sensor = ScriptedSensor([Link(connect_hangs=True), Link(frames=4)])
    link = SensorLink(None, backend=sensor.backend(), options=FAST, sleep=no_sleep)
    records = await collect(link)
    assert "TimeoutError" in events(records, "disconnect")[0].fields["reason"]
    assert data_frames(records) == sensor.frames[:4]


async def test_a_slow_consumer_gets_overflow_events_and_the_decoder_sees_the_loss() -> None:
    sensor = ScriptedSensor([Link(frames=60)], interval_s=0.0005)
    options = LinkOptions(scan_timeout_s=0.3, watchdog_s=0.5, max_attempts=1, queue_size=4)
    link = SensorLink(None, backend=sensor.backend(), options=options, sleep=no_sleep)
    records = await collect(link, delay_s=0.004)
    dropped = sum(e.fields["dropped"] for e in events(records, "overflow"))
    assert dropped > 0
    assert dropped == link.counts.dropped_frames
    assert len(data_frames(records)) + dropped == 60
    lost = sum(g.missing for g in decoded_gaps(records, "reference"))
    assert lost == dropped * 19 - _trailing_dropped(records, sensor) * 19


def _trailing_dropped(records: list[Record], sensor: ScriptedSensor) -> int:
    """Frames dropped after the last one delivered (no later frame can reveal them as a gap)."""
    last = data_frames(records)[-1]
    return 60 - 1 - sensor.frames.index(last)


async def test_no_dbus_gives_one_clear_error() -> None:
    sensor = ScriptedSensor(
        [Link(frames=1)], fail_scan_with=FileNotFoundError(2, "No such file or directory")
    )
    with pytest.raises(BluetoothUnavailableError, match="Bluetooth is unavailable: no D-Bus"):
        await scan(0.1, backend=sensor.backend())
    with pytest.raises(BluetoothUnavailableError):
        async for _ in SensorLink(None, backend=sensor.backend(), options=FAST):
            pass


async def test_find_sensor_by_name_address_and_service() -> None:
    sensor = ScriptedSensor([Link(frames=1)])
    backend = sensor.backend()
    for target in ("SpineSense-0A1B", "aa:bb:cc:dd:0a:1b", reference.SERVICE_UUID.upper(), None):
        found = await find_sensor(target, timeout=1.0, backend=backend)
        assert found is not None
        assert found.family is not None
        assert found.family.protocol == "reference"
    assert await find_sensor("Polar", timeout=0.1, backend=backend) is None
    seen = await scan(0.1, backend=backend)
    assert [(s.name, s.rssi) for s in seen] == [("SpineSense-0A1B", -55)]
    assert np.isfinite(seen[0].rssi)


def pmd_pairs(chunks: int, per: int = 36, rate: int = 208) -> list[bytes]:
    """Verity-like PMD notifications: an acceleration frame then a gyroscope frame per chunk of samples."""
    frames = []
    for k in range(chunks):
        stamp = round(((k + 1) * per - 1) * 1e9 / rate)
        acc = struct.pack("<BQB", pmd.MEAS_ACC, stamp, 0x01) + struct.pack(
            f"<{3 * per}h", *([0, 0, 1000] * per)
        )
        gyr = struct.pack("<BQB", pmd.MEAS_GYRO, stamp, 0x01) + struct.pack(
            f"<{3 * per}h", *([k, 0, 0] * per)
        )
        frames += [acc, gyr]
    return frames


async def test_polar_is_restarted_on_every_connection_and_its_gap_estimated() -> None:
    sensor = ScriptedSensor(
        [Link(frames=20, lost_after=4), Link(frames=20)],
        name="Polar Sense 1A2B3C4D",
        service_uuid=pmd.SERVICE_UUID,
        chars=(pmd.CONTROL_UUID, pmd.DATA_UUID),
        data_uuid=pmd.DATA_UUID,
        frames=pmd_pairs(30),
    )
    link = SensorLink("Polar Sense", backend=sensor.backend(), options=FAST, sleep=no_sleep)
    records = await collect(link)
    # SDK mode, acceleration and gyroscope started after each (re)subscription.
    start = pmd.VERITY_SENSE.start_commands()
    assert sensor.writes == [(pmd.CONTROL_UUID, c) for c in start] * 2
    received = [r.data for r in records if isinstance(r, FrameRecord) and r.char == pmd.DATA_UUID]
    assert received == sensor.frames[:20] + sensor.frames[24:44]
    gaps = decoded_gaps(records, "polar_verity")
    assert [(g.missing, g.exact) for g in gaps] == [(2 * 36, False)]


def test_families_are_recognised_by_name_then_by_service() -> None:
    def protocol(name: str | None, uuids: list[str]) -> str | None:
        family = identify(name, uuids)
        return None if family is None else family.protocol

    assert protocol("Polar Sense B5E1F22A", []) == "polar_verity"
    assert protocol("Polar H10 12345678", [pmd.SERVICE_UUID]) == "polar_h10"
    assert protocol("Movesense 174630000192", []) == "movesense"
    assert protocol(None, [movesense.SERVICE_UUID.upper()]) == "movesense"
    assert protocol("SpineSense-0A1B", []) == "reference"
    assert protocol("Headphones", ["0000110b-0000-1000-8000-00805f9b34fb"]) is None
