"""Pages whose records hold more than limits.stream_page_bytes are streamed in parts: the same page, not held whole."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp.test_utils import TestClient
from bson import ObjectId

from app.keys import BUILDER
from app.settings import Settings
from app.store.base import PagePart, RecordFilter, Store, StoreUnavailable
from tests.bodies import sized_record
from tests.conftest import NOW, FakeClock
from tests.contract import validate

BUDGET = 65536  # the smallest allowed: a part ends after about six of these 10 KB records
RECORD_BYTES = 10_000


@pytest.fixture
async def streaming(aiohttp_client: Any, make_app: Any, settings: Settings) -> TestClient:
    return await aiohttp_client(make_app(settings=settings.replace({"limits.stream_page_bytes": BUDGET})))


async def seed(client: TestClient, store: Store, count: int, **fields: Any) -> list[str]:
    builder = client.app[BUILDER]
    records = [builder.build(sized_record(RECORD_BYTES, facilityRef=f"f-{i % 2}", consumer={"email": f"p{i}@x.org"},
                                          **fields), str(ObjectId()), NOW) for i in range(count)]
    for start in range(0, count, 25):
        await store.insert_batch(records[start:start + 25], NOW)
    return sorted(r["id"] for r in records)


def parsed(part: PagePart) -> list[dict[str, Any]]:
    return orjson.loads(b"[%b]" % part.records)  # type: ignore[no-any-return]


async def expected(store: Store, query: dict[str, Any], clock: FakeClock) -> dict[str, Any]:
    filters = RecordFilter(query.get("facilityRef"))
    total, part = await store.list_part(filters, query.get("startAfterId"), int(query.get("size", 20)), clock())
    assert part.resume_after is None
    return {"total": total, "orderRecords": parsed(part)}


@pytest.mark.parametrize("query", [{"size": "40"}, {"size": "500"}, {"size": "13", "facilityRef": "f-1"},
                                   {"size": "30", "startAfterId": "third"}])
async def test_a_streamed_page_is_the_page(streaming: TestClient, store: Store, clock: FakeClock,
                                           auth: dict[str, str], query: dict[str, str]) -> None:
    ids = await seed(streaming, store, 60)
    query = {k: ids[2] if v == "third" else v for k, v in query.items()}
    response = await streaming.get("/api/orderrecords", params=query, headers=auth)
    assert response.status == 200
    assert response.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in response.headers
    assert response.content_type == "application/json"
    assert response.headers.get("X-Request-ID")  # out with the status line, before error_middleware saw the answer
    page = orjson.loads(await response.read())
    assert page == await expected(store, query, clock)
    assert validate("OrderRecords", page, strict=True) == []  # what the contract middleware cannot see of a stream


async def test_a_page_within_the_budget_is_one_body(streaming: TestClient, store: Store, clock: FakeClock,
                                                    auth: dict[str, str]) -> None:
    await seed(streaming, store, 10)
    response = await streaming.get("/api/orderrecords", params={"size": "5"}, headers=auth)
    assert response.headers.get("Content-Length") == str(len(await response.read()))
    assert orjson.loads(await response.read()) == await expected(store, {"size": 5}, clock)


async def test_records_due_meanwhile_are_streamed_without_personal_data(streaming: TestClient, store: Store,
                                                                         clock: FakeClock, auth: dict[str, str],
                                                                         settings: Settings) -> None:
    order_date = NOW - timedelta(days=settings.gdpr.retention_time) + timedelta(hours=1)
    await seed(streaming, store, 30, orderRecordDate=order_date.isoformat())
    clock.advance(hours=2)
    body = await (await streaming.get("/api/orderrecords", params={"size": "30"}, headers=auth)).read()
    records = orjson.loads(body)["orderRecords"]
    assert len(records) == 30 and all(r["anonymized"] for r in records)
    assert b"@x.org" not in body


async def test_a_store_failure_mid_stream_breaks_the_body_off(streaming: TestClient, store: Store,
                                                              auth: dict[str, str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    await seed(streaming, store, 30)
    calls = []
    original = store.list_part

    async def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if len(calls) > 1:
            raise StoreUnavailable("gone")
        return await original(*args, **kwargs)

    monkeypatch.setattr(store, "list_part", failing)
    response = await streaming.get("/api/orderrecords", params={"size": "30"}, headers=auth)
    assert response.status == 200  # sent before the failure
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()  # a client never takes a cut-off page for a whole one


async def test_a_record_larger_than_the_budget_is_listed_and_read_whole(streaming: TestClient, store: Store,
                                                                        auth: dict[str, str]) -> None:
    builder = streaming.app[BUILDER]
    big = builder.build(sized_record(3 * BUDGET), str(ObjectId()), NOW)
    await store.insert_batch([big], NOW)
    page = orjson.loads(await (await streaming.get("/api/orderrecords", headers=auth)).read())
    assert [r["id"] for r in page["orderRecords"]] == [big["id"]]
    # SQLite refuses to join more than the budget by lowering its length limit for one statement: never for longer
    for _ in range(2):
        response = await streaming.get(f"/api/orderrecords/{big['id']}", headers=auth)
        assert response.status == 200 and orjson.loads(await response.read()) == page["orderRecords"][0]


async def test_a_joined_part_is_its_records_in_id_order(store: Store, streaming: TestClient, clock: FakeClock) -> None:
    ids = await seed(streaming, store, 12)
    total, whole = await store.list_part(RecordFilter(), None, 12, clock())
    assert (total, whole.count, whole.resume_after) == (12, 12, None)
    assert [r["id"] for r in parsed(whole)] == ids
    _, first = await store.list_part(RecordFilter(), None, 12, clock(), BUDGET)
    assert first.resume_after == ids[first.count - 1] and 0 < first.count < 12
    _, rest = await store.list_part(RecordFilter(), first.resume_after, 12, clock(), BUDGET, with_total=False)
    assert [r["id"] for r in parsed(first) + parsed(rest)] == ids[:first.count + rest.count]
    _, empty = await store.list_part(RecordFilter(), ids[-1], 12, clock())
    assert (empty.records, empty.count, parsed(empty)) == (b"", 0, [])
