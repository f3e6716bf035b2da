"""Run store fixtures: a real SQLite file, and a throwaway database on the PostgreSQL at 127.0.0.1:5432."""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import TYPE_CHECKING

import psycopg
import pytest
from psycopg import sql

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

POSTGRES_ADMIN = os.environ.get("SPINESENSE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
"""A PostgreSQL server the tests may create databases on (trust auth), and its maintenance database."""


@contextlib.contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new database with a unique name on the test server, dropped afterwards; skips without a server."""
    name = f"spinesense_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL reachable at {POSTGRES_ADMIN}: {str(exc).strip()}")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh PostgreSQL database for one test."""
    with fresh_postgres() as url:
        yield url


def sqlite_or_postgres(kind: str, folder: Path) -> contextlib.AbstractContextManager[str]:
    """A store URL: a SQLite file in ``folder``, or a fresh PostgreSQL database."""
    if kind == "sqlite":
        return contextlib.nullcontext(f"sqlite:///{folder / 'runs.sqlite'}")
    return fresh_postgres()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The run store on a real SQLite file, then on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.sqlite'}"
    url: str = request.getfixturevalue("postgres_url")
    return url
