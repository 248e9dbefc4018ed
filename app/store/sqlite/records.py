"""The embedded store: one SQLite row per record holding its JSON, with indexed columns for queries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import sys
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson

from app.domain.gdpr import cleaned_up
from app.search.query import Found, SearchQuery, Window
from app.store.base import (
    AsOf,
    PagePart,
    RecordFilter,
    StoreIncompatible,
    StoreUnavailable,
    actor_anonymization_default,
    moment,
)
from app.store.sqlite import search as sqlite_search
from app.store.sqlite import search_tables as sqlite_search_tables
from app.store.sqlite.config import CONFIG_SCHEMA, SqliteConfigurations
from app.store.sqlite.pages import read_page
from app.store.sqlite.read_ahead import NEXT_DUE, AheadPage, Page, PageKey, ReadAhead, Stamp, data_stamp
from app.store.sqlite.rows import DOC_AS_OF_NOW, as_of_now, ms, where_clause
from app.store.sqlite.writes import GroupedWrites, WriteJob

T = TypeVar("T")
log = logging.getLogger("app.store.sqlite")

SCHEMA = """
CREATE TABLE IF NOT EXISTS order_records (
    id BLOB NOT NULL UNIQUE,            -- the 12 ObjectId bytes: same ids and order as on MongoDB
    facility_ref TEXT NOT NULL,
    tenant_order_record_id TEXT,
    anonymized INTEGER NOT NULL,
    gdpr_cleanup_ms INTEGER NOT NULL,
    deletion_ms INTEGER NOT NULL,
    version INTEGER NOT NULL,
    doc BLOB NOT NULL                   -- the record exactly as the API returns it
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_order_records_tenant
    ON order_records (tenant_order_record_id) WHERE tenant_order_record_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_order_records_facility ON order_records (facility_ref, id);
CREATE INDEX IF NOT EXISTS ix_order_records_gdpr_due ON order_records (gdpr_cleanup_ms) WHERE anonymized = 0;
CREATE INDEX IF NOT EXISTS ix_order_records_deletion ON order_records (deletion_ms);
"""
MAX_CACHED_COUNTS = 1024
WAL_SIZE_LIMIT = 64 * 1024 * 1024
# WAL pages between automatic checkpoints (SQLite's default: 1,000). A batch changes pages all over the search
# indexes; a checkpoint copies each page once however often the WAL holds it, so a longer WAL copies fewer pages
# per record. It stays below WAL_SIZE_LIMIT.
WAL_CHECKPOINT_PAGES = 10000
# How long the scrub's checkpoint waits for readers still inside the WAL. It holds the write lock meanwhile, so
# not the 30 s of a write: a busy scrub is retried by the sweep a second later instead.
SCRUB_BUSY_TIMEOUT_MS = 1000
# PRAGMA user_version of a store in this version's shape (the official record model; 3: no digest columns). 0 is
# a new, empty file.
STORE_FORMAT = 3
OLD_STORE = ("{path} holds order records of an earlier version of this service, in another shape; this version "
             "cannot read them. Move the file away (or set sqlite.path to a new file) and backfill again.")


class SqliteStore(GroupedWrites):
    """Writes go through one connection on one thread (SQLite has one writer); reads through another."""

    def __init__(self, path: str, busy_timeout_ms: int = 30000, read_ahead_pages: int = 4) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._counts: dict[tuple[Any, ...], tuple[Stamp, int]] = {}
        self._ahead = ReadAhead(read_ahead_pages)  # used on the reader thread only
        # Removed personal data may still sit in the WAL: after a sweep changed rows, and at start (a crash may have
        # come between a sweep and its scrub).
        self._scrub_pending = path != ":memory:"
        self._queued: deque[WriteJob] = deque()  # appended on the event loop, taken on the writer thread (both atomic)
        self._write_pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-write")
        self._read_pool = self._write_pool if path == ":memory:" else ThreadPoolExecutor(
            1, thread_name_prefix="sqlite-read")
        self.actor_anonymization = actor_anonymization_default
        self.configurations = SqliteConfigurations(self._run, self._read_pool, self._write_pool,
                                                   lambda: self._conn(self._reader), lambda: self._conn(self._writer))

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=self.busy_timeout_ms / 1000)
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        # Freed space is zeroed, so an anonymized record's old bytes do not linger in its page.
        conn.execute("PRAGMA secure_delete = ON")
        if self.path != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")  # the WAL shrinks back after a big sweep
            conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
        return conn

    async def _run(self, pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"sqlite: {exc}") from exc

    async def open(self) -> None:
        def connect() -> None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            writer = self._connect()
            self._check_format(writer)
            self._writer = writer
            self._writer.executescript(SCHEMA + CONFIG_SCHEMA)
            sqlite_search_tables.install(self._writer)
            self._writer.execute(f"PRAGMA user_version = {STORE_FORMAT}")
            self._reader = self._writer if self.path == ":memory:" else self._connect()

        await self._run(self._write_pool, connect)

    def _check_format(self, conn: sqlite3.Connection) -> None:
        has_table = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'order_records'").fetchone()
        if has_table and conn.execute("PRAGMA user_version").fetchone()[0] != STORE_FORMAT:
            conn.close()
            raise StoreIncompatible(OLD_STORE.format(path=self.path))

    async def close(self) -> None:
        def disconnect() -> None:
            for conn in {id(c): c for c in (self._reader, self._writer) if c}.values():
                conn.close()
            self._reader = self._writer = None

        await self._run(self._read_pool, self._ahead.clear)  # pages read ahead hold records: not kept past close
        await self._run(self._write_pool, disconnect)
        self._write_pool.shutdown(wait=False)
        self._read_pool.shutdown(wait=False)

    async def ping(self) -> None:
        await self._run(self._read_pool, lambda: self._conn(self._reader).execute("SELECT 1").fetchone())

    @staticmethod
    def _conn(conn: sqlite3.Connection | None) -> sqlite3.Connection:
        if conn is None:
            raise StoreUnavailable("sqlite store is not open")
        return conn

    async def get_json(self, record_id: str, now: AsOf) -> bytes | None:
        actor = await self.actor_anonymization()

        def get() -> bytes | None:
            row = self._conn(self._reader).execute(
                f"SELECT {DOC_AS_OF_NOW} FROM order_records WHERE id = ?",
                (ms(moment(now)), bytes.fromhex(record_id))
            ).fetchone()
            return None if row is None else as_of_now(*row, actor)

        return await self._run(self._read_pool, get)

    async def list_part(self, filters: RecordFilter, start_after: str | None, size: int, now: AsOf,
                        max_bytes: int | None = None, *, with_total: bool = True) -> tuple[int | None, PagePart]:
        key = PageKey(filters, start_after, size, sys.maxsize if max_bytes is None else max_bytes,
                      await self.actor_anonymization())
        page = await self._run(self._read_pool, self._read_page, key, now, with_total)
        return page.total, page.part

    def _read_page(self, key: PageKey, now: AsOf, with_total: bool) -> Page:
        conn = self._conn(self._reader)
        stamp = data_stamp(conn)
        conn.execute("BEGIN")  # one snapshot: the total and the page agree even while others write
        try:
            now_ms = ms(moment(now))  # inside the snapshot the page is read from
            page = self._ahead.take(key, stamp, now_ms) if with_total else None
            if page is None:
                page = read_page(conn, key, now_ms)
                page = replace(page, total=self._count(conn, key.filters)) if with_total else page
        finally:
            conn.execute("COMMIT")
        # A client asking for the page after another is paging through: its next page is read now, while it takes
        # this one in, so that it is ready when asked for.
        if with_total and key.start_after is not None and page.next_start is not None and self._ahead.pages:
            with contextlib.suppress(RuntimeError):  # the store is closing: the page read is still the answer
                self._read_pool.submit(self._read_ahead, replace(key, start_after=page.next_start), now)
        return page

    def _read_ahead(self, key: PageKey, now: AsOf) -> None:
        try:
            conn = self._conn(self._reader)
            stamp = data_stamp(conn)
            conn.execute("BEGIN")
            try:
                page = read_page(conn, key, ms(moment(now)))
                due_ms = conn.execute(NEXT_DUE).fetchone()[0]
                page = replace(page, total=self._count(conn, key.filters))
            finally:
                conn.execute("COMMIT")
        except (sqlite3.Error, StoreUnavailable):
            return  # only a guess at what will be asked for: the request reads the page itself
        except Exception as exc:  # nobody awaits this read: say so rather than lose it
            log.warning("reading a page ahead failed: %s", type(exc).__name__)
            return
        if page.joined:  # a page the clock shaped (records due for cleanup) is left to be read when asked for
            self._ahead.keep(key, AheadPage(page, stamp, due_ms))

    async def count(self, filters: RecordFilter) -> int:
        return await self._run(self._read_pool, lambda: self._count(self._conn(self._reader), filters))

    def _count(self, conn: sqlite3.Connection, filters: RecordFilter) -> int:
        where, args = where_clause(filters)
        key = (where, *args)
        # The data stamp says exactly whether a cached count can still be true: a client paging through an
        # unchanging table then pays for one count, not one per page.
        stamp = data_stamp(conn)
        cached = self._counts.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        total = conn.execute(f"SELECT count(*) FROM order_records{where}", args).fetchone()[0]
        if len(self._counts) >= MAX_CACHED_COUNTS:
            self._counts.clear()
        self._counts[key] = (stamp, total)
        return total

    async def search(self, query: SearchQuery, window: Window, now: datetime) -> Found:
        actor = await self.actor_anonymization()
        return await self._run(self._read_pool, lambda: sqlite_search.run(self._conn(self._reader), query, window,
                                                                          ms(now), actor))

    async def anonymize_due(self, now: datetime, limit: int) -> int:
        actor = await self.actor_anonymization()
        return await self._run(self._write_pool, self._anonymize_due, now, limit, actor)

    def _anonymize_due(self, now: datetime, limit: int, actor: bool) -> int:
        conn = self._conn(self._writer)
        conn.execute("BEGIN IMMEDIATE")
        try:
            due = conn.execute("SELECT id, version, doc FROM order_records WHERE anonymized = 0 AND "
                               "gdpr_cleanup_ms <= ? ORDER BY gdpr_cleanup_ms LIMIT ?", (ms(now), limit)).fetchall()
            done = 0
            for rid, version, doc in due:
                record = cleaned_up(orjson.loads(doc), actor)
                done += conn.execute(
                    "UPDATE order_records SET doc = ?, anonymized = 1, version = ? "
                    "WHERE id = ? AND version = ? AND anonymized = 0",
                    (orjson.dumps(record), record["version"], rid, version)).rowcount
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._scrub_pending |= done > 0 and self.path != ":memory:"
        return done

    async def purge_expired(self, now: datetime, limit: int) -> int:
        def purge() -> int:
            # In bounded statements: one DELETE of a large backlog would hold the write lock for seconds.
            deleted: int = self._conn(self._writer).execute(
                "DELETE FROM order_records WHERE rowid IN "
                "(SELECT rowid FROM order_records WHERE deletion_ms <= ? LIMIT ?)", (ms(now), limit)).rowcount
            self._scrub_pending |= deleted > 0 and self.path != ":memory:"
            return deleted

        return await self._run(self._write_pool, purge)

    async def scrub(self) -> bool:
        return await self._run(self._write_pool, self._scrub) if self._scrub_pending else True

    def _scrub(self) -> bool:
        # secure_delete zeroes what an UPDATE or DELETE frees in the database file, but the WAL keeps every earlier
        # image of a page (the record as inserted) until it is overwritten, which may be never. A checkpoint that
        # truncates the WAL to zero bytes removes them; it needs every reader out of the WAL, so it may be busy.
        conn = self._conn(self._writer)
        conn.execute(f"PRAGMA busy_timeout = {SCRUB_BUSY_TIMEOUT_MS}")
        try:
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        self._scrub_pending = bool(busy)
        return not busy
