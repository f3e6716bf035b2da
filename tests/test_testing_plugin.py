"""The pytest plugin (spinesense.testing) as a downstream developer uses it: docs/testing.md's examples,
run by pytest itself, and its fixtures against real parts."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import aiomqtt
import pytest

from conftest import REPO_ROOT
from spinesense.sources.ble import SensorLink
from test_api_docs import python_examples

if TYPE_CHECKING:
    from collections.abc import Callable

    from spinesense.publish import BrokerSettings
    from spinesense.testing import Listener, StartSensor

TESTING_DOC = REPO_ROOT / "docs" / "testing.md"


def _run_example(pytester: pytest.Pytester, index: int) -> pytest.RunResult:
    """Example ``index`` of docs/testing.md as a test file of its own, run by pytest in the repository."""
    line, code = python_examples(TESTING_DOC.read_text())[index]
    pytester.makepyfile(**{f"test_testing_md_line_{line}": code})
    return pytester.runpytest_subprocess(
        "--rootdir", str(REPO_ROOT), "-p", "no:cacheprovider", "-o", "asyncio_mode=auto"
    )


@pytest.mark.slow  # a whole run end to end: `scripts/test --quick` skips it
def test_the_five_line_example_passes_against_a_bundled_recording(pytester: pytest.Pytester) -> None:
    line, code = python_examples(TESTING_DOC.read_text())[0]
    lines = [text for text in code.splitlines() if text.strip()]
    assert len(lines) <= 5, f"docs/testing.md:{line} is no longer at most five lines"
    _run_example(pytester, 0).assert_outcomes(passed=1)


@pytest.mark.slow  # a whole run end to end: `scripts/test --quick` skips it
def test_the_five_line_example_fails_when_the_recording_raises_no_such_alert(
    pytester: pytest.Pytester,
) -> None:
    # The same test on a walking recording, which raises no alert: the example can fail.
    _, code = python_examples(TESTING_DOC.read_text())[0]
    pytester.makepyfile(test_walking=code.replace("fukuchi/RBDS0041.jsonl.gz", "skdh/example_2min.jsonl.gz"))
    result = pytester.runpytest_subprocess("--rootdir", str(REPO_ROOT), "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)


@pytest.mark.slow  # a whole run end to end: `scripts/test --quick` skips it
def test_the_live_run_example_passes(pytester: pytest.Pytester) -> None:
    _run_example(pytester, 1).assert_outcomes(passed=1)


def test_the_plugin_is_registered_by_its_entry_point(request: pytest.FixtureRequest) -> None:
    assert request.config.pluginmanager.has_plugin("spinesense")  # the pytest11 entry point's name


def test_the_plugin_imports_nothing_heavy() -> None:
    heavy = ("scipy", "bumble", "bleak", "aiomqtt", "amqtt", "numpy")
    code = f"import sys, spinesense.testing; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


async def test_the_listener_wakes_on_each_message(
    mqtt_broker: BrokerSettings, mqtt_messages: Callable[[str], Listener]
) -> None:
    async with mqtt_messages("plugin/#") as listener:
        async with aiomqtt.Client(mqtt_broker.host, mqtt_broker.port) as client:
            for n in range(3):
                await client.publish(f"plugin/{n}", json.dumps(n), qos=1)
        got = await listener.next(3)
    assert [str(m.topic) for m in got] == ["plugin/0", "plugin/1", "plugin/2"]
    assert listener.payloads("2") == [b"2"]


async def test_the_virtual_sensor_is_found_through_bleak(virtual_sensor: StartSensor) -> None:
    async with virtual_sensor(name="SpineSense-P1", speed=20.0) as emulated:
        link = SensorLink("SpineSense-P1", backend=emulated.backend)
        header = await link.start()
    assert header["protocol"] == "reference"
    assert header["sensor"]["name"] == "SpineSense-P1"
