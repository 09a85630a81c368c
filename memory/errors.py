"""The one exception type the memory library raises for storage problems."""

from __future__ import annotations


class StoreError(Exception):
    """The memory database cannot be used (corrupt file, locked, not a database, bad schema).

    Raised instead of raw SQLAlchemy/sqlite3 tracebacks so callers (the daemon, the CLI)
    can print one clear line and decide what to do.
    """
