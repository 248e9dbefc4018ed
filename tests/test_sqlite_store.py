"""SQLite specifics: cached counts stay exact whoever writes, and a batch is one statement."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from app.records import RecordBuilder
from app.settings import Settings
from app.store.base import RecordFilter
from app.store.sqlite import SqliteStore
from tests.conftest import NOW
from tests.factories import full_record


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
        await reader.insert_batch(build(settings, "a", "b"))
        assert await reader.count(everything) == 2
        await other.insert_batch(build(settings, "c", facility="g"))
        assert (await reader.count(everything), await reader.count(facility)) == (3, 1)
        assert await other.purge_expired(NOW.replace(year=2040)) == 3
        assert (await reader.count(everything), await reader.count(facility)) == (0, 0)
    finally:
        await reader.close()
        await other.close()


async def test_counts_follow_writes_in_memory(settings: Settings) -> None:
    store = SqliteStore(":memory:")
    await store.open()
    try:
        assert await store.count(RecordFilter()) == 0
        await store.insert_batch(build(settings, "a"))
        assert await store.count(RecordFilter()) == 1
        await store.insert_batch(build(settings, "a", "b"))  # "a" exists already: only "b" is new
        assert await store.count(RecordFilter()) == 2
    finally:
        await store.close()


async def test_duplicates_inside_one_batch_and_against_stored_records(settings: Settings) -> None:
    store = SqliteStore(":memory:")
    await store.open()
    try:
        first = await store.insert_batch(build(settings, "a"))
        outcomes = await store.insert_batch(build(settings, "b", "a", "b", "c"))
        assert [o.status for o in outcomes] == ["CREATED", "ALREADY_EXISTS", "ALREADY_EXISTS", "CREATED"]
        assert outcomes[1].record == first[0].record
        assert outcomes[2].record == outcomes[0].record
    finally:
        await store.close()


async def test_total_and_page_come_from_one_snapshot(tmp_path: Any, settings: Settings) -> None:
    """A write committed by another process between the count and the page shows in neither."""
    import sqlite3

    path = str(tmp_path / "snapshot.sqlite3")
    store = SqliteStore(path)
    await store.open()
    try:
        await store.insert_batch(build(settings, "a"))
        late = build(settings, "b")[0]
        counted = store._count

        def count_then_someone_writes(conn: sqlite3.Connection, filters: RecordFilter) -> int:
            total = counted(conn, filters)
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("INSERT INTO order_records (id, facility_ref, anonymized, gdpr_cleanup_ms, deletion_ms, "
                          "version, doc) VALUES (?, 'f', 0, 0, 0, 1, ?)", (bytes.fromhex(late["id"]), b"{}"))
            other.close()
            return total

        store._count = count_then_someone_writes  # type: ignore[method-assign]
        total, page = await store.list_page(RecordFilter(), None, 10)
        assert (total, len(page)) == (1, 1)
        store._count = counted  # type: ignore[method-assign]
        total, page = await store.list_page(RecordFilter(), None, 10)
        assert (total, len(page)) == (2, 2)
    finally:
        await store.close()
