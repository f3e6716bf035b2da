"""What scan and record share: turning Bluetooth trouble into one clear line and exit code 3."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from spinesense.commands._base import EXIT_UNAVAILABLE, CommandError
from spinesense.sources.ble import BluetoothUnavailableError, SessionGaveUpError

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextlib.contextmanager
def bluetooth_errors() -> Iterator[None]:
    """Report a missing adapter/BlueZ/D-Bus or a session that gave up as a CommandError (exit code 3)."""
    try:
        yield
    except BluetoothUnavailableError as exc:
        raise CommandError(
            f"{exc}; check that an adapter is present and BlueZ is running", EXIT_UNAVAILABLE
        ) from None
    except SessionGaveUpError as exc:
        raise CommandError(str(exc), EXIT_UNAVAILABLE) from None
