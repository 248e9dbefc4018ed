"""A record too large for MongoDB, end to end: the backfill tool gets that record's FAILED, never a 500 to retry."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.settings import Settings
from app.store.base import RecordFilter, Store
from scripts.backfill_lib.model import Options
from scripts.backfill_lib.runner import run
from tests.conftest import MONGODB_URI, token
from tests.factories import minimal_record
from tests.test_mongo_store import personal_record

# 1.4 million one-digit numbers: a 2.8 MB body, under the 8 MiB limit, but 17 MB of BSON (13 bytes per element).
TOO_LARGE_ARRAY = [0] * 1_400_000


@pytest.fixture(params=["mongomock", *(["mongodb"] if MONGODB_URI else [])])
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


async def test_a_backfill_with_a_record_too_large_for_mongodb_stores_every_other_record_once(
        aiohttp_server: Any, make_app: Any, store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        settings: Settings) -> None:
    caplog.set_level(logging.DEBUG)
    # The record caps (limits.*) would refuse the record first: raised here to reach the store's own defence.
    uncapped = settings.replace({"limits.max_record_bytes": 2**30, "limits.max_record_values": 10**8})
    server = await aiohttp_server(make_app(settings=uncapped))
    big, secrets = personal_record("big-1")
    big["customAttributes"] = {"readings": TOO_LARGE_ARRAY}
    # Records without tenantOrderRecordId: a retried batch would store them again, under new ids.
    lines = [minimal_record(facilityRef=f"f-{i}") for i in range(3)] + [big, minimal_record(tenantOrderRecordId="t")]
    source = tmp_path / "orders.jsonl"
    source.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    rejects = tmp_path / "rejects.jsonl"
    summary = await run(Options(inputs=[str(source)], url=str(server.make_url("")), token=token(
        "ORDER_RECORD_WRITE"), rejects=str(rejects), progress=False, retry_base_delay=0.01))
    assert (summary.created, summary.failed, summary.retried_requests, summary.exit_code) == (4, 1, 0, 1)
    [rejected] = [orjson.loads(line) for line in rejects.read_bytes().splitlines()]
    assert rejected["line"] == 4 and "too large" in rejected["error"]["message"]
    assert rejected["error"]["type"] == "UNKNOWN"
    assert await store.count(RecordFilter()) == 4
    assert [s for s in secrets if s in caplog.text] == []
