"""The GDPR sweep on every store: due records anonymized, expired ones deleted, safe when run concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import orjson
import pytest
from bson import ObjectId

from app.records import RecordBuilder
from app.settings import Settings
from app.store.base import RecordFilter, Store, StoreUnavailable
from app.sweep import SweepResult, run_sweeps, sweep_once
from tests.conftest import NOW, FakeClock, put_records
from tests.factories import full_record
from tests.realserver import MONGODB_URI

DAY_BEFORE_CLEANUP = "2026-10-01T12:00:00+00:00"  # cleanup 2026-12-30, deletion 2036-09-28
# Expired on the test clock only. A real server's TTL monitor deletes by the real time: records expired by that
# would vanish before the sweep gets to them, so these expire in 2050, long after any real date these tests see.
EXPIRES_2050 = "2040-01-10T00:00:00+00:00"  # deletion 2050-01-07
AFTER_EXPIRY = "2050-01-09T00:00:00+00:00"


@pytest.fixture
async def opened(store: Store) -> AsyncIterator[Store]:
    await store.open()
    yield store
    await store.close()


async def seed(store: Store, settings: Settings, count: int, when: datetime = NOW, prefix: str = "t",
               **fields: Any) -> list[str]:
    builder = RecordBuilder(settings.gdpr)
    records = [builder.build(full_record(tenantOrderRecordId=f"{prefix}-{i}", **fields), str(ObjectId()), when)
               for i in range(count)]
    for start in range(0, count, 25):
        await store.insert_batch(records[start:start + 25], when)
    return [r["id"] for r in records]


async def stored(store: Store, record_id: str) -> dict[str, Any]:
    body = await store.get_json(record_id, NOW)  # as stored: before any of these records is due
    assert body is not None, record_id
    return orjson.loads(body)


async def test_due_records_are_anonymized_and_nothing_else_changes(opened: Store, settings: Settings) -> None:
    ids = await seed(opened, settings, 3, orderRecordDate=DAY_BEFORE_CLEANUP)
    before = await stored(opened, ids[0])
    clock = FakeClock(datetime.fromisoformat("2026-12-29T12:00:00+00:00"))
    assert await sweep_once(opened, clock, settings.gdpr) == SweepResult(0, 0)
    clock.advance(days=1)  # now exactly at gdprCleanupDate
    result = await sweep_once(opened, clock, settings.gdpr)
    assert (result.anonymized, result.deleted) == (3, 0)
    after = await stored(opened, ids[0])
    assert after["anonymized"] is True
    assert after["version"] == 2
    assert after["lastModified"] == "2026-12-30T12:00:00.000Z"
    assert after["consumer"] == {"addresses": [{"country": "DE"}]}
    assert after["origin"] == {"type": "POS", "terminalId": "T-7"}  # the cashier (an actor) goes too
    unchanged = {k: v for k, v in before.items()
                 if k not in ("consumer", "origin", "anonymized", "version", "lastModified")}
    assert {k: v for k, v in after.items() if k in unchanged} == unchanged
    assert set(after) == set(before)


async def test_second_sweep_changes_nothing(opened: Store, settings: Settings) -> None:
    ids = await seed(opened, settings, 2, orderRecordDate=DAY_BEFORE_CLEANUP)
    clock = FakeClock(datetime.fromisoformat("2027-01-15T00:00:00+00:00"))
    assert (await sweep_once(opened, clock, settings.gdpr)).anonymized == 2
    first = [await stored(opened, i) for i in ids]
    clock.advance(days=1)
    assert (await sweep_once(opened, clock, settings.gdpr)).anonymized == 0
    assert [await stored(opened, i) for i in ids] == first


async def test_sweeps_in_bounded_batches_until_done(opened: Store, settings: Settings) -> None:
    small = settings.replace({"gdpr.sweep_batch_size": 4})
    await seed(opened, small, 10, orderRecordDate=DAY_BEFORE_CLEANUP)
    calls: list[int] = []
    original = opened.anonymize_due

    async def counting(now: datetime, limit: int) -> int:
        calls.append(limit)
        return await original(now, limit)

    opened.anonymize_due = counting  # type: ignore[method-assign]
    result = await sweep_once(opened, FakeClock(datetime.fromisoformat("2027-02-01T00:00:00+00:00")), small.gdpr)
    assert result.anonymized == 10
    assert calls == [4, 4, 4, 4]  # 4, 4, 2, then one that finds nothing left


async def test_two_concurrent_sweeps_anonymize_each_record_once(
        store_kind: str, opened: Store, settings: Settings, tmp_path: Any) -> None:
    ids = await seed(opened, settings, 40, orderRecordDate=DAY_BEFORE_CLEANUP)
    other = _second_instance(store_kind, opened)
    if other is not opened:
        await other.open()
    clock = FakeClock(datetime.fromisoformat("2027-01-15T00:00:00+00:00"))
    small = settings.replace({"gdpr.sweep_batch_size": 7})
    try:
        results = await asyncio.gather(sweep_once(opened, clock, small.gdpr), sweep_once(other, clock, small.gdpr))
    finally:
        if other is not opened:
            await other.close()
    assert sum(r.anonymized for r in results) == 40
    versions = {(await stored(opened, i))["version"] for i in ids}
    assert versions == {2}


def _second_instance(store_kind: str, store: Store) -> Store:
    """Another store object on the same database, as a second service instance would have."""
    from app.store.mongo import MongoStore
    from app.store.sqlite import SqliteStore

    if isinstance(store, SqliteStore):
        return store if store_kind == "sqlite-memory" else SqliteStore(store.path)
    assert isinstance(store, MongoStore)
    if store_kind == "mongomock":  # its clients do not share data: the same one, closed with the first store
        return store
    from pymongo import AsyncMongoClient

    # A client of its own, as another instance has: closing it must leave the first store's client working.
    return MongoStore(AsyncMongoClient(MONGODB_URI, serverSelectionTimeoutMS=5000), store.collection.database.name)


async def test_a_crash_mid_sweep_leaves_records_whole_and_the_next_sweep_finishes(
        opened: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await seed(opened, settings, 6, orderRecordDate=DAY_BEFORE_CLEANUP)
    import app.domain.gdpr as gdpr_rules

    real = gdpr_rules.cleaned_up
    calls = {"n": 0}

    def crashing(record: dict[str, Any], actor_anonymization: bool) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("process killed")
        return real(record, actor_anonymization)

    for module in ("app.store.sqlite.records", "app.store.mongo.records"):
        monkeypatch.setattr(f"{module}.cleaned_up", crashing)
    clock = FakeClock(datetime.fromisoformat("2027-01-15T00:00:00+00:00"))
    with pytest.raises(RuntimeError):
        await sweep_once(opened, clock, settings.gdpr)
    for record in [await stored(opened, i) for i in ids]:
        whole = record["version"] == 2 and record["anonymized"] and "email" not in record["consumer"]
        untouched = record["version"] == 1 and not record["anonymized"] and "email" in record["consumer"]
        assert whole or untouched, record
    monkeypatch.undo()
    await sweep_once(opened, clock, settings.gdpr)
    assert all([(await stored(opened, i))["anonymized"] for i in ids])


async def test_expired_records_are_deleted_by_the_sweep(opened: Store, settings: Settings) -> None:
    old = await seed(opened, settings, 2, orderRecordDate=EXPIRES_2050)
    young = await seed(opened, settings, 1, orderRecordDate="2049-11-01T00:00:00+00:00", prefix="y")
    clock = FakeClock(datetime.fromisoformat(AFTER_EXPIRY))
    result = await sweep_once(opened, clock, settings.gdpr)
    assert result.deleted == 2
    assert [await opened.get_json(i, NOW) for i in old] == [None, None]
    assert await opened.get_json(young[0], NOW) is not None
    assert await opened.count(RecordFilter()) == 1


async def test_expired_records_are_deleted_in_bounded_batches(opened: Store, settings: Settings) -> None:
    small = settings.replace({"gdpr.sweep_batch_size": 4})
    await seed(opened, small, 10, orderRecordDate=EXPIRES_2050)
    deleted: list[int] = []
    original = opened.purge_expired

    async def counting(now: datetime, limit: int) -> int:
        deleted.append(done := await original(now, limit))
        assert done <= limit
        return done

    opened.purge_expired = counting  # type: ignore[method-assign]
    result = await sweep_once(opened, FakeClock(datetime.fromisoformat(AFTER_EXPIRY)), small.gdpr)
    assert (result.deleted, deleted) == (10, [4, 4, 2, 0])
    assert await opened.count(RecordFilter()) == 0


class ShortBatches:
    """A store whose batches come back short, as when another instance's sweep takes part of each."""

    def __init__(self, anonymized: list[int], deleted: list[int]) -> None:
        self.anonymized, self.deleted = anonymized, deleted

    async def anonymize_due(self, now: datetime, limit: int) -> int:
        return self.anonymized.pop(0)

    async def purge_expired(self, now: datetime, limit: int) -> int:
        return self.deleted.pop(0)

    async def scrub(self) -> bool:
        return True


async def test_a_short_batch_does_not_end_the_sweep(settings: Settings) -> None:
    store = ShortBatches([3, 1, 4, 0], [2, 0])
    small = settings.replace({"gdpr.sweep_batch_size": 4})
    assert await sweep_once(store, FakeClock(NOW), small.gdpr) == SweepResult(8, 2)  # type: ignore[arg-type]
    assert store.anonymized == store.deleted == []


async def test_the_sweep_survives_database_errors(opened: Store, settings: Settings,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    ids = await seed(opened, settings, 2, orderRecordDate=DAY_BEFORE_CLEANUP)
    original = opened.anonymize_due
    failures = {"left": 2}

    async def flaky(now: datetime, limit: int) -> int:
        if failures["left"]:
            failures["left"] -= 1
            raise StoreUnavailable("connection refused")
        return await original(now, limit)

    opened.anonymize_due = flaky  # type: ignore[method-assign]
    fast = settings.replace({"gdpr.sweep_interval_seconds": 0.01})
    clock = FakeClock(datetime.fromisoformat("2027-01-15T00:00:00+00:00"))
    task = asyncio.create_task(run_sweeps(opened, clock, fast.gdpr))
    for _ in range(200):
        await asyncio.sleep(0.01)
        if (await stored(opened, ids[1]))["anonymized"]:
            break
    assert not task.done()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert all([(await stored(opened, i))["anonymized"] for i in ids])
    assert sum("GDPR sweep failed" in r.getMessage() for r in caplog.records) == 2


async def test_the_app_runs_the_sweep_in_the_background(aiohttp_client: Any, make_app: Any, settings: Settings,
                                                       clock: FakeClock, auth: dict[str, str], store: Store) -> None:
    fast = settings.replace({"gdpr.sweep_interval_seconds": 0.02})
    client = await aiohttp_client(make_app(settings=fast, sweep=True))
    [result] = await put_records(client, [full_record(orderRecordDate=DAY_BEFORE_CLEANUP)], auth)
    record_id = result["orderRecord"]["id"]
    clock.advance(days=40)
    for _ in range(150):
        await asyncio.sleep(0.02)
        body = await stored(store, record_id)  # as stored, not as served
        if body["anonymized"]:
            break
    assert body["anonymized"] is True
    assert "email" not in body["consumer"]


async def test_a_due_record_is_never_served_with_personal_data(client: Any, clock: FakeClock, auth: dict[str, str],
                                                              store: Store, settings: Settings) -> None:
    """Between its gdprCleanupDate and the sweep, every read serves what the sweep will store."""
    given = full_record(orderRecordDate=DAY_BEFORE_CLEANUP, tenantOrderRecordId="t-1")
    young = full_record(orderRecordDate="2026-11-20T00:00:00+00:00", tenantOrderRecordId="t-2")  # due in 2027
    [created, young_created] = await put_records(client, [given, young], auth)
    record = created["orderRecord"]
    assert record["consumer"]["email"] and record["gdprCleanupDate"] == "2026-12-30T12:00:00.000Z"
    clock.advance(days=35)  # 2026-12-30T12:00:00Z: exactly the cleanup date; no sweep has run

    async def served() -> list[Any]:
        one = await (await client.get(f"/api/orderrecords/{record['id']}", headers=auth)).json()
        page = (await (await client.get("/api/orderrecords", headers=auth)).json())["orderRecords"]
        assert page[1] == young_created["orderRecord"]  # the one not due yet: as stored, e-mail and all
        [again] = await put_records(client, [given], auth)
        assert again["status"] == "UNCHANGED"
        return [one, page[0], again["orderRecord"]]

    expected = {**record, "anonymized": True, "version": 2, "lastModified": "2026-12-30T12:00:00.000Z",
                "consumer": {"addresses": [{"country": "DE"}]}, "origin": {"type": "POS", "terminalId": "T-7"}}
    assert await served() == [expected] * 3
    assert (await stored(store, record["id"]))["consumer"]["email"]  # still as stored: the sweep has not run
    assert (await sweep_once(store, clock, settings.gdpr)).anonymized == 1
    assert await stored(store, record["id"]) == expected  # the sweep stores exactly what was served
    assert await served() == [expected] * 3


async def test_indexes_back_the_sweep(store_kind: str, opened: Store) -> None:
    if store_kind.startswith("sqlite"):
        conn = opened._writer  # type: ignore[attr-defined]
        due = conn.execute("EXPLAIN QUERY PLAN SELECT id FROM order_records WHERE anonymized = 0 "
                           "AND gdpr_cleanup_ms <= 1 ORDER BY gdpr_cleanup_ms LIMIT 5").fetchall()
        expired = conn.execute("EXPLAIN QUERY PLAN DELETE FROM order_records WHERE deletion_ms <= 1").fetchall()
        assert "ix_order_records_gdpr_due" in str(due)
        assert "ix_order_records_deletion" in str(expired)
        return
    info = await opened.collection.index_information()  # type: ignore[attr-defined]
    ttl = info["deletionDate_ttl"]
    assert ttl["key"] == [("deletionDate", 1)]
    assert ttl["expireAfterSeconds"] == 0
    due = info["gdprCleanupDate_due"]
    assert due["partialFilterExpression"] == {"anonymized": False}
