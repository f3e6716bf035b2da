"""Spoken cues without a browser: the system's speech engine renders an alert audibly, the queue never
blocks the pipeline, a missing engine is one clear line, and a session speaks each raised alert once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import wave
from typing import TYPE_CHECKING

import numpy as np
import pytest

from spinesense.alerts import AlertConfig
from spinesense.cli.commands import EXIT_UNAVAILABLE
from spinesense.config import Config
from spinesense.service import Service
from spinesense.sources.replay import ReplaySource
from spinesense.speech import QUEUE_SIZE, Speaker, find_engine
from test_service import _leaning_capture

if TYPE_CHECKING:
    from pathlib import Path

ENGINE = shutil.which("espeak-ng") or shutil.which("say")
needs_engine = pytest.mark.skipif(ENGINE is None, reason="no speech engine (.ci/run installs espeak-ng)")
SILENCE_RMS = 100
"""RMS of 16-bit samples below which a recording counts as silent (speech is in the thousands)."""


def _rms(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(float)
    return float(np.sqrt(np.mean(samples**2)))


@needs_engine
async def test_an_alert_is_rendered_audibly_and_a_full_queue_drops_and_counts(tmp_path: Path) -> None:
    async with Speaker(find_engine(), render_dir=tmp_path) as speaker:
        for k in range(QUEUE_SIZE + 3):  # all at once: more than the engine can take
            speaker.say(f"Your pelvis drops 9 degrees when you land on your right foot, cue {k}")
    assert (speaker.spoken, speaker.dropped) == (QUEUE_SIZE, 3)
    cues = sorted(tmp_path.glob("cue-*.wav"))  # noqa: ASYNC240 - the speaker has finished
    assert len(cues) == QUEUE_SIZE
    for cue in cues:
        with wave.open(str(cue), "rb") as wav:
            assert wav.getnframes() / wav.getframerate() > 1.0  # a sentence, not a click
        assert _rms(cue) > SILENCE_RMS


def test_speak_without_a_speech_engine_is_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # an empty folder: no espeak-ng, no say
    proc = subprocess.run(
        [sys.executable, "-m", "spinesense", "demo", "--speak", "--no-record"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == EXIT_UNAVAILABLE
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "espeak-ng" in lines[0]
    assert "say" in lines[0]


async def test_the_service_speaks_each_raised_alert_once_and_never_a_clearing(tmp_path: Path) -> None:
    capture = tmp_path / "leaning.jsonl"
    _leaning_capture(capture)
    spoken: list[str] = []
    config = Config(record=False, alerts=AlertConfig.from_mapping({"warmup_s": 5.0, "baseline_s": 15.0}))
    async with Service(ReplaySource(capture, None), config, publish=False, speak=spoken.append) as service:
        result = await service.run()
    assert spoken == [a.message for a in result.alerts if a.state == "raised"]
    assert len(spoken) == 1
    assert "run tall" in spoken[0]
