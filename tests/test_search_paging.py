"""searchOrderRecord paging: every sort key both ways, walked forward and backward without gaps or repeats."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from app.search.query import REMOVABLE
from tests.search_data import alive, records_fixture, search  # noqa: F401  (a fixture)

SORTS = ["orderRecordDate", "tenantOrderRecordId", "origin.terminalId", "origin.type", "origin.cashierId",
         "consumer.addresses.city", "consumer.addresses.companyName", "consumer.addresses.country",
         "consumer.addresses.firstName", "consumer.addresses.lastName", "consumer.addresses.postalCode",
         "lineItems.quantity", "payments.paymentMethod", "payments.receiptNumber", "payments.status",
         "payments.transactionId", "pricing.total.priceBreakdownTotal"]
LISTS = {"consumer.addresses": lambda r: r.get("consumer", {}).get("addresses", []),
         "lineItems": lambda r: r["lineItems"], "payments": lambda r: r["payments"]}


def sort_body(field: str, direction: str) -> list[dict[str, Any]]:
    node: Any = direction
    for part in reversed(field.split(".")):
        node = {part: node}
    return [node]


def key(record: dict[str, Any], field: str, descending: bool) -> Any:
    if field in REMOVABLE and not alive(record):
        return None
    if field == "orderRecordDate":
        return datetime.fromisoformat(record[field])
    if field == "pricing.total.priceBreakdownTotal":
        total = record["pricing"]["total"]["priceBreakdown"]["total"]
        return None if total is None else total["value"]
    for name, items in LISTS.items():
        if field.startswith(name + "."):
            inner = field.removeprefix(name + ".")
            values = [item[inner] for item in items(record) if inner in item]
            return (max if descending else min)(values) if values else None
    value: Any = record
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def expected_order(records: list[dict[str, Any]], field: str, descending: bool) -> list[str]:
    def order(r: dict[str, Any]) -> tuple[Any, ...]:
        k = key(r, field, descending)
        return (0, "", r["id"]) if k is None else (1, k, r["id"])
    return [r["id"] for r in sorted(records, key=order, reverse=descending)]


async def walk(client: Any, base: dict[str, Any], count: int, size: int, backward: bool) -> list[str]:
    """Every page from one end to the other, checking pageInfo on each; the ids in sort order."""
    seen: list[list[str]] = []
    cursor: str | None = None
    while True:
        body = dict(base, **({"last": size} if backward else {"size": size}))
        if cursor is not None:
            body["before" if backward else "after"] = cursor
        page = await search(client, body)
        got = [r["id"] for r in page["orderRecords"]]
        info = page["pageInfo"]
        seen.insert(0, got) if backward else seen.append(got)
        done = sum(len(p) for p in seen)
        assert info["hasNextPage"] == (done < count if not backward else cursor is not None)
        assert info["hasPreviousPage"] == (cursor is not None if not backward else done < count)
        if not (info["hasPreviousPage"] if backward else info["hasNextPage"]):
            return [i for p in seen for i in p]
        cursor = info["startCursor"] if backward else info["endCursor"]


IN_LISTS = ("consumer.addresses.", "lineItems.", "payments.")


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("field", SORTS)
async def test_sort_walks_both_ways(client: Any, records: list[dict[str, Any]], field: str, direction: str,
                                    store_kind: str) -> None:
    if store_kind == "mongodb" and field.startswith(IN_LISTS):
        # The key is `$min`/`$max` over an array path (MongoDB's rule for arrays); SecantusDB 0.7.0b3, the server
        # CI runs, orders these otherwise. Not verified on mongod here: see the README's Search section.
        pytest.xfail("sorting by a field inside a list is not verified on the real server CI runs (SecantusDB)")
    expected = expected_order(records, field, direction == "DESC")
    base = {"query": {}, "sort": sort_body(field, direction)}
    assert await walk(client, base, len(records), 4, backward=False) == expected
    assert await walk(client, base, len(records), 4, backward=True) == expected


async def test_default_sort_is_by_id_and_pages_with_a_filter(client: Any, records: list[dict[str, Any]]) -> None:
    query = {"origin": {"terminalId": {"eq": "term-1"}}}
    expected = sorted(r["id"] for r in records if r["origin"].get("terminalId") == "term-1")
    assert await walk(client, {"query": query}, len(expected), 2, backward=False) == expected
    assert await walk(client, {"query": query}, len(expected), 3, backward=True) == expected
    body = await search(client, {"query": query})
    assert "total" not in body and len(body["orderRecords"]) == len(expected)


async def test_default_page_size_is_20(client: Any, store: Any) -> None:
    from tests.search_data import NOW, stored_record

    await store.insert_batch([stored_record(n) for n in range(1, 26)], NOW)
    body = await search(client, {"query": {}})
    assert len(body["orderRecords"]) == 20 and body["pageInfo"]["hasNextPage"] is True


async def test_empty_pages_echo_the_cursor(client: Any, records: list[dict[str, Any]]) -> None:
    first = await search(client, {"query": {"tenantOrderRecordId": {"eq": "none"}}})
    assert first["orderRecords"] == []
    assert first["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": False, "startCursor": "", "endCursor": ""}
    last_page = await search(client, {"query": {}, "size": 250})
    end = last_page["pageInfo"]["endCursor"]
    after_end = await search(client, {"query": {}, "after": end})
    assert after_end["orderRecords"] == []
    assert after_end["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True, "startCursor": end,
                                     "endCursor": end}


async def test_start_after_id(client: Any, records: list[dict[str, Any]]) -> None:
    ordered = sorted(r["id"] for r in records)
    page = await search(client, {"query": {}, "startAfterId": ordered[4], "size": 3})
    assert [r["id"] for r in page["orderRecords"]] == ordered[5:8]
    assert page["pageInfo"]["hasPreviousPage"] is True and page["pageInfo"]["hasNextPage"] is True


async def test_records_past_cleanup_come_back_anonymized(client: Any, records: list[dict[str, Any]]) -> None:
    due = next(r for r in records if not alive(r))
    page = await search(client, {"query": {"tenantOrderRecordId": {"eq": due["tenantOrderRecordId"]}}})
    served = page["orderRecords"][0]
    assert served["anonymized"] is True
    assert "consumerId" not in served["consumer"] and "email" not in served["consumer"]
    assert served["consumer"]["addresses"] == [{"country": "DE"}]
