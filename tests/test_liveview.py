"""The live view: on a terminal (a real pseudo-terminal) the demo shows the panel, not plain lines."""

from __future__ import annotations

import os
import pty
import re
import sys

import pytest

pytestmark = pytest.mark.slow  # end to end: `scripts/test --quick` skips it


def _run_in_terminal(*args: str) -> str:
    """Run spinesense attached to a pseudo-terminal; return everything it drew (ANSI codes removed)."""
    env = {**os.environ, "COLUMNS": "110", "LINES": "40", "TERM": "xterm-256color"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes spinesense
        os.execve(sys.executable, [sys.executable, "-m", "spinesense", *args], env)  # noqa: S606
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out.decode(errors="replace")[-2000:]
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode(errors="replace"))


def test_the_demo_on_a_terminal_shows_the_live_panel() -> None:
    screen = _run_in_terminal("demo", "--duration", "7", "--speed", "5", "--no-record")
    assert "spinesense" in screen
    assert "last stride" in screen
    assert re.search(r"cadence\s+│\s+1\d\d steps/min", screen)
    assert "embedded broker" in screen
    assert "connected to SpineSense-E1A0" in screen  # the sensor link, over the virtual BLE radio
    assert re.search(r"\d+ samples, 0 gaps \(0 lost\)", screen)
    assert "━" in screen  # the progress bar through the recording
    assert "outbox" in screen
    assert not re.search(r"^stride\s+\d", screen, re.MULTILINE)  # the panel replaces the plain lines
    assert re.search(r"\d+ strides, 0 alerts", screen)
