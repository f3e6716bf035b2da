"""Run a recording through the service's processing with no broker: for commands that judge a whole run."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from spinesense.alerts import AlertEngine
from spinesense.cli.commands._recording import open_for_command
from spinesense.cli.commands._session import load_for_command
from spinesense.service import Session
from spinesense.sources.replay import replay

if TYPE_CHECKING:
    from spinesense.config import Config
    from spinesense.sensors import StreamDecoder
    from spinesense.sources.replay import Recording


def process_recording(file: str, config_file: str | None) -> Session:
    """The finished session of ``file`` with the configured thresholds and runner profile.

    ``.report`` holds its strides, alerts and summary; ``.engine.baseline`` the baseline it learned.
    """
    return process_with(load_for_command(config_file), *open_for_command(file))


def process_with(config: Config, recording: Recording, decoder: StreamDecoder) -> Session:
    """The finished session of an opened recording with ``config``'s thresholds and runner profile."""
    session = Session(decoder, AlertEngine(config.alerts, config.profile), show=None)
    asyncio.run(session.run(replay(recording, None)))
    return session
