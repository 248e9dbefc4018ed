"""The SQLite `configurations` table: one row per configuration document, written only by version-checked statements."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import orjson

from app.domain.instants import format_instant
from app.store.base import Record, VersionConflict

Runner = Callable[..., Awaitable[Any]]

CONFIG_SCHEMA = """
CREATE TABLE IF NOT EXISTS configurations (
    name TEXT PRIMARY KEY,              -- gdpr, orderrecords: also the document's id
    version INTEGER NOT NULL,
    created TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    doc BLOB NOT NULL                   -- the configuration's own fields, as JSON
);
"""
# Each write is one statement: SQLite runs it under its write lock, so of two writers naming the same version
# (two workers, two instances on one file) exactly one changes the row; the other changes nothing.
INSERT_FIRST = ("INSERT INTO configurations (name, version, created, last_modified, doc) VALUES (?, 1, ?, ?, ?) "
                "ON CONFLICT (name) DO NOTHING RETURNING version, created, last_modified")
UPDATE_IF_VERSION = ("UPDATE configurations SET version = version + 1, last_modified = ?, doc = ? "
                     "WHERE name = ? AND version = ? RETURNING version, created, last_modified")
SELECT = "SELECT version, created, last_modified, doc FROM configurations WHERE name = ?"


def _document(name: str, version: int, created: str, last_modified: str, doc: bytes) -> Record:
    return {"id": name, "version": version, "created": created, "lastModified": last_modified, **orjson.loads(doc)}


class SqliteConfigurations:
    """Reads on the store's reader connection, writes on its writer, through the store's threads."""

    def __init__(self, run: Runner, read_pool: ThreadPoolExecutor, write_pool: ThreadPoolExecutor,
                 reader: Callable[[], sqlite3.Connection], writer: Callable[[], sqlite3.Connection]) -> None:
        self._run = run
        self._read_pool, self._write_pool = read_pool, write_pool
        self._reader, self._writer = reader, writer

    async def get(self, name: str) -> Record | None:
        def read() -> Record | None:
            row = self._reader().execute(SELECT, (name,)).fetchone()
            return None if row is None else _document(name, *row)

        return await self._run(self._read_pool, read)

    async def put(self, name: str, values: Record, version: int, now: datetime) -> Record:
        stamp, doc = format_instant(now), orjson.dumps(values)

        def write() -> Record:
            conn = self._writer()
            if version == 0:
                rows = conn.execute(INSERT_FIRST, (name, stamp, stamp, doc)).fetchall()
            else:
                rows = conn.execute(UPDATE_IF_VERSION, (stamp, doc, name, version)).fetchall()
            # fetchall: a RETURNING statement commits (autocommit) only once it has run to its end
            if not rows:
                stored = conn.execute(SELECT, (name,)).fetchone()
                raise VersionConflict(0 if stored is None else stored[0])
            return _document(name, *rows[0], doc)

        return await self._run(self._write_pool, write)
