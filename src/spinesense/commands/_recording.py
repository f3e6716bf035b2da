"""Shared bits of the commands that read a recording: the FILE argument and opening it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spinesense.commands._base import EXIT_DATA, CommandError
from spinesense.sensors import UnknownProtocolError
from spinesense.sources.replay import Recording, RecordingError, open_recording

if TYPE_CHECKING:
    import argparse

    from spinesense.sensors import StreamDecoder


def add_file_argument(parser: argparse.ArgumentParser) -> None:
    """The FILE argument every recording command takes."""
    parser.add_argument("file", metavar="FILE", help="a capture (.jsonl[.gz]) or a sample CSV (.csv[.gz])")


def open_for_command(path: str) -> tuple[Recording, StreamDecoder]:
    """Open a recording and its decoder, turning every failure into one clear CommandError."""
    try:
        recording = open_recording(path)
        return recording, recording.decoder()
    except (RecordingError, UnknownProtocolError) as exc:
        raise CommandError(str(exc), EXIT_DATA) from None
