"""The live BLE path end to end through the bumble virtual sensor, with forced dropouts.

Usage: .venv/bin/python benchmarks/ble_end_to_end.py [SPEED ...]   (default speeds 10 30 100)
Streams replay_data/skdh/example_2min.jsonl.gz (105 s, 98 Hz, acc + gyro) through SensorLink while the
sensor drops the link three times and vanishes once for 0.8 s; prints frames sent and lost, gaps injected
against gaps reported, and reconnect times, as a Markdown table.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
from pathlib import Path

from spinesense.emulator.scenario import dropout_run

RECORDING = Path(__file__).resolve().parent.parent / "replay_data" / "skdh" / "example_2min.jsonl.gz"


async def one(speed: float) -> str:
    """One dropout run at ``speed``; one Markdown table row."""
    run = await dropout_run(RECORDING, speed=speed)
    sensor, link = run.sensor.counts, run.link.counts
    gaps = [gap for block in run.blocks() for gap in block.gaps]
    reconnect = link.reconnect_s
    median_ms = 1000 * statistics.median(reconnect) if reconnect else float("nan")
    worst_ms = 1000 * max(reconnect) if reconnect else float("nan")
    return (
        f"| {speed:g}x | {run.wall_s:.1f} | {len(run.sensor.frames)} | {sensor.frames} | {link.frames} "
        f"| {sensor.lost_samples} | {sum(g.missing for g in gaps)} | {len(gaps)} "
        f"| {link.connects} | {median_ms:.0f} / {worst_ms:.0f} |"
    )


async def main(speeds: list[float]) -> None:
    """Print the table header and one row per speed."""
    print(
        "| speed | wall s | frames sampled | sent | received | samples lost (sensor) "
        "| samples lost (reported) | gaps | connects | reconnect ms median / worst |\n"
        "|---|---|---|---|---|---|---|---|---|---|"
    )
    for speed in speeds:
        print(await one(speed))


if __name__ == "__main__":
    asyncio.run(main([float(s) for s in sys.argv[1:]] or [10.0, 30.0, 100.0]))
