"""The embedded store: one SQLite row per record holding its JSON, with indexed columns for queries."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
from app.store.sqlite.rows import (
    DOC_AS_OF_NOW,
    DUE_ANY,
    as_of_now,
    as_stored,
    joined_within,
    ms,
    read_within,
    where_clause,
)
from app.store.sqlite.writes import GroupedWrites, WriteJob

T = TypeVar("T")

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

    def __init__(self, path: str, busy_timeout_ms: int = 30000) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._counts: dict[tuple[Any, ...], tuple[tuple[int, int], int]] = {}
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
        where, args = where_clause(filters, start_after)
        page_sql = f"SELECT doc FROM order_records{where} ORDER BY id LIMIT ?"
        # The subquery's order is the order group_concat sees: a subquery with a LIMIT is never flattened into an
        # aggregate, and SQLite runs it as a co-routine handing its rows over as it reads them.
        joined_sql = f"SELECT CAST(group_concat(doc, ',') AS BLOB), count(*) FROM ({page_sql})"
        page_as_of_now_sql = f"SELECT {DOC_AS_OF_NOW} FROM order_records{where} ORDER BY id LIMIT ?"
        actor = await self.actor_anonymization()
        nth_id_sql = f"SELECT id FROM order_records{where} ORDER BY id LIMIT 1 OFFSET ?"
        budget = sys.maxsize if max_bytes is None else max_bytes

        def read() -> tuple[int | None, PagePart]:
            conn = self._conn(self._reader)
            conn.execute("BEGIN")  # one snapshot: the total and the page agree even while others write
            try:
                now_ms = ms(moment(now))  # inside the snapshot the page is read from
                # Usually the sweep has left nothing due (one look at its partial index): then SQLite joins the
                # page itself, with no Python object per record, unless it holds more than the budget.
                if conn.execute(DUE_ANY, (now_ms,)).fetchone() is None:
                    part = joined_within(conn, joined_sql, (*args, size), budget)
                    if part is not None:
                        return (self._count(conn, filters) if with_total else None), part
                    page = read_within(conn.execute(page_sql, (*args, size)), budget, as_stored)
                else:
                    page = read_within(conn.execute(page_as_of_now_sql, (now_ms, *args, size)), budget,
                                        lambda doc, due: as_of_now(doc, due, actor))
                resume = None
                if len(page) < size and sum(map(len, page)) >= budget:  # read only as far as the budget goes
                    resume = conn.execute(nth_id_sql, (*args, len(page) - 1)).fetchone()[0].hex()
                part = PagePart(b",".join(page), len(page), resume)
                return (self._count(conn, filters) if with_total else None), part
            finally:
                conn.execute("COMMIT")

        return await self._run(self._read_pool, read)

    async def count(self, filters: RecordFilter) -> int:
        return await self._run(self._read_pool, lambda: self._count(self._conn(self._reader), filters))

    def _count(self, conn: sqlite3.Connection, filters: RecordFilter) -> int:
        where, args = where_clause(filters)
        key = (where, *args)
        # data_version moves when another connection (or process) commits, total_changes when this one writes:
        # together they say exactly whether a cached count can still be true. A client paging through an
        # unchanging table then pays for one count, not one per page.
        stamp = (conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes)
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
