"""Run a recording through the service's processing with no broker: for commands that judge a whole run."""

from __future__ import annotations

import asyncio
from pathlib import Path

from spinesense.alerts import AlertEngine
from spinesense.commands._base import EXIT_USAGE, CommandError
from spinesense.commands._recording import open_for_command
from spinesense.config import load_config
from spinesense.errors import ConfigError
from spinesense.service import Session
from spinesense.sources.replay import replay


def process_recording(file: str, config_file: str | None) -> Session:
    """The finished session of ``file`` with the configured thresholds and runner profile.

    ``.report`` holds its strides, alerts and summary; ``.engine.baseline`` the baseline it learned.
    """
    try:
        config = load_config(Path(config_file) if config_file else None)
    except ConfigError as exc:
        raise CommandError(f"configuration: {exc}", EXIT_USAGE) from None
    recording, decoder = open_for_command(file)
    session = Session(decoder, AlertEngine(config.alerts, config.profile), show=None)
    asyncio.run(session.run(replay(recording, None)))
    return session
