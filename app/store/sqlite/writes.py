"""The writer thread's side of the SQLite store: batches queued, grouped into one transaction, each record settled."""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from app.store.base import AsOf, InsertOutcome, Record, StoreUnavailable, moment
from app.store.sqlite import search_tables as sqlite_search_tables
from app.store.sqlite.rows import DOC_AS_OF_NOW, as_of_now, insert_rows, insert_sql, ms, settle

# Batches that waited for the writer are inserted together up to this many records: a longer transaction would
# keep other processes' writers waiting longer.
MAX_GROUP_RECORDS = 1000


@dataclass
class WriteJob:
    """A batch waiting for the writer thread, and what became of it."""

    records: list[Record]
    now: AsOf
    actor: bool
    outcomes: list[InsertOutcome] | None = None
    error: Exception | None = None


class GroupedWrites:
    """SqliteStore's `insert_batch`: each batch queued for the one writer thread, and those queued meanwhile inserted
    in one transaction. The store provides the writer connection, its pool and the queue."""

    _queued: deque[WriteJob]
    _writer: sqlite3.Connection | None
    _write_pool: ThreadPoolExecutor
    _run: Callable[..., Awaitable[Any]]
    _conn: Callable[[sqlite3.Connection | None], sqlite3.Connection]
    actor_anonymization: Callable[[], Awaitable[bool]]

    async def insert_batch(self, records: list[Record], now: AsOf) -> list[InsertOutcome]:
        job = WriteJob(records, now, await self.actor_anonymization())
        self._queued.append(job)
        await self._run(self._write_pool, self._drain)  # done by this drain, or by an earlier one that took it along
        if isinstance(job.error, sqlite3.OperationalError):
            raise StoreUnavailable(f"sqlite: {job.error}") from job.error
        if job.error is not None:
            raise job.error
        assert job.outcomes is not None
        return job.outcomes

    def _drain(self) -> None:
        """On the writer thread: the batches queued by now, in one transaction. A commit writes each B-tree page it
        changed to the WAL, and the search indexes put a record's keys on pages of their own: batches that waited
        for the writer share those pages' writes instead of paying for them once each."""
        jobs: list[WriteJob] = []
        held = 0
        while self._queued and held < MAX_GROUP_RECORDS:
            jobs.append(self._queued.popleft())
            held += len(jobs[-1].records)
        if not jobs:
            return
        try:
            self._insert_jobs(jobs)
        except sqlite3.OperationalError as exc:  # the store, not a batch: every batch of the group fails alike
            for job in jobs:
                job.error = exc
        except Exception as exc:
            if len(jobs) == 1:
                jobs[0].error = exc
                return
            for job in jobs:  # a batch was refused (a repeated id): each alone, so that only that one fails
                try:
                    self._insert_jobs([job])
                except Exception as alone:
                    job.error = alone

    def _insert_jobs(self, jobs: list[WriteJob]) -> None:
        conn = self._conn(self._writer)
        conn.execute("BEGIN IMMEDIATE")
        try:
            if len(jobs) == 1:
                outcomes = [self._insert_batch(conn, jobs[0].records, jobs[0].now, jobs[0].actor)]
            else:
                outcomes = self._insert_group(conn, jobs)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        for job, done in zip(jobs, outcomes, strict=True):
            job.outcomes = done

    def _insert_group(self, conn: sqlite3.Connection, jobs: list[WriteJob]) -> list[list[InsertOutcome]]:
        """Inside the caller's transaction: the records of several batches in one statement per table, as if each
        batch had been inserted in turn. Each call into sqlite3 costs the writer a wait for the GIL (see
        _insert_batch): a group pays those waits once, not once per batch."""
        records = [record for job in jobs for record in job.records]
        docs, rows = insert_rows(records)
        changes = conn.total_changes
        conn.execute(insert_sql(len(records)), rows)
        everything = conn.total_changes - changes == len(records)
        if everything:
            sqlite_search_tables.index_batch(conn, records)
        outcomes, first = [], 0
        for job in jobs:
            mine = docs[first:first + len(job.records)]
            first += len(mine)
            outcomes.append([InsertOutcome("CREATED", doc) for doc in mine] if everything
                            else self._settled(conn, job.records, mine, None, job.now, job.actor))
        return outcomes

    def _insert_batch(self, conn: sqlite3.Connection, records: list[Record], now: AsOf,
                      actor: bool) -> list[InsertOutcome]:
        """Inside the caller's transaction: one statement for the batch's records and one per search side table.
        Every call into sqlite3 hands the GIL to the event loop thread, busy validating, and this thread then waits
        up to a switch interval to get it back: so calls per batch, never per row."""
        docs, rows = insert_rows(records)
        changes = conn.total_changes
        conn.execute(insert_sql(len(records)), rows)
        return self._settled(conn, records, docs, conn.total_changes - changes, now, actor)

    def _settled(self, conn: sqlite3.Connection, records: list[Record], docs: list[bytes], inserted_count: int | None,
                 now: AsOf, actor: bool) -> list[InsertOutcome]:
        """After the INSERT of `records` (`inserted_count` rows of them, or None: not known): their search keys, and
        what became of each."""
        inserted = records if inserted_count == len(records) else self._inserted(conn, records)
        sqlite_search_tables.index_batch(conn, inserted)  # the search keys, in the same transaction
        if len(inserted) == len(records):
            return [InsertOutcome("CREATED", doc) for doc in docs]
        # Some rows were skipped: their tenantOrderRecordId is stored. Find out which, and return those records.
        tenant_ids = list({r["tenantOrderRecordId"] for r in records if "tenantOrderRecordId" in r})
        stored = {tenant_id: (rid, as_of_now(doc, due, actor))
                  for tenant_id, rid, doc, due in conn.execute(
                      f"SELECT tenant_order_record_id, id, {DOC_AS_OF_NOW} "
                      f"FROM order_records WHERE tenant_order_record_id IN ({','.join('?' * len(tenant_ids))})",
                      (ms(moment(now)), *tenant_ids))}
        outcomes = settle(records, docs, stored)
        again = [i for i, outcome in enumerate(outcomes) if outcome is None]
        if again:
            for i, outcome in zip(again, self._insert_batch(conn, [records[i] for i in again], now, actor),
                                  strict=True):
                outcomes[i] = outcome
        return [o for o in outcomes if o is not None]

    @staticmethod
    def _inserted(conn: sqlite3.Connection, records: list[Record]) -> list[Record]:
        """Those of the batch's records the INSERT stored (the others' tenantOrderRecordId was known)."""
        ids = [bytes.fromhex(r["id"]) for r in records]
        found = {row[0] for row in conn.execute(
            f"SELECT id FROM order_records WHERE id IN ({','.join('?' * len(ids))})", ids)}
        return [r for r, rid in zip(records, ids, strict=True) if rid in found]
