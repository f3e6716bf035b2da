"""Run a recording through the service's processing with no broker: for commands that judge a whole run."""

from __future__ import annotations

import asyncio

from spinesense.alerts import AlertEngine
from spinesense.cli.commands._recording import open_for_command
from spinesense.cli.commands._session import load_for_command
from spinesense.service import Session
from spinesense.sources.replay import replay


def process_recording(file: str, config_file: str | None) -> Session:
    """The finished session of ``file`` with the configured thresholds and runner profile.

    ``.report`` holds its strides, alerts and summary; ``.engine.baseline`` the baseline it learned.
    """
    config = load_for_command(config_file)
    recording, decoder = open_for_command(file)
    session = Session(decoder, AlertEngine(config.alerts, config.profile), show=None)
    asyncio.run(session.run(replay(recording, None)))
    return session
