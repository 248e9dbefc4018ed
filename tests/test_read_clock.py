"""Due or not is decided by the clock when the row is read: a read queued past the cleanup date serves no personal
data, though its request arrived before that date."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from bson import ObjectId

from app.keys import BUILDER
from app.settings import Settings
from app.store.base import Store
from app.store.sqlite import SqliteStore
from tests.conftest import NOW, FakeClock
from tests.factories import minimal_record

EMAIL = "queued.reader@example.com"


class HeldReads:
    """Holds every call into the database of `store` until released, as reads queued behind slow ones are."""

    def __init__(self, store: Store) -> None:
        self.store, self.entered, self.released = store, asyncio.Event(), asyncio.Event()
        self.name = "_run" if isinstance(store, SqliteStore) else "_call"
        self.original: Callable[..., Any] = getattr(store, self.name)

    async def _held(self, *args: Any) -> Any:
        self.entered.set()
        await self.released.wait()
        return await self.original(*args)

    def __enter__(self) -> HeldReads:
        setattr(self.store, self.name, self._held)
        return self

    def __exit__(self, *exc: object) -> None:
        delattr(self.store, self.name)


@pytest.fixture
async def record_due_in_a_second(client: TestClient, store: Store, clock: FakeClock,
                                 settings: Settings) -> AsyncIterator[dict[str, Any]]:
    order_date = NOW - timedelta(days=settings.gdpr.retention_time) + timedelta(seconds=1)
    raw = minimal_record(orderRecordDate=order_date.isoformat(), tenantOrderRecordId="queued-1",
                         consumer={"email": EMAIL, "addresses": [{"country": "DE", "firstName": "Quinn"}]})
    record = client.app[BUILDER].build(raw, str(ObjectId()), clock())
    assert not record["anonymized"]
    (outcome,) = await store.insert_batch([record], clock())
    assert EMAIL.encode() in outcome.json
    yield record


async def read_across_the_cleanup_date(clock: FakeClock, store: Store, request: Any) -> Any:
    """Start `request`, let it reach the database and wait there, pass the cleanup date, then let it go on."""
    with HeldReads(store) as held:
        task = asyncio.ensure_future(request)
        await asyncio.wait_for(held.entered.wait(), 10)
        clock.advance(seconds=2)
        held.released.set()
        return await asyncio.wait_for(task, 10)


async def test_get_queued_past_the_cleanup_date_serves_no_personal_data(
        client: TestClient, store: Store, clock: FakeClock, auth: dict[str, str],
        record_due_in_a_second: dict[str, Any]) -> None:
    response = await read_across_the_cleanup_date(
        clock, store, client.get(f"/api/orderrecords/{record_due_in_a_second['id']}", headers=auth))
    body = await response.text()
    assert response.status == 200, body
    assert EMAIL not in body and "Quinn" not in body
    assert '"anonymized":true' in body.replace(" ", "")


async def test_list_page_queued_past_the_cleanup_date_serves_no_personal_data(
        client: TestClient, store: Store, clock: FakeClock, auth: dict[str, str],
        record_due_in_a_second: dict[str, Any]) -> None:
    response = await read_across_the_cleanup_date(clock, store, client.get("/api/orderrecords", headers=auth))
    body = await response.text()
    assert response.status == 200, body
    assert record_due_in_a_second["id"] in body
    assert EMAIL not in body and "Quinn" not in body


async def test_stored_record_returned_for_a_known_id_is_judged_when_read(
        client: TestClient, store: Store, clock: FakeClock, record_due_in_a_second: dict[str, Any]) -> None:
    again = client.app[BUILDER].build(minimal_record(
        orderRecordDate=record_due_in_a_second["orderRecordDate"], tenantOrderRecordId="queued-1",
        consumer={"email": EMAIL}), str(ObjectId()), clock())
    outcomes = await read_across_the_cleanup_date(clock, store, store.insert_batch([again], clock))
    assert [o.json for o in outcomes if EMAIL.encode() in o.json] == []
