"""What scan, record, run and demo share: the live sensor link and Bluetooth trouble as one clear line."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from spinesense.cli.commands._base import EXIT_UNAVAILABLE, CommandError
from spinesense.cli.commands._service import serve_and_report, terminal_service
from spinesense.sources.ble import (
    BluetoothUnavailableError,
    LinkGaveUpError,
    SensorLink,
    SensorNotFoundError,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from spinesense.config import Config
    from spinesense.service import Companion
    from spinesense.sources.ble import BleakBackend, LinkOptions
    from spinesense.speech import Speaker


@contextlib.contextmanager
def bluetooth_errors() -> Iterator[None]:
    """Report a missing adapter/BlueZ/D-Bus, no sensor, or a link that gave up as a CommandError (code 3)."""
    try:
        yield
    except BluetoothUnavailableError as exc:
        raise CommandError(
            f"{exc}; check that an adapter is present and BlueZ is running", EXIT_UNAVAILABLE
        ) from None
    except (SensorNotFoundError, LinkGaveUpError) as exc:
        raise CommandError(str(exc), EXIT_UNAVAILABLE) from None


async def run_live(  # noqa: PLR0913 - keyword-only options of one live service
    config: Config,
    target: str | None,
    *,
    options: LinkOptions,
    backend: BleakBackend | None = None,
    length_s: float | None = None,
    source: str = "spinesense run",
    companions: Sequence[Companion] = (),
    speaker: Speaker | None = None,
) -> int:
    """The service on a live sensor (found once, its protocol picks the decoder), reconnecting after dropouts.

    It runs until Ctrl-C or SIGTERM, or until a companion stops it (the demo's end of recording).
    """
    link = SensorLink(target, backend=backend, options=options, source=source)
    length = None if length_s is None else (lambda: length_s)
    service = terminal_service(link, config, length_s=length, companions=companions, speaker=speaker)
    return await serve_and_report(service)
