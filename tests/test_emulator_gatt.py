"""The virtual sensor through bleak's own API: scan, connect, MTU, info, control point, exact frames."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import numpy as np
from bleak import BleakClient, BleakScanner

from spinesense.sensors import reference

if TYPE_CHECKING:
    from collections.abc import Callable

    from bleak.backends.device import BLEDevice

    from spinesense.testing import Emulated, StartSensor

TIMEOUT_S = 20.0
"""Hang guard only."""


async def _found(emulated: Emulated) -> BLEDevice:
    """The device bleak's scanner found for the virtual sensor, by name."""
    device = await BleakScanner.find_device_by_name(
        emulated.sensor.name, timeout=5.0, backend=emulated.scanner
    )
    assert device is not None
    return device


async def _notifications(
    client: BleakClient, count: int, after: Callable[[int], None] = lambda _n: None
) -> list[bytes]:
    """Subscribe to the data characteristic; return the first ``count`` notifications.

    ``after(n)`` is called once the n-th has arrived (to inject a fault at a known point).
    """
    frames: list[bytes] = []
    done = asyncio.Event()

    def on_data(_char: object, data: bytearray) -> None:
        frames.append(bytes(data))
        after(len(frames))
        if len(frames) == count:
            done.set()

    await client.start_notify(reference.DATA_UUID, on_data)
    await asyncio.wait_for(done.wait(), TIMEOUT_S)
    return frames[:count]


async def test_scan_reports_name_rssi_and_service(virtual_sensor: StartSensor) -> None:
    async with virtual_sensor(name="SpineSense-7E57") as emulated:
        found = await BleakScanner.discover(timeout=0.5, return_adv=True, backend=emulated.scanner)
        hits = [adv for device, adv in found.values() if device.name == "SpineSense-7E57"]
        assert hits, f"sensor not seen among {[d.name for d, _ in found.values()]}"
        assert reference.SERVICE_UUID in hits[0].service_uuids
        assert -127 < hits[0].rssi < 0


async def test_connect_mtu_info_and_exact_samples(virtual_sensor: StartSensor) -> None:
    async with virtual_sensor(speed=20.0) as emulated:
        device = await _found(emulated)
        sensor = emulated.sensor
        async with BleakClient(device, backend=emulated.client) as client:
            assert client.mtu_size == 247
            info = reference.SensorInfo.from_bytes(bytes(await client.read_gatt_char(reference.INFO_UUID)))
            assert info == reference.SensorInfo.from_bytes(sensor.info.to_bytes())
            frames = await _notifications(client, 60)

        decoder = reference.ReferenceDecoder(info)
        blocks = [block for frame in frames if (block := decoder.decode(frame)) is not None]
        n = sum(len(block.t_s) for block in blocks)
        assert n == 60 * reference.MAX_SAMPLES_PER_FRAME
        assert decoder.errors == {}
        assert decoder.lost_samples == 0
        acc = np.vstack([block.acc_mps2 for block in blocks])
        # Quantisation is the only difference: half a least significant bit (plus float32 scale rounding).
        np.testing.assert_allclose(acc, sensor.block.acc_mps2[:n], rtol=0, atol=0.51 * info.acc_lsb_mps2)
        if sensor.block.gyr_radps is None:  # an accelerometer-only recording travels as such
            assert all(block.gyr_radps is None for block in blocks)
        else:
            gyr = np.vstack([block.gyr_radps for block in blocks if block.gyr_radps is not None])
            np.testing.assert_allclose(
                gyr, sensor.block.gyr_radps[:n], rtol=0, atol=0.51 * info.gyr_lsb_radps
            )


async def test_control_point_answers_by_indication(virtual_sensor: StartSensor) -> None:
    async with virtual_sensor(speed=20.0) as emulated:
        device = await _found(emulated)
        responses: asyncio.Queue[bytes] = asyncio.Queue()
        async with BleakClient(device, backend=emulated.client) as client:
            await client.start_notify(reference.CONTROL_UUID, lambda _c, d: responses.put_nowait(bytes(d)))
            await client.write_gatt_char(reference.CONTROL_UUID, bytes([reference.OP_START]), response=True)
            start = await asyncio.wait_for(responses.get(), TIMEOUT_S)
            await client.write_gatt_char(
                reference.CONTROL_UUID, bytes([reference.OP_SET_RATE, 200, 0]), response=True
            )
            busy = await asyncio.wait_for(responses.get(), TIMEOUT_S)
            await client.write_gatt_char(reference.CONTROL_UUID, b"\x7f", response=True)
            unknown = await asyncio.wait_for(responses.get(), TIMEOUT_S)
        assert start == bytes([reference.OP_RESPONSE, reference.OP_START, reference.STATUS_OK])
        assert busy == bytes(
            [reference.OP_RESPONSE, reference.OP_SET_RATE, reference.STATUS_NOT_ALLOWED_WHILE_STREAMING]
        )
        assert unknown == bytes([reference.OP_RESPONSE, 0x7F, reference.STATUS_UNSUPPORTED])


async def test_dropped_frames_are_exact_gaps_for_the_decoder(virtual_sensor: StartSensor) -> None:
    async with virtual_sensor(speed=20.0) as emulated:
        device = await _found(emulated)
        sensor = emulated.sensor
        frames: list[bytes] = []
        done = asyncio.Event()
        watch = reference.ReferenceDecoder(reference.SensorInfo.from_bytes(sensor.info.to_bytes()))

        def on_data(_char: object, data: bytearray) -> None:
            frames.append(bytes(data))
            if len(frames) == 10:
                sensor.drop_frames(7)  # the next 7 frames the sensor samples, however many are in flight
            watch.decode(bytes(data))
            if watch.lost_samples:  # a frame after the dropped ones came in
                done.set()

        async with BleakClient(device, backend=emulated.client) as client:
            await client.start_notify(reference.DATA_UUID, on_data)
            await asyncio.wait_for(done.wait(), TIMEOUT_S)

        decoder = reference.ReferenceDecoder(reference.SensorInfo.from_bytes(sensor.info.to_bytes()))
        blocks = [block for frame in frames if (block := decoder.decode(frame)) is not None]
        assert decoder.lost_samples == 7 * reference.MAX_SAMPLES_PER_FRAME
        assert sensor.counts.lost_samples >= 7 * reference.MAX_SAMPLES_PER_FRAME
        assert [gap.missing for block in blocks for gap in block.gaps] == [
            7 * reference.MAX_SAMPLES_PER_FRAME
        ]
