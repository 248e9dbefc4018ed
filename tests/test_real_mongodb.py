"""On a real MongoDB-protocol server only: the TTL index, two sweeping processes, and the server killed mid-backfill."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from bson import ObjectId

from app.domain.instants import format_instant, utc_now
from app.factory import create_app
from app.records import RecordBuilder
from app.settings import Settings, make_settings
from app.store.mongo import MongoStore
from scripts.backfill_lib.model import Options
from scripts.backfill_lib.runner import run
from scripts.make_sample_data import generate_records
from tests.conftest import SECRET, token
from tests.factories import full_record
from tests.realserver import (
    MONGODB_URI,
    TTL_MONITOR_SECONDS,
    Secantus,
    database_name,
    drop_database,
    needs_secantus,
    needs_server,
    sync_client,
)

RECORDS = 60
SLACK_SECONDS = 3.0  # one pass of the TTL monitor over every collection of a loaded server, and our polling


@pytest.fixture
async def real_store() -> AsyncIterator[MongoStore]:
    """An opened store on a database of its own on the real server, dropped afterwards."""
    from pymongo import AsyncMongoClient

    store = MongoStore(AsyncMongoClient(MONGODB_URI, serverSelectionTimeoutMS=5000), database_name())
    await store.open()
    yield store
    await store.close()
    await asyncio.to_thread(drop_database, store.collection.database.name)


def record_dated(settings: Settings, order_date: datetime, now: datetime, **fields: Any) -> dict[str, Any]:
    raw = full_record(orderRecordDate=format_instant(order_date), **fields)
    return RecordBuilder(settings.gdpr).build(raw, str(ObjectId()), now)


@needs_server
async def test_the_ttl_index_deletes_an_expired_record_within_the_monitor_interval(
        real_store: MongoStore, settings: Settings) -> None:
    """Deletion without any code of ours: the server's TTL monitor, on the index the store creates. Real time: the
    monitor knows no other clock."""
    gdpr = settings.gdpr
    now, retention = utc_now(), timedelta(days=gdpr.retention_time + gdpr.deletion_time_after_retention)
    expiring = record_dated(settings, now + timedelta(seconds=2) - retention, now, tenantOrderRecordId="expiring")
    kept = record_dated(settings, now - timedelta(days=1), now, tenantOrderRecordId="kept")
    assert [o.status for o in await real_store.insert_batch([expiring, kept], now)] == ["CREATED", "CREATED"]
    deletion = datetime.fromisoformat(expiring["deletionDate"])
    collection = real_store.collection
    while await collection.find_one({"_id": ObjectId(expiring["id"])}, {"_id": 1}) is not None:
        late = (utc_now() - deletion).total_seconds()
        assert late <= TTL_MONITOR_SECONDS + SLACK_SECONDS, f"still there {late:.1f} s after its deletionDate"
        await asyncio.sleep(0.1)
    assert utc_now() >= deletion  # not before its time
    assert await collection.find_one({"_id": ObjectId(kept["id"])}, {"_id": 1}) is not None


@needs_server
async def test_two_service_processes_sweeping_one_database_anonymize_each_record_once(
        real_store: MongoStore, settings: Settings) -> None:
    """`python -m app gdpr-sweep` twice at once: two processes, two clients, one database. Small batches, so the
    two sweeps overlap (SecantusDB takes a while for each; on mongod they may not, which proves less, not wrong)."""
    now = utc_now()
    ordered = now - timedelta(days=settings.gdpr.retention_time, hours=1)  # due an hour ago
    records = [record_dated(settings, ordered, now - timedelta(hours=2), tenantOrderRecordId=f"s-{i}")
               for i in range(RECORDS)]
    for start in range(0, len(records), 25):
        await real_store.insert_batch(records[start:start + 25], now)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDER_RECORDS_")} | {
        "ORDER_RECORDS_MONGODB_URI": MONGODB_URI, "ORDER_RECORDS_GDPR_SWEEP_BATCH_SIZE": "2",
        "ORDER_RECORDS_MONGODB_DATABASE": real_store.collection.database.name}
    procs = [await asyncio.create_subprocess_exec(sys.executable, "-m", "app", "gdpr-sweep", env=env,
                                                  stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
             for _ in range(2)]
    outputs = [await asyncio.wait_for(p.communicate(), 120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    counts = [int(out.split()[1].rstrip(b",")) for out, _ in outputs]  # "anonymized N, deleted M"
    assert sum(counts) == RECORDS, outputs
    stored = await real_store.collection.find({}, {"version": 1, "anonymized": 1, "consumer": 1}).to_list(None)
    assert len(stored) == RECORDS
    assert {(d["version"], d["anonymized"], "email" in d["consumer"]) for d in stored} == {(2, True, False)}


@needs_secantus
async def test_the_server_killed_under_a_backfill_gives_503_then_every_record_stored_once(
        aiohttp_server: Any, tmp_path: Path) -> None:
    """SIGKILL the database while a backfill runs, restart it on the same data: the service answers 503 meanwhile,
    recovers by itself, and the backfill's retries leave every record stored exactly once."""
    secantus = Secantus(tmp_path)
    await secantus.start()
    try:
        settings = make_settings({"mongodb.uri": secantus.uri, "mongodb.database": "faults", "jwt.secret": SECRET,
                                  "mongodb.server_selection_timeout_ms": 1000, "mongodb.connect_timeout_ms": 1000,
                                  "mongodb.socket_timeout_ms": 5000})
        server = await aiohttp_server(create_app(settings, sweep=False))
        records = list(generate_records(1500, seed=15))
        source = tmp_path / "orders.jsonl"
        source.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
        first_batch = asyncio.Event()
        options = Options(inputs=[str(source)], url=str(server.make_url("")), token=token("ORDER_RECORD_WRITE"),
                          rejects=str(tmp_path / "rejects.jsonl"), progress=False,
                          on_batch_done=lambda batch: first_batch.set())
        backfill = asyncio.create_task(run(options))
        await asyncio.wait_for(first_batch.wait(), 60)
        secantus.kill()
        assert not backfill.done()
        async with aiohttp.ClientSession(server.make_url("")) as http:
            async def answer(path: str) -> tuple[int, str | None]:
                async with http.get(path, headers={"Authorization": f"Bearer {token('ORDER_RECORD_READ')}"}) as r:
                    return r.status, r.headers.get("Retry-After")

            assert await answer("/api/orderrecords") == (503, "5")
            assert [(await answer(p))[0] for p in ("/ready", "/health")] == [503, 200]
            await secantus.start()  # the same port and data directory
            summary = await asyncio.wait_for(backfill, 300)
            assert (summary.exit_code, summary.failed, summary.fatal) == (0, 0, None)
            assert summary.retried_requests > 0 and summary.created + summary.unchanged == len(records)
            assert (await answer("/ready"))[0] == 200  # the same service, never restarted
        with sync_client(secantus.uri) as client:
            stored = [d["tenantOrderRecordId"] for d in client["faults"]["orderRecords"].find(
                {}, {"tenantOrderRecordId": 1})]
        assert sorted(stored) == sorted(r["tenantOrderRecordId"] for r in records)  # each once, none missing
    finally:
        secantus.stop()
