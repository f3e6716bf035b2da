"""The run store: every session saved at its end (SQLite by default, PostgreSQL for a team server).

Runs with their strides and alerts, shoes, and the training load built from them (docs/history.md).
"""

from spinesense.store._engine import StoreError, sqlite_url
from spinesense.store._records import NewRun, RunFigures, SaveResult, StoredRun
from spinesense.store._runstore import RunStore
from spinesense.store._schema import SCHEMA_VERSION
from spinesense.store._shoes import WARN_KM, Shoe, ShoeError
from spinesense.store.session import StoreSink, open_store

__all__ = [
    "SCHEMA_VERSION",
    "WARN_KM",
    "NewRun",
    "RunFigures",
    "RunStore",
    "SaveResult",
    "Shoe",
    "ShoeError",
    "StoreError",
    "StoreSink",
    "StoredRun",
    "open_store",
    "sqlite_url",
]
