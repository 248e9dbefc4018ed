"""SQLite: batches that wait for the writer are committed together, and each still gets its own outcome."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest

from app.settings import Settings
from app.store.sqlite import SqliteStore
from tests.conftest import NOW
from tests.test_sqlite_store import build


@pytest.fixture
async def store(tmp_path: Any) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(str(tmp_path / "group.sqlite3"))
    await opened.open()
    yield opened
    await opened.close()


async def held_back(store: SqliteStore, *calls: Awaitable[Any]) -> list[Any]:
    """Run the calls while the writer thread is busy, so that they all queue; then let it go."""
    release, busy = threading.Event(), threading.Event()

    def block() -> None:
        busy.set()
        release.wait(10)

    blocker = asyncio.get_running_loop().run_in_executor(store._write_pool, block)
    await asyncio.get_running_loop().run_in_executor(None, busy.wait, 10)
    tasks = [asyncio.ensure_future(c) for c in calls]
    while len(store._queued) < len(calls):
        await asyncio.sleep(0.001)
    release.set()
    await blocker
    return await asyncio.gather(*tasks, return_exceptions=True)


async def test_waiting_batches_share_one_transaction(store: SqliteStore, settings: Settings) -> None:
    batches = [build(settings, f"{n}a", f"{n}b") for n in range(3)]
    sent: list[str] = []
    store._writer.set_trace_callback(sent.append)  # type: ignore[union-attr]
    results = await held_back(store, *(store.insert_batch(b, NOW) for b in batches))
    assert [[o.record["id"] for o in outcomes] for outcomes in results] == [[r["id"] for r in b] for b in batches]
    assert [q.split()[0] for q in sent if q.split()[0] in ("BEGIN", "COMMIT")] == ["BEGIN", "COMMIT"]
    # and one statement per table for all of them
    assert [q.split()[2] for q in sent if q.startswith("INSERT")] == [
        "order_records", "order_record_search", "order_record_articles", "order_record_payments"]
    for b in batches:
        for r in b:
            assert await store.get_json(r["id"], NOW) is not None


async def test_a_refused_batch_fails_alone(store: SqliteStore, settings: Settings) -> None:
    (first,) = build(settings, "x")
    await store.insert_batch([first], NOW)
    again = dict(first, tenantOrderRecordId="y")  # a stored id: a unique violation, an error
    good, later = build(settings, "g"), build(settings, "h")
    results = await held_back(store, store.insert_batch(good, NOW), store.insert_batch([again], NOW),
                              store.insert_batch(later, NOW))
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert [o.status for o in results[0]] == [o.status for o in results[2]] == ["CREATED"]
    assert await store.get_json(good[0]["id"], NOW) is not None and await store.get_json(later[0]["id"], NOW)
    side = sqlite3.connect(store.path).execute("SELECT count(*) FROM order_record_search").fetchone()[0]
    assert side == 3  # the refused batch left no search rows behind


async def test_a_tenant_id_repeated_across_grouped_batches_is_stored_once(store: SqliteStore,
                                                                          settings: Settings) -> None:
    first, second = build(settings, "same"), build(settings, "same", "other")
    one, two = await held_back(store, store.insert_batch(first, NOW), store.insert_batch(second, NOW))
    assert one[0].status == "CREATED"
    assert [o.status for o in two] == ["EXISTS", "CREATED"]
    assert two[0].record["id"] == first[0]["id"]  # the record stored by the earlier batch of the group
    assert await store.get_json(second[0]["id"], NOW) is None


async def test_a_store_error_reaches_every_batch_of_the_group(store: SqliteStore, settings: Settings,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def locked(*_: Any) -> Any:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(store, "_insert_batch", locked)
    monkeypatch.setattr(store, "_insert_group", locked)
    results = await held_back(store, store.insert_batch(build(settings, "a"), NOW),
                              store.insert_batch(build(settings, "b"), NOW))
    assert all(type(r).__name__ == "StoreUnavailable" for r in results)
