"""The fuzz targets of ``fuzz_targets`` for a bounded number of inputs each (benchmarks/fuzz.py runs 10^6):
mutated seeds and raw bytes never crash a reader or a decoder (nor make it warn), only raise its documented
errors."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_targets import NAMES, OPS, Target, mutate, targets

if TYPE_CHECKING:
    from pathlib import Path

EXAMPLES = 150
"""Inputs per target and kind: enough to cover each mutation often, fast enough for every run."""

edits = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 2**31), st.integers(0, 2**16)), max_size=6)


def _by_name(folder: Path) -> dict[str, Target]:
    return {t.name: t for t in targets(folder)}


def _survives(target: Target, data: bytes) -> None:
    with contextlib.suppress(*target.allowed):
        target.run(data)


@pytest.mark.filterwarnings("error")  # a warning would reach the user's terminal: a crash too
@pytest.mark.parametrize("name", NAMES)
def test_mutated_seeds_never_crash(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    target = _by_name(tmp_path_factory.mktemp("fuzz"))[name]
    logging.disable(logging.WARNING)  # the readers log every skipped line; thousands here

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(seed=st.sampled_from(target.seeds), changes=edits)
    def check(seed: bytes, changes: list[tuple[str, int, int]]) -> None:
        _survives(target, mutate(seed, changes))

    try:
        check()
    finally:
        logging.disable(logging.NOTSET)


@pytest.mark.filterwarnings("error")  # a warning would reach the user's terminal: a crash too
@pytest.mark.parametrize("name", NAMES)
def test_raw_bytes_never_crash(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    target = _by_name(tmp_path_factory.mktemp("fuzz"))[name]

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=st.binary(max_size=2048))
    def check(data: bytes) -> None:
        _survives(target, data)

    check()
