"""MQTT publishing end to end on loopback Mosquitto: strides per second through the Publisher and
publish-to-receive latency (p50, p99) seen by a subscriber.

Usage: .venv/bin/python benchmarks/mqtt_publish.py [--strides N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import aiomqtt
import numpy as np

from spinesense.models import Stride
from spinesense.publish import BrokerSettings, Publisher, SessionClock
from spinesense.publish.broker import free_port


def stride(i: int) -> Stride:
    """A realistic stride with every metric filled."""
    return Stride(
        index=i,
        t_start_s=i * 0.7,
        t_end_s=i * 0.7 + 0.7,
        side="left",
        running=True,
        cadence_spm=171.0,
        gct_ms=231.0,
        flight_ms=118.0,
        duty_factor=0.33,
        peak_vertical_accel_g=2.6,
        loading_rate_g_per_s=33.0,
        vgrf_peak_bw=2.3,
        braking_g=0.4,
        braking_impulse_mps=0.14,
        vertical_oscillation_cm=8.9,
        trunk_lean_deg=1.8,
        trunk_lateral_lean_deg=-0.7,
        pelvic_tilt_rom_deg=6.1,
        pelvic_drop_left_deg=4.0,
        pelvic_drop_right_deg=4.2,
        pelvic_rotation_deg=9.5,
        gct_left_ms=229.0,
        gct_right_ms=233.0,
    )


async def measure(port: int, n: int, paced_hz: float | None) -> tuple[float, list[float]]:
    """Publish ``n`` strides (at once, or at ``paced_hz``); return strides/s and latencies in ms."""
    settings = BrokerSettings("127.0.0.1", port)
    latencies: list[float] = []
    sent_at: dict[int, float] = {}
    async with aiomqtt.Client("127.0.0.1", port) as sub:
        await sub.subscribe("spinesense/v1/bench/stride")
        async with Publisher(settings, "bench", clock=SessionClock(0), home_assistant=False) as pub:
            while not pub.connected:  # noqa: ASYNC110 - a flag the publisher sets
                await asyncio.sleep(0.01)
            start = time.perf_counter()

            async def receive() -> None:
                async for message in sub.messages:
                    index = json.loads(message.payload)["index"]
                    latencies.append((time.perf_counter() - sent_at[index]) * 1000)
                    if index == n - 1:
                        return

            receiver = asyncio.create_task(receive())
            for i in range(n):
                sent_at[i] = time.perf_counter()
                pub.publish_stride(stride(i))
                await asyncio.sleep(1 / paced_hz if paced_hz else 0)
            await asyncio.wait_for(receiver, 60)
            elapsed = time.perf_counter() - start
    return n / elapsed, latencies


def main() -> None:
    """Start Mosquitto on a free port, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--strides", type=int, default=20_000)
    args = parser.parse_args()
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "m.conf"
        conf.write_text(
            f"user root\nlistener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n"
        )
        broker = subprocess.Popen([mosquitto, "-c", str(conf)], stderr=subprocess.DEVNULL)  # noqa: S603
        try:
            time.sleep(0.5)
            rate, _ = asyncio.run(measure(port, args.strides, None))
            print(f"throughput: {rate:,.0f} strides/s published and received ({args.strides} strides, QoS 0)")
            _, lat = asyncio.run(measure(port, 2_000, 50.0))
            p50, p99 = np.percentile(lat, [50, 99])
            print(
                f"latency at 50 strides/s (a live run sends ~1.5/s): "
                f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {max(lat):.2f} ms"
            )
        finally:
            broker.terminate()
            broker.wait()


if __name__ == "__main__":
    main()
