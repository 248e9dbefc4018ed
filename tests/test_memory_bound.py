"""What one list request costs the server in memory, read from /proc: a page of the largest records the service
accepts is streamed, so the server's peak RSS grows by a bounded amount, not by the page's size."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import orjson
from bson import ObjectId

from app.api.auth import READ, issue_token
from app.records import RecordBuilder
from app.settings import make_settings
from app.store.sqlite import SqliteStore
from tests.bodies import sized_record
from tests.conftest import NOW
from tests.server_process import SECRET, serving

SETTINGS = make_settings()
RECORDS = 24  # 100 MB of records: held whole, as before, the page took twice that
# The README's ceiling for one list request on SQLite: a part (limits.stream_page_bytes, 8 MiB, plus the record
# that crossed it) and the record being written. Measured: 13-20 MiB; 500 such records: the same.
CEILING_MIB = 40


async def seed(database: Path) -> None:
    builder = RecordBuilder(SETTINGS.gdpr, limits=SETTINGS.limits)
    largest = builder.build(sized_record(SETTINGS.limits.max_record_bytes), str(ObjectId()), NOW)
    store = SqliteStore(str(database))
    await store.open()
    try:
        for _ in range(RECORDS):
            await store.insert_batch([{**largest, "id": str(ObjectId())}], NOW)
    finally:
        await store.close()


async def read_page(url: str, size: int) -> tuple[int, int]:
    """(total, bytes of the body), read as it arrives."""
    headers = {"Authorization": f"Bearer {issue_token(SECRET, [READ])}"}
    received, head = 0, b""
    async with aiohttp.ClientSession() as session, session.get(f"{url}/api/orderrecords", params={"size": size},
                                                              headers=headers) as response:
        assert response.status == 200
        async for chunk in response.content.iter_chunked(1 << 20):
            head = head or chunk[:64]
            received += len(chunk)
    return int(head.split(b'"total":')[1].split(b",")[0]), received


def test_a_page_of_the_largest_records_stays_under_the_ceiling(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    asyncio.run(seed(database))
    with serving(database) as server:
        assert asyncio.run(read_page(server.url, 1))[0] == RECORDS  # warmed up: code loaded, connections made
        before = server.peak_rss_kib()
        total, received = asyncio.run(read_page(server.url, RECORDS))
        growth_mib = (server.peak_rss_kib() - before) / 1024
    assert total == RECORDS and received > RECORDS * SETTINGS.limits.max_record_bytes
    assert growth_mib < CEILING_MIB, f"peak RSS grew by {growth_mib:.0f} MiB"


def test_the_largest_record_is_what_the_service_accepts() -> None:
    record = sized_record(SETTINGS.limits.max_record_bytes)
    assert len(orjson.dumps(record)) == SETTINGS.limits.max_record_bytes
    RecordBuilder(SETTINGS.gdpr, limits=SETTINGS.limits).build(record, str(ObjectId()), NOW)  # not refused
