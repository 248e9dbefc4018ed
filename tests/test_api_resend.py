"""Resending a record (REFERENCE.md "Bulk create"): UNCHANGED only for the same content, judged by value."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient

from app.store.base import Store
from tests.conftest import NOW, FakeClock, failure, put_records
from tests.factories import full_record, set_path


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
