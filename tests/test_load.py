"""Load on a real loopback server: 50 concurrent writers, overlapping ids, nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import aiohttp
from bson import ObjectId

from app.records import RecordBuilder
from app.settings import Settings
from app.store.sqlite import SqliteStore
from tests.conftest import NOW
from tests.factories import full_record

CLIENTS = 50
BATCH = 25
POOL = 900  # 50 x 25 = 1,250 records drawn from 900 tenant ids: many clients repeat others' ids


async def test_fifty_concurrent_writers_lose_nothing_and_store_nothing_twice(
        aiohttp_server: Any, make_app: Any, auth: dict[str, str]) -> None:
    server = await aiohttp_server(make_app())
    base = f"http://127.0.0.1:{server.port}/api/orderrecords"
    rng = random.Random(7)
    batches = [[f"tenant-{rng.randrange(POOL)}" for _ in range(BATCH)] for _ in range(CLIENTS)]
    statuses: list[int] = []
    created: dict[str, str] = {}
    outcomes: list[tuple[str, str, str]] = []

    async def writer(session: aiohttp.ClientSession, tenant_ids: list[str]) -> None:
        body = {"operations": [full_record(tenantOrderRecordId=t) for t in tenant_ids]}
        async with session.put(base, json=body, headers=auth) as response:
            statuses.append(response.status)
            for tenant_id, result in zip(tenant_ids, (await response.json())["details"], strict=True):
                record = result.get("orderRecord", {})
                outcomes.append((tenant_id, result["status"], record.get("id", "")))
                if result["status"] == "CREATED":
                    created[tenant_id] = record["id"]

    connector = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(writer(session, ids) for ids in batches))
        distinct = {t for ids in batches for t in ids}
        assert statuses == [200] * CLIENTS
        assert {status for _, status, _ in outcomes} <= {"CREATED", "UNCHANGED"}
        assert set(created) == distinct
        # every answer for a tenant id names the one stored record
        assert all(record_id == created[t] for t, _, record_id in outcomes)
        async with session.get(base, params={"size": "1"}, headers=auth) as response:
            assert (await response.json())["total"] == len(distinct)
        stored: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            params = {"size": "500", **({"startAfterId": after} if after else {})}
            async with session.get(base, params=params, headers=auth) as response:
                assert response.status == 200
                page = (await response.json())["orderRecords"]
            if not page:
                break
            stored += page
            after = page[-1]["id"]
    assert sorted(r["tenantOrderRecordId"] for r in stored) == sorted(distinct)
    assert {r["id"] for r in stored} == set(created.values())


async def test_two_sqlite_stores_on_one_file_write_concurrently(tmp_path: Any, settings: Settings) -> None:
    """Two worker processes share one file: the busy timeout serializes them, nobody sees 'database is locked'."""
    path = str(tmp_path / "shared.sqlite3")
    first, second = SqliteStore(path), SqliteStore(path)
    await first.open()
    await second.open()
    builder = RecordBuilder(settings.gdpr)

    async def write(store: SqliteStore, prefix: str) -> list[str]:
        statuses = []
        for batch in range(20):
            records = [builder.build(full_record(tenantOrderRecordId=f"{prefix}-{batch}-{i % 20}"),
                                     str(ObjectId()), NOW) for i in range(BATCH)]
            statuses += [o.status for o in await store.insert_batch(records, NOW)]
        return statuses

    try:
        results = await asyncio.gather(write(first, "a"), write(second, "a"), write(second, "b"))
        from app.store.base import RecordFilter

        assert await first.count(RecordFilter()) == 2 * 20 * 20
        assert sum(s == "CREATED" for r in results for s in r) == 2 * 20 * 20
    finally:
        await first.close()
        await second.close()
