"""What the configurations change: record dates before and after a change, actorAnonymization, the switch."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient
from bson import ObjectId

import app.__main__ as cli
from app.domain.instants import utc_now
from app.records import RecordBuilder
from app.store.base import Store
from app.store.sqlite import SqliteStore
from app.sweep import sweep_once
from tests.conftest import NOW, FakeClock, put_records
from tests.factories import full_record, minimal_record
from tests.test_configurations import GDPR, ORDER_RECORDS, get, put

RECORDS = "/api/orderrecords"


def at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


async def test_new_records_take_the_configuration_in_force_and_stored_ones_keep_their_dates(
        client: TestClient, auth: dict[str, str]) -> None:
    [before] = await put_records(client, [minimal_record(orderRecordDate="2026-11-20T00:00:00+00:00",
                                                         tenantOrderRecordId="before")], auth)
    stored_before = before["orderRecord"]
    assert (stored_before["gdprCleanupDate"], stored_before["deletionDate"]) == (
        "2027-02-18T00:00:00.000Z", "2036-11-17T00:00:00.000Z")  # 90 days, then 3560 more
    await put(client, GDPR, {"version": 0, "retentionTime": 10, "deletionTimeAfterRetention": 20})
    [after] = await put_records(client, [minimal_record(orderRecordDate="2026-11-20T00:00:00+00:00",
                                                        tenantOrderRecordId="after")], auth)
    assert (after["orderRecord"]["gdprCleanupDate"], after["orderRecord"]["deletionDate"]) == (
        "2026-11-30T00:00:00.000Z", "2026-12-20T00:00:00.000Z")
    again = await client.get(f"{RECORDS}/{stored_before['id']}", headers=auth)
    assert await again.json() == stored_before


async def test_a_shorter_retention_refuses_records_past_it_and_anonymizes_at_creation(
        client: TestClient, auth: dict[str, str]) -> None:
    await put(client, GDPR, {"version": 0, "retentionTime": 5, "deletionTimeAfterRetention": 5})
    results = await put_records(client, [full_record(orderRecordDate=at(6), tenantOrderRecordId="old"),
                                         full_record(orderRecordDate=at(11), tenantOrderRecordId="gone")], auth)
    assert [r["status"] for r in results] == ["CREATED", "FAILED"]
    assert results[0]["orderRecord"]["anonymized"] is True
    assert "10 days" in orjson.dumps(results[1]).decode()


@pytest.mark.parametrize("actor_anonymization", [True, False])
async def test_actor_anonymization_at_creation(client: TestClient, auth: dict[str, str],
                                               actor_anonymization: bool) -> None:
    await put(client, GDPR, {"version": 0, "retentionTime": 90, "actorAnonymization": actor_anonymization})
    [result] = await put_records(client, [full_record(orderRecordDate=at(100))], auth)
    record = result["orderRecord"]
    assert record["anonymized"] is True and "email" not in record["consumer"]
    expected = {"type": "POS", "terminalId": "T-7", **({} if actor_anonymization else {"cashierId": "C-3"})}
    assert record["origin"] == expected
    stored = await client.get(f"{RECORDS}/{record['id']}", headers=auth)
    assert (await stored.json())["origin"] == expected


@pytest.mark.parametrize("actor_anonymization", [True, False])
async def test_the_value_in_force_when_anonymized_applies_on_reads_and_in_the_sweep(
        client: TestClient, auth: dict[str, str], clock: FakeClock, store: Store, settings: Any,
        actor_anonymization: bool) -> None:
    # created under the default (true), not due yet; the switch changes before it is anonymized
    [result] = await put_records(client, [full_record(orderRecordDate=at(89))], auth)
    record_id = result["orderRecord"]["id"]
    assert result["orderRecord"]["origin"]["cashierId"] == "C-3"
    await put(client, GDPR, {"version": 0, "retentionTime": 90, "actorAnonymization": actor_anonymization})
    clock.advance(days=2)
    expected = {"type": "POS", "terminalId": "T-7", **({} if actor_anonymization else {"cashierId": "C-3"})}
    served = await (await client.get(f"{RECORDS}/{record_id}", headers=auth)).json()
    assert served["anonymized"] is True and served["origin"] == expected  # due, before the sweep
    page = await (await client.get(RECORDS, headers=auth)).json()
    assert page["orderRecords"] == [served]
    assert (await sweep_once(store, clock, settings.gdpr)).anonymized == 1
    assert orjson.loads(await store.get_json(record_id, clock()) or b"{}") == served


async def test_the_switch_stops_bulk_create_and_nothing_else(client: TestClient, auth: dict[str, str]) -> None:
    [kept] = await put_records(client, [minimal_record(tenantOrderRecordId="kept")], auth)
    await put(client, ORDER_RECORDS, {"version": 0, "isOrderRecordsEnabled": False}, 201)
    refused = await client.put(RECORDS, json={"orderRecords": [minimal_record(tenantOrderRecordId="new")]},
                               headers=auth)
    assert refused.status == 403
    assert "disabled" in await refused.text()
    page = await (await client.get(RECORDS, headers=auth)).json()
    assert page == {"total": 1, "orderRecords": [kept["orderRecord"]]}
    one = await client.get(f"{RECORDS}/{kept['orderRecord']['id']}", headers=auth)
    assert one.status == 200
    await put(client, ORDER_RECORDS, {"version": 1, "isOrderRecordsEnabled": True})
    [created] = await put_records(client, [minimal_record(tenantOrderRecordId="new")], auth)
    assert created["status"] == "CREATED"


async def test_disabled_by_the_settings_until_a_put_enables_it(aiohttp_client: Any, make_app: Any, settings: Any,
                                                               auth: dict[str, str]) -> None:
    client = await aiohttp_client(make_app(settings=settings.replace({"orderrecords.enabled": False})))
    body = {"orderRecords": [minimal_record()]}
    assert (await client.put(RECORDS, json=body, headers=auth)).status == 403
    assert (await get(client, ORDER_RECORDS))["isOrderRecordsEnabled"] is False
    await put(client, ORDER_RECORDS, {"version": 0, "isOrderRecordsEnabled": True}, 201)
    [created] = await put_records(client, [minimal_record()], auth)
    assert created["status"] == "CREATED"


@pytest.mark.parametrize("actor_anonymization", [True, False])
async def test_the_command_line_sweep_anonymizes_as_the_stored_configuration_says(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, settings: Any, actor_anonymization: bool) -> None:
    path = str(tmp_path / "db.sqlite3")
    store = SqliteStore(path)
    await store.open()
    try:
        await store.configurations.put("gdpr", {"retentionTime": 90, "deletionTimeAfterRetention": 3560,
                                                "actorAnonymization": actor_anonymization}, 0, NOW)
        created = utc_now() - timedelta(days=2)  # due a day ago: the sweep below is the first to see it
        record = RecordBuilder(settings.gdpr).build(full_record(orderRecordDate=(created - timedelta(days=89))
                                                                .isoformat()), str(ObjectId()), created)
        assert record["anonymized"] is False
        await store.insert_batch([record], created)
    finally:
        await store.close()
    monkeypatch.setenv("ORDER_RECORDS_SQLITE_PATH", path)
    monkeypatch.setenv("ORDER_RECORDS_MONGODB_URI", "")
    assert await asyncio.to_thread(cli.main, ["gdpr-sweep"]) == 0
    store = SqliteStore(path)
    await store.open()
    try:
        swept = orjson.loads(await store.get_json(record["id"], created) or b"{}")
    finally:
        await store.close()
    assert swept["anonymized"] is True and "email" not in swept["consumer"]
    assert ("cashierId" in swept["origin"]) is not actor_anonymization
