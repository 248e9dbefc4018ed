"""searchOrderRecord refusals: the official and our limits, unsupported fields, cursor misuse, permissions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.api.auth import WRITE
from app.search.relative import BadDuration, resolve
from tests.conftest import bearer
from tests.search_data import URL, records_fixture, search  # noqa: F401  (a fixture)


def nested(depth: int) -> dict[str, Any]:
    query: dict[str, Any] = {"tenantOrderRecordId": {"eq": "x"}}
    for _ in range(depth):
        query = {"and": [query]}
    return query


REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("no query", {}, "query"),
    ("size 0", {"query": {}, "size": 0}, "size"),
    ("size 251", {"query": {}, "size": 251}, "size"),
    ("size fraction", {"query": {}, "size": 2.5}, "size"),
    ("size string", {"query": {}, "size": "5"}, "size"),
    ("last 251", {"query": {}, "last": 251}, "last"),
    ("size and last", {"query": {}, "size": 5, "last": 5}, "size"),
    ("after and before", {"query": {}, "after": "x", "before": "y"}, "after"),
    ("before and size", {"query": {}, "before": "x", "size": 2}, "before"),
    ("in over 25", {"query": {"tenantOrderRecordId": {"in": [str(i) for i in range(26)]}}}, "in"),
    ("eq over 256", {"query": {"tenantOrderRecordId": {"eq": "x" * 257}}}, "eq"),
    ("and over 500", {"query": {"and": [{}] * 501}}, "and"),
    ("or over 500", {"query": {"or": [{}] * 501}}, "or"),
    ("nested 9 deep", {"query": nested(9)}, "query.and"),
    ("over 1000 leaves", {"query": {"or": [{"and": [{"tenantOrderRecordId": {"eq": "x"}}] * 101}] * 10}},
     "1000"),
    ("facilityName filter", {"query": {"facilityName": {"eq": "Berlin"}}}, "facilityName"),
    ("facilityName nested", {"query": {"or": [{"facilityName": {"eq": "Berlin"}}]}}, "facilityName"),
    ("facilityName sort", {"query": {}, "sort": [{"facilityName": "ASC"}]}, "facilityName"),
    ("facilityCountry sort", {"query": {}, "sort": [{"facilityCountry": "DESC"}]}, "facilityCountry"),
    ("two sorts", {"query": {}, "sort": [{"orderRecordDate": "ASC"}, {"tenantOrderRecordId": "ASC"}]}, "sort"),
    ("two keys in a sort", {"query": {}, "sort": [{"orderRecordDate": "ASC", "tenantOrderRecordId": "ASC"}]},
     "sort"),
    ("bad direction", {"query": {}, "sort": [{"orderRecordDate": "UP"}]}, "orderRecordDate"),
    ("unknown filter", {"query": {"facilityRef": {"eq": "x"}}}, "facilityRef"),
    ("empty string filter", {"query": {"tenantOrderRecordId": {}}}, "tenantOrderRecordId"),
    ("bad date", {"query": {"orderRecordDate": {"gt": "yesterday"}}}, "gt"),
    ("date without offset", {"query": {"orderRecordDate": {"gt": "2026-01-01T00:00:00"}}}, "gt"),
    ("bad relative", {"query": {"orderRecordDate": {"after": "-P1.5M"}}}, "after"),
    ("garbled cursor", {"query": {}, "after": "not-a-cursor"}, "after"),
    ("bad startAfterId", {"query": {}, "startAfterId": "xyz"}, "startAfterId"),
    ("startAfterId with a sort", {"query": {}, "startAfterId": "0" * 24, "sort": [{"orderRecordDate": "ASC"}]},
     "startAfterId"),
    ("exists not boolean", {"query": {"payments": {"exists": "yes"}}}, "exists"),
]


@pytest.mark.parametrize(("name", "body", "named"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_refused(client: Any, name: str, body: dict[str, Any], named: str) -> None:
    text = await search(client, body, 400)
    assert named in text


async def test_limits_are_inclusive(client: Any) -> None:
    await search(client, {"query": nested(8), "size": 250})
    await search(client, {"query": {"or": [{"and": [{"tenantOrderRecordId": {"eq": "x"}}] * 100}] * 10},
                          "last": 1})
    await search(client, {"query": {"and": [{}] * 500, "tenantOrderRecordId": {"notIn": ["x"] * 25}}})


async def test_not_json_and_not_an_object(client: Any) -> None:
    response = await client.post(URL, data=b"[1]", headers={**bearer("ORDER_RECORD_READ"),
                                                           "Content-Type": "application/json"})
    assert response.status == 400


async def test_cursor_of_another_query_or_sort(client: Any, records: Any) -> None:
    first = await search(client, {"query": {}, "size": 2})
    end = first["pageInfo"]["endCursor"]
    await search(client, {"query": {}, "size": 2, "after": end})
    await search(client, {"query": {}, "last": 2, "before": end})
    assert "after" in await search(client, {"query": {"payments": {"exists": True}}, "after": end}, 400)
    assert "after" in await search(client, {"query": {}, "sort": [{"orderRecordDate": "ASC"}], "after": end}, 400)
    tampered = end[:-3] + ("AAA" if end[-3:] != "AAA" else "BBB")
    await search(client, {"query": {}, "after": tampered}, 400)


async def test_cursor_keeps_now_of_the_first_page(client: Any, records: Any, clock: Any) -> None:
    query = {"orderRecordDate": {"after": "-P4D"}}  # records 1-3 at the first page's now
    first = await search(client, {"query": query, "size": 1})
    clock.advance(days=2)  # now records 1 and 2 only; the cursor keeps the first page's now
    rest = await search(client, {"query": query, "size": 10, "after": first["pageInfo"]["endCursor"]})
    assert len(first["orderRecords"]) + len(rest["orderRecords"]) == 3


async def test_permissions(client: Any) -> None:
    assert (await client.post(URL, json={"query": {}})).status == 401
    assert (await client.post(URL, json={"query": {}}, headers=bearer(WRITE))).status == 403


NOW = datetime(2026, 3, 31, 12, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("-P1D", datetime(2026, 3, 30, 12, tzinfo=UTC)),
    ("\u2212P1M", datetime(2026, 2, 28, 12, tzinfo=UTC)),  # clamped to February's last day
    ("\u2013P1Y1M", datetime(2025, 2, 28, 12, tzinfo=UTC)),
    ("P1M", datetime(2026, 4, 30, 12, tzinfo=UTC)),
    ("P1W", datetime(2026, 4, 7, 12, tzinfo=UTC)),
    ("-PT1H30M", datetime(2026, 3, 31, 10, 30, tzinfo=UTC)),
    ("PT0.5S", datetime(2026, 3, 31, 12, 0, 0, 500000, tzinfo=UTC)),
])
def test_relative_dates(text: str, expected: datetime) -> None:
    assert resolve(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "P", "-P", "1D", "P1.5M", "PT", "P1DT", "--P1D", "P-1D", "yesterday"])
def test_relative_dates_refused(text: str) -> None:
    with pytest.raises(BadDuration):
        resolve(text, NOW)


def full_string_filter(i: int) -> dict[str, Any]:
    return {"eq": f"e{i}", "notEq": f"n{i}", "in": [f"i{i}-{v}" for v in range(25)],
            "notIn": [f"x{i}-{v}" for v in range(25)]}


async def test_a_query_at_every_limit_is_answered(client: Any) -> None:
    """1,000 filters of 52 distinct values each, on personal and list fields: no database limit is reached."""
    wide = {"or": [{"and": [{"consumer": {"consumerId": full_string_filter(i)}},
                            {"payments": {"contains": {"transactionId": full_string_filter(i)}}}]}
                   for i in range(500)]}
    body = await search(client, {"query": wide, "size": 250, "sort": [{"consumer": {"addresses": {"city": "ASC"}}}],
                                 "options": {"withTotal": True}})
    assert body["total"] == 0
    deep: dict[str, Any] = {"or": [{"origin": {"cashierId": full_string_filter(i)}} for i in range(500)]}
    for level in range(7):
        deep = {"and" if level % 2 else "or": [deep, {"orderRecordDate": {"gt": "2020-01-01T00:00:00Z"}}]}
    await search(client, {"query": deep, "last": 250, "options": {"withTotal": True}})


async def test_many_empty_branches_are_refused(client: Any) -> None:
    assert "query" in await search(client, {"query": {"or": [{"or": [{}] * 100}] * 100}}, 400)
