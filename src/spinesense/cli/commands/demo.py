"""``spinesense demo``: the zero-setup main job: a real recording through the whole service, over BLE.

The virtual reference sensor (emulator/, on bumble's in-process BLE stack) streams the bundled demo run
(replay_data/demo/: 11 minutes of real running pelvis motion with a gyroscope and a documented fatigue
drift, a demonstration, not a measurement) in real time; the service finds it, connects and subscribes
through bleak exactly as it would a sensor on the belt, and runs it through the pipeline and the alert
rules into the embedded MQTT broker (or ``--broker``), while the terminal shows what the runner would
see and the cockpit page (its address is the first line printed; ``--no-web`` turns it off) shows it in a
browser. The demo learns the baseline fast (10 s warm-up, 20 s baseline) so alerts can appear in a short run.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import spinesense
from spinesense.cli.commands._base import (
    EXIT_DATA,
    EXIT_USAGE,
    CommandError,
    add_service_arguments,
    add_speak_argument,
)
from spinesense.web import WebAddress

if TYPE_CHECKING:
    import argparse

    from spinesense.alerts import AlertConfig
    from spinesense.config import Config
    from spinesense.emulator import VirtualSensor
    from spinesense.models import SampleBlock
    from spinesense.service import Companion, Service
    from spinesense.speech import Speaker

DEMO_RECORDING = Path("demo") / "fatigue_run.jsonl.gz"
"""11 min of running (Fukuchi RBDS0041's pelvis, CC BY 4.0), a fatigue drift added (scripts/make_demo.py)."""


DEMO_SCAN_S = 2.0
DEMO_BACKOFF_S = 0.1
"""The virtual sensor advertises every 50 ms and returns at once: short scans and retries."""
DEMO_WEB = WebAddress(port=8080, exact=False)
"""The demo serves its cockpit on http://127.0.0.1:8080/ (another free port when that one is taken)."""
END_GRACE_S = 0.5
"""After the virtual sensor's recording ends: time for the notifications still on their way."""


def replay_data_dir() -> Path:
    """replay_data/: the copy a wheel ships inside the package, else the source checkout's."""
    package = Path(spinesense.__file__).resolve().parent
    packaged = package / "replay_data"
    return packaged if packaged.is_dir() else package.parents[1] / "replay_data"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` command."""
    parser = subparsers.add_parser("demo", help="zero-setup demo: a real recording through the whole service")
    parser.add_argument(
        "--duration",
        type=float,
        metavar="S",
        help="seconds of sensor time (default: the whole recording, once; longer loops it)",
    )
    parser.add_argument("--speed", type=float, default=1.0, metavar="N", help="N times real time (default 1)")
    parser.add_argument("--file", metavar="FILE", help="another recording to play instead of the bundled one")
    add_speak_argument(parser)
    add_service_arguments(parser)
    parser.add_argument("--no-web", action="store_true", help="do not serve the cockpit page")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Play the recording (for ``--duration`` seconds of sensor time, when given)."""
    import asyncio

    from spinesense.cli.commands._ble import bluetooth_errors
    from spinesense.cli.commands._recording import load_block
    from spinesense.cli.commands._service import config_from_args, speaker_for

    if args.speed <= 0 or (args.duration is not None and args.duration <= 0):
        raise CommandError("--speed and --duration must be positive", EXIT_USAGE)
    path = Path(args.file) if args.file else replay_data_dir() / DEMO_RECORDING
    if not path.exists():
        raise CommandError(
            f"{path}: demo recording not found (it ships with spinesense: reinstall it)", EXIT_DATA
        )
    config = config_from_args(args)
    speaker = speaker_for(args)
    runner = config.runner_id if args.runner else "demo"
    config = replace(config, alerts=demo_alerts(config.alerts), runner_id=runner)
    if args.no_web:
        config = replace(config, web=None)
    elif config.web is None:
        config = replace(config, web=DEMO_WEB)
    block = load_block(str(path), args.duration)
    with bluetooth_errors():
        return asyncio.run(_over_ble(config, block, args.speed, f"spinesense demo ({path.name})", speaker))


def demo_alerts(alerts: AlertConfig) -> AlertConfig:
    """The demo learns the baseline fast (10 s warm-up, 20 s baseline) so alerts can come in a short run."""
    return replace(alerts, warmup_s=10.0, baseline_s=20.0)


async def _over_ble(
    config: Config, block: SampleBlock, speed: float, source: str, speaker: Speaker | None
) -> int:
    """Stream ``block`` from a virtual sensor and run the live service on it until the block ends."""
    from spinesense.cli.commands._ble import run_live
    from spinesense.emulator import VirtualSensor
    from spinesense.sources.ble import Backoff, LinkOptions

    async with VirtualSensor.running(block, speed=speed) as (sensor, backend):
        return await run_live(
            config,
            sensor.name,
            options=LinkOptions(scan_timeout_s=DEMO_SCAN_S, backoff=Backoff(initial_s=DEMO_BACKOFF_S)),
            backend=backend,
            length_s=len(block) / block.rate_hz,
            source=source,
            companions=[_stop_when_played(sensor)],
            speaker=speaker,
        )


def _stop_when_played(sensor: VirtualSensor) -> Companion:
    """Stops the service once the virtual sensor has sent its whole recording and the last frames came."""
    import asyncio

    async def stop(service: Service) -> None:
        await sensor.finished.wait()
        await asyncio.sleep(END_GRACE_S)
        service.stop()

    return stop
