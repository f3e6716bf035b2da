"""The command line starts light: building every command's parser (as --help and --version do) imports
none of the heavy packages; each command imports them when it runs. How fast: benchmarks/startup.py."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPLAY_DATA

HEAVY = (
    "numpy",
    "scipy",
    "bleak",
    "bumble",
    "aiomqtt",
    "amqtt",
    "paho",
    "rich",
    "vqf",
    "asyncio",
    "sqlalchemy",
    "fit_tool",
)

LOADED_AFTER = """
import sys
from spinesense.cli import build_parser, main
build_parser()
try:
    main([{args}])
except SystemExit:
    pass
print(" ".join(sorted({{name.split(".")[0] for name in sys.modules}})))
"""


def _loaded_after(*args: str) -> set[str]:
    """Top-level packages a fresh interpreter holds after building the parser and running ``args``."""
    code = LOADED_AFTER.format(args=", ".join(repr(a) for a in args))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.splitlines()[-1].split())  # the last line: after what the command printed


def test_help_and_version_import_nothing_heavy() -> None:
    for args in (["--help"], ["--version"], ["replay", "--help"], ["run", "--help"]):
        assert _loaded_after(*args).isdisjoint(HEAVY), args


def test_a_command_still_loads_what_it_needs_when_it_runs() -> None:
    # The check above can fail: a command that runs pulls the heavy packages in.
    assert "numpy" in _loaded_after("info", str(REPLAY_DATA / "alcantara" / "shimmer_sacral_run.jsonl.gz"))
