"""``spinesense info FILE``: what a capture or sample CSV holds."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from spinesense.cli.commands._base import EXIT_OK, add_file_argument

if TYPE_CHECKING:
    import argparse

    from spinesense.sources.replay import Recording


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``info`` command."""
    parser = subparsers.add_parser("info", help="show what a capture or sample CSV holds")
    add_file_argument(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object for machines")
    parser.set_defaults(handler=run)


def describe(recording: Recording) -> dict[str, Any]:
    """Decode the whole recording and count what it holds: samples, gaps, corrupt frames."""
    decoder = recording.decoder()
    samples = gaps = clipped_blocks = 0
    first_t = last_t = None
    rate = has_gyr = None
    for block in recording.blocks(decoder):
        samples += len(block)
        gaps += len(block.gaps)
        clipped_blocks += block.clipped
        first_t = block.t_s[0] if first_t is None else first_t
        last_t, rate, has_gyr = block.t_s[-1], block.rate_hz, block.has_gyr
    duration = 0.0 if first_t is None or rate is None else float(last_t - first_t) + 1.0 / rate
    sensor = recording.header.get("sensor", {})
    return {
        "file": str(recording.path),
        "kind": recording.kind,
        "protocol": recording.protocol,
        "sensor_name": sensor.get("name", ""),
        "sensor_address": sensor.get("address", ""),
        "start_utc": recording.header.get("start_utc", ""),
        "rate_hz": round(rate, 3) if rate else recording.header.get("rate_hz"),
        "gyroscope": has_gyr,
        "duration_s": round(duration, 3),
        "samples": samples,
        "gaps": gaps,
        "lost_samples": decoder.lost_samples,
        "corrupt_frames": dict(decoder.errors),
        "clipped_frames": clipped_blocks,
        "skipped_lines": recording.skipped_lines,
        "torn_last_line": recording.torn_last_line,
        "damage": recording.damage,
        "host_time_jumps": recording.host_jumps,
        "largest_host_time_jump_s": round(recording.largest_host_jump_s, 3),
    }


def run(args: argparse.Namespace) -> int:
    """Print the description as text or JSON."""
    from spinesense.cli.commands._recording import open_for_command

    recording = open_for_command(args.file)
    facts = describe(recording)
    if args.json:
        print(json.dumps(facts))
        return EXIT_OK
    corrupt = ", ".join(f"{k}: {v}" for k, v in facts["corrupt_frames"].items()) or "none"
    print(f"file          {facts['file']} ({facts['kind']})")
    print(f"sensor        {facts['sensor_name']} {facts['sensor_address']}".rstrip())
    print(f"protocol      {facts['protocol']}")
    print(f"start         {facts['start_utc']}")
    print(f"rate          {facts['rate_hz']} Hz, gyroscope: {'yes' if facts['gyroscope'] else 'no'}")
    print(f"duration      {facts['duration_s']:.1f} s")
    print(f"samples       {facts['samples']}")
    print(f"gaps          {facts['gaps']} ({facts['lost_samples']} samples lost)")
    print(f"corrupt       {corrupt}")
    print(f"clipped       {facts['clipped_frames']} frames")
    skipped = len(facts["skipped_lines"])
    print(
        f"bad lines     {skipped} skipped" + (", torn last line ignored" if facts["torn_last_line"] else "")
    )
    if facts["damage"]:
        print(f"damaged       {facts['damage']}")
    if facts["host_time_jumps"]:
        print(
            f"clock jumps   {facts['host_time_jumps']} in the host times (largest "
            f"{facts['largest_host_time_jump_s']:.0f} s): never slept on by a paced replay"
        )
    return EXIT_OK
