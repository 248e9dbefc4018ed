"""The embedded SQLite store: records, their search tables and queries, and the configurations table."""

from app.store.sqlite.records import SqliteStore

__all__ = ["SqliteStore"]
