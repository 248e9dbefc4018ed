"""Resending a record (REFERENCE.md "Bulk create"): UNCHANGED only for the same content, judged by value."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from aiohttp.test_utils import TestClient

from app.store.base import Store
from app.store.mongo.search import HIDDEN_FIELDS
from app.store.sqlite import SqliteStore
from tests.conftest import NOW, FakeClock, failure, put_records
from tests.factories import full_record, minimal_record, set_path
from tests.test_configurations import GDPR, put


async def test_a_resend_equal_by_value_is_unchanged(client: TestClient, auth: dict[str, str]) -> None:
    [created] = await put_records(client, [full_record()], auth)
    same = full_record()
    same = dict(reversed(list(same.items())))  # key order ignored
    same = set_path(same, "lineItems.0.quantity", 3.0)  # numbers by value
    same = set_path(same, "orderRecordDate", "2026-11-01T09:15:00Z")  # date-times by instant
    same = set_path(same, "payments.0.value", {"value": 1477, "currency": "EUR"})  # decimalPlaces filled in
    same = set_path(same, "origin", {"terminalId": "T-7", "cashierId": "C-3"})  # origin.type filled in
    [again] = await put_records(client, [same], auth)
    assert again == {"status": "UNCHANGED", "orderRecord": created["orderRecord"]}


async def test_a_changed_resend_fails_naming_the_stored_record(client: TestClient, auth: dict[str, str]) -> None:
    [created] = await put_records(client, [full_record()], auth)
    changes = [("lineItems.0.quantity", 4), ("consumer.email", "other@example.com"),
               ("orderRecordDate", "2026-11-01T10:15:00.001+01:00"), ("payments.0.value.decimalPlaces", 3),
               ("customAttributes", None)]
    for path, value in changes:
        [result] = await put_records(client, [set_path(full_record(), path, value)], auth)
        message = failure(result)
        assert created["orderRecord"]["id"] in message and "legacy-0001" in message, path
    response = await client.get("/api/orderrecords", headers=auth)
    assert (await response.json())["total"] == 1


async def test_a_resend_after_the_sweep_is_judged_on_what_it_kept(client: TestClient, auth: dict[str, str],
                                                                   store: Store, clock: FakeClock) -> None:
    raw = full_record(orderRecordDate=(NOW - timedelta(days=89)).isoformat())
    [created] = await put_records(client, [raw], auth)
    clock.advance(days=2)
    assert await store.anonymize_due(clock.now, 100) == 1
    [again] = await put_records(client, [raw], auth)
    assert again["status"] == "UNCHANGED"
    assert again["orderRecord"]["anonymized"] is True and "email" not in again["orderRecord"]["consumer"]
    assert again["orderRecord"]["id"] == created["orderRecord"]["id"]
    # personal data is no longer compared (its digest is gone), everything else still is
    [other_mail] = await put_records(client, [set_path(raw, "consumer.email", "x@example.com")], auth)
    assert other_mail["status"] == "UNCHANGED"
    [other_line] = await put_records(client, [set_path(raw, "lineItems.0.quantity", 9)], auth)
    failure(other_line)


async def test_a_due_record_not_yet_swept_is_judged_like_a_swept_one(client: TestClient, auth: dict[str, str],
                                                                     clock: FakeClock) -> None:
    raw = full_record(orderRecordDate=(NOW - timedelta(days=89)).isoformat())
    await put_records(client, [raw], auth)
    clock.advance(days=2)
    [again] = await put_records(client, [set_path(raw, "consumer.email", "x@example.com")], auth)
    assert again["status"] == "UNCHANGED"
    assert "email" not in again["orderRecord"]["consumer"]


@pytest.mark.parametrize("actor_anonymization", [True, False])
async def test_a_resend_is_unchanged_under_either_actor_rule(client: TestClient, auth: dict[str, str],
                                                             store: Store, clock: FakeClock,
                                                             actor_anonymization: bool) -> None:
    """Served anonymized, a record keeps origin.cashierId or not by actorAnonymization: the same input resent is
    UNCHANGED whether the stored record is due, swept or anonymized at creation, and when the rule changed since."""
    rule = {"retentionTime": 90, "actorAnonymization": actor_anonymization}
    await put(client, GDPR, {"version": 0, **rule})
    raw = full_record(orderRecordDate=(NOW - timedelta(days=89)).isoformat())
    old = full_record(orderRecordDate=(NOW - timedelta(days=100)).isoformat(), tenantOrderRecordId="old-1")
    created = await put_records(client, [raw, old], auth)
    assert [d["orderRecord"]["anonymized"] for d in created] == [False, True]
    assert ("cashierId" in created[1]["orderRecord"]["origin"]) is not actor_anonymization
    expected = {"type": "POS", "terminalId": "T-7", **({} if actor_anonymization else {"cashierId": "C-3"})}
    clock.advance(days=2)  # `raw` is due, not swept
    for sweep in (False, True):
        if sweep:
            assert await store.anonymize_due(clock.now, 100) == 1
        again = await put_records(client, [raw, old], auth)
        assert [d["status"] for d in again] == ["UNCHANGED", "UNCHANGED"], sweep
        assert again[0]["orderRecord"]["origin"] == expected
        [changed] = await put_records(client, [set_path(raw, "lineItems.0.quantity", 9)], auth)
        assert created[0]["orderRecord"]["id"] in failure(changed)
    await put(client, GDPR, {"version": 1, **rule, "actorAnonymization": not actor_anonymization})
    again = await put_records(client, [raw, old], auth)
    assert [d["status"] for d in again] == ["UNCHANGED", "UNCHANGED"]


async def test_a_pricing_sent_empty_equals_one_left_out(client: TestClient, auth: dict[str, str]) -> None:
    """Both are stored as the totals alone, so nothing tells them apart: the resend is UNCHANGED."""
    [created] = await put_records(client, [minimal_record(tenantOrderRecordId="p-1", pricing={})], auth)
    [again] = await put_records(client, [minimal_record(tenantOrderRecordId="p-1")], auth)
    assert again == {"status": "UNCHANGED", "orderRecord": created["orderRecord"]}


async def test_the_store_keeps_nothing_beside_the_record(client: TestClient, auth: dict[str, str],
                                                        store: Store) -> None:
    [created] = await put_records(client, [full_record()], auth)
    record = created["orderRecord"]
    if isinstance(store, SqliteStore):
        conn = store._reader
        assert conn is not None
        columns = {row[1] for row in conn.execute("PRAGMA table_info(order_records)")}
        assert not {c for c in columns if "digest" in c}
        [(doc,)] = conn.execute("SELECT doc FROM order_records").fetchall()
        assert orjson.loads(doc) == record
    else:
        doc = await store.collection.find_one({})  # type: ignore[attr-defined]
        assert set(doc) == {"_id", *record} - {"id"} | set(HIDDEN_FIELDS)
