"""Open a store by URL: SQLite (WAL, foreign keys, full sync) or PostgreSQL (psycopg 3), migrated to date."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.schema import CreateTable

from spinesense.store._schema import MIGRATIONS, SCHEMA_VERSION, schema_version

if TYPE_CHECKING:
    from pathlib import Path


SCHEMA_LOCK_KEY = 0x5350494E45
"""PostgreSQL advisory lock key of the schema's migrations (b"SPINE")."""


class StoreError(Exception):
    """The store cannot be used: a bad URL, an unreachable server, or a schema newer than this code."""


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite+pysqlite:///{path}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:  # noqa: ANN401 - DB-API objects
    """WAL (readers never block the writer), foreign keys on, and a commit survives a power cut."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url``: ``sqlite:///FILE`` or ``postgresql://...`` (driven by psycopg 3)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"store.url {url!r} is not a database URL (sqlite:///FILE or postgresql://...)"
        ) from None
    if parsed.get_backend_name() == "postgresql":
        return sa.create_engine(parsed.set(drivername="postgresql+psycopg"))
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise StoreError(f"store.url {url!r}: expected sqlite:///FILE or postgresql://...")
    engine = sa.create_engine(parsed.set(drivername="sqlite+pysqlite"))
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def current_version(connection: sa.Connection) -> int:
    """The store's schema version (0 for an empty database)."""
    if not sa.inspect(connection).has_table(schema_version.name):
        return 0
    return int(connection.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0)


def lock_schema(connection: sa.Connection) -> None:
    """Hold the store's schema lock for this transaction: processes opening a new store migrate it in turn.

    PostgreSQL: an advisory lock, held to the transaction's end. SQLite: a write (of nothing) as the
    transaction's first statement takes the database's write lock, waiting up to ``busy_timeout``; the
    version table must exist.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(SCHEMA_LOCK_KEY)))
    else:
        connection.execute(schema_version.update().where(sa.false()).values(version=0))


def migrate(engine: sa.Engine) -> int:
    """Bring the schema up to ``SCHEMA_VERSION``, one transaction per migration; return the version.

    Safe when several processes open a new store at once (``serve --processes``): each migration's
    transaction takes the write lock and reads the version again, so each runs once.
    """
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Under the lock, and created only when missing: a role without CREATE rights can open a
                # store that exists (PostgreSQL checks the right before IF NOT EXISTS).
                lock_schema(connection)
                schema_version.create(connection, checkfirst=True)
            else:
                connection.execute(CreateTable(schema_version, if_not_exists=True))
            version = current_version(connection)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store schema version {version} is newer than this spinesense ({SCHEMA_VERSION}): "
                "upgrade spinesense"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            with engine.begin() as connection:
                lock_schema(connection)  # a lock held longer than busy_timeout: OperationalError
                if current_version(connection) >= number:
                    continue  # another process applied it meanwhile
                MIGRATIONS[number - 1](connection)
                connection.execute(
                    schema_version.insert().values(version=number, applied_utc=dt.datetime.now(dt.UTC))
                )
    except OperationalError as exc:
        raise StoreError(f"store {engine.url.render_as_string()}: {exc.orig}") from None
    return SCHEMA_VERSION
