"""SQLite specifics: cached counts stay exact whoever writes, and a batch of new records is one statement."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from bson import ObjectId

from app.records import RecordBuilder
from app.settings import Settings
from app.store.base import InsertOutcome, RecordFilter
from app.store.sqlite import SqliteStore, rows, writes
from app.store.sqlite import records as sqlite
from tests.conftest import NOW
from tests.factories import full_record


@pytest.fixture
async def store() -> AsyncIterator[SqliteStore]:
    """An open in-memory store (the conftest `store` fixture is unopened and runs on every store kind)."""
    opened = SqliteStore(":memory:")
    await opened.open()
    yield opened
    await opened.close()


def build(settings: Settings, *tenant_ids: str, facility: str = "f") -> list[dict[str, Any]]:
    builder = RecordBuilder(settings.gdpr)
    return [builder.build(full_record(tenantOrderRecordId=t, facilityRef=facility), str(ObjectId()), NOW)
            for t in tenant_ids]


async def test_counts_follow_writes_of_this_and_other_connections(tmp_path: Any, settings: Settings) -> None:
    path = str(tmp_path / "counts.sqlite3")
    reader, other = SqliteStore(path), SqliteStore(path)  # `other` stands for a second worker process
    await reader.open()
    await other.open()
    try:
        everything, facility = RecordFilter(), RecordFilter(facility_ref="g")
        assert (await reader.count(everything), await reader.count(facility)) == (0, 0)
        await reader.insert_batch(build(settings, "a", "b"), NOW)
        assert await reader.count(everything) == 2
        await other.insert_batch(build(settings, "c", facility="g"), NOW)
        assert (await reader.count(everything), await reader.count(facility)) == (3, 1)
        assert await other.purge_expired(NOW.replace(year=2040), 10) == 3
        assert (await reader.count(everything), await reader.count(facility)) == (0, 0)
    finally:
        await reader.close()
        await other.close()


async def test_counts_follow_writes_in_memory(store: SqliteStore, settings: Settings) -> None:
    assert await store.count(RecordFilter()) == 0
    await store.insert_batch(build(settings, "a"), NOW)
    assert await store.count(RecordFilter()) == 1
    await store.insert_batch(build(settings, "a", "b"), NOW)  # "a" exists already: only "b" is new
    assert await store.count(RecordFilter()) == 2


async def test_duplicates_inside_one_batch_and_against_stored_records(store: SqliteStore, settings: Settings) -> None:
    first = await store.insert_batch(build(settings, "a"), NOW)
    outcomes = await store.insert_batch(build(settings, "b", "a", "b", "c"), NOW)
    assert [o.status for o in outcomes] == ["CREATED", "EXISTS", "EXISTS", "CREATED"]
    assert outcomes[1].record == first[0].record
    assert outcomes[2].record == outcomes[0].record


async def test_total_and_page_come_from_one_snapshot(tmp_path: Any, settings: Settings) -> None:
    """A write committed by another process between the count and the page shows in neither."""
    import sqlite3

    path = str(tmp_path / "snapshot.sqlite3")
    store = SqliteStore(path)
    await store.open()
    try:
        await store.insert_batch(build(settings, "a"), NOW)
        late = build(settings, "b")[0]
        counted = store._count

        def count_then_someone_writes(conn: sqlite3.Connection, filters: RecordFilter) -> int:
            total = counted(conn, filters)
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("INSERT INTO order_records (id, facility_ref, anonymized, gdpr_cleanup_ms, deletion_ms, "
                          "version, doc) VALUES (?, 'f', 1, 0, 0, 1, ?)",
                          (bytes.fromhex(late["id"]), b"{}"))
            other.close()
            return total

        store._count = count_then_someone_writes  # type: ignore[method-assign]
        total, page = await store.list_part(RecordFilter(), None, 10, NOW)
        assert (total, page.count) == (1, 1)
        store._count = counted  # type: ignore[method-assign]
        total, page = await store.list_part(RecordFilter(), None, 10, NOW)
        assert (total, page.count) == (2, 2)
    finally:
        await store.close()


async def test_a_new_batch_is_one_statement(store: SqliteStore, settings: Settings) -> None:
    await store.insert_batch(build(settings, "a"), NOW)
    sent: list[str] = []
    store._writer.set_trace_callback(sent.append)  # type: ignore[union-attr]
    outcomes = await store.insert_batch(build(settings, "b", "c", "d"), NOW)
    assert [o.status for o in outcomes] == ["CREATED"] * 3
    # one INSERT for the records and one per search side table, in one transaction
    assert [q.split()[0] for q in sent] == ["BEGIN", "INSERT", "INSERT", "INSERT", "INSERT", "COMMIT"]
    assert sent[1].startswith("INSERT INTO order_records")
    sent.clear()
    outcomes = await store.insert_batch(build(settings, "e", "a"), NOW)  # "a" is stored: which ones were stored
    assert [o.status for o in outcomes] == ["CREATED", "EXISTS"]
    assert [q.split()[0] for q in sent] == ["BEGIN", "INSERT", "SELECT", "INSERT", "INSERT", "INSERT", "SELECT",
                                            "COMMIT"]


def test_settle_tells_created_from_existing_and_vanished() -> None:
    ids = [str(ObjectId()) for _ in range(5)]
    records = [{"id": ids[0], "tenantOrderRecordId": "mine"}, {"id": ids[1], "tenantOrderRecordId": "theirs"},
               {"id": ids[2]}, {"id": ids[3], "tenantOrderRecordId": "gone"}]
    docs = [b"doc0", b"doc1", b"doc2", b"doc3"]
    stored = {"mine": (bytes.fromhex(ids[0]), b"doc0"), "theirs": (bytes.fromhex(ids[4]), b"stored")}
    assert rows.settle(records, docs, stored) == [
        InsertOutcome("CREATED", b"doc0"), InsertOutcome("EXISTS", b"stored"),
        InsertOutcome("CREATED", b"doc2"), None]


async def test_a_record_deleted_after_the_insert_skipped_it_is_inserted_again(store: SqliteStore,
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stored record with the same tenantOrderRecordId went (retention) between the INSERT and the lookup."""
    (old,) = await store.insert_batch(build(settings, "a"), NOW)
    real_settle = writes.settle

    def purged_meanwhile(records: list[Any], docs: list[bytes], stored: dict[str, Any]) -> list[Any]:
        monkeypatch.setattr(writes, "settle", real_settle)
        store._writer.execute("DELETE FROM order_records WHERE tenant_order_record_id = 'a'")  # type: ignore
        return real_settle(records, docs, {k: v for k, v in stored.items() if k != "a"})

    monkeypatch.setattr(writes, "settle", purged_meanwhile)
    new = build(settings, "a")
    (outcome,) = await store.insert_batch(new, NOW)
    assert outcome.status == "CREATED" and outcome.record["id"] == new[0]["id"] != old.record["id"]
    assert await store.get_json(new[0]["id"], NOW) == outcome.json
    assert await store.get_json(old.record["id"], NOW) is None


async def test_connections_zero_freed_space_and_bound_the_wal(tmp_path: Any) -> None:
    """An anonymized record's old bytes must not linger in free space; a big sweep must not leave a huge WAL."""
    store = SqliteStore(str(tmp_path / "pragmas.sqlite3"))
    await store.open()
    try:
        for conn in (store._writer, store._reader):
            assert conn is not None
            assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
            assert conn.execute("PRAGMA journal_size_limit").fetchone()[0] == sqlite.WAL_SIZE_LIMIT
            assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == sqlite.WAL_CHECKPOINT_PAGES == 10000
    finally:
        await store.close()
