"""The public face: every name in spinesense.__all__ resolves, and importing the package stays cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import spinesense


def test_every_public_name_resolves_to_its_definition() -> None:
    for name in spinesense.__all__:
        value = getattr(spinesense, name)
        if name != "__version__":
            assert value.__name__ == name, name
    assert sorted(dir(spinesense)) == sorted(spinesense.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Session'"):
        _ = spinesense.Session


def test_importing_the_package_loads_no_heavy_dependency() -> None:
    heavy = ("numpy", "scipy", "bleak", "bumble", "aiomqtt", "amqtt", "rich")
    code = f"import sys, spinesense; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
