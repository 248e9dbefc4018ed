"""searchOrderRecord paging: every sort key both ways, walked forward and backward without gaps or repeats."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from app.search.query import REMOVABLE
from tests.search_data import NOW, alive, records_fixture, search, stored_record  # noqa: F401  (a fixture)

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


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("field", SORTS)
async def test_sort_walks_both_ways(client: Any, records: list[dict[str, Any]], field: str, direction: str) -> None:
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


def with_cities(n: int, *cities: str | None, **extra: Any) -> dict[str, Any]:
    """Record n with one address per city (None: an address without one); its items' quantities by n."""
    addresses = [{"country": "DE", **({} if city is None else {"city": city})} for city in cities]
    return stored_record(n, consumer={"consumerId": f"C-{n}", "addresses": addresses}, **extra)


LIST_KEYS = {  # field: (ids ascending, ids descending), by record number
    "consumer.addresses.city": ([3, 4, 5, 6, 1, 7, 2, 8], [7, 1, 8, 2, 6, 5, 4, 3]),
    "lineItems.quantity": ([3, 5, 1, 2, 4, 6, 7, 8], [5, 2, 1, 8, 7, 6, 4, 3]),
    "payments.transactionId": ([3, 4, 5, 8, 1, 6, 2, 7], [7, 2, 1, 6, 8, 5, 4, 3]),
}


def paid(*transactions: str | None) -> list[dict[str, Any]]:
    """One payment per transaction id (None: a payment without one)."""
    return [{"paymentMethod": "CASH", "value": {"value": 100, "currency": "EUR", "decimalPlaces": 2},
             **({} if tx is None else {"transactionId": tx})} for tx in transactions]


@pytest.mark.parametrize("field", LIST_KEYS)
async def test_list_keys_take_the_smallest_ascending_and_the_largest_descending(client: Any, store: Any,
                                                                              field: str) -> None:
    """Elements without the field do not count; a list without any such element, an empty or absent list and
    personal data past cleanup sort as null (first ascending, last descending); ties go by id; numbers by value."""
    two = {"articles": ("A", "B")}
    made = [
        with_cities(1, "Y", "B", quantities=(2.5, 10), **two, payments=paid("TX-q", "TX-b")),
        with_cities(2, None, "M", quantities=(3, 20), **two, payments=paid(None, "TX-z")),
        with_cities(3, None, quantities=(1,), payments=paid(None)),
        with_cities(4, quantities=(3,), payments=[]),
        stored_record(5, consumer={"consumerId": "C-5"}, quantities=(2, 20), **two, payments=paid("TX-a")),
        with_cities(6, "A", "Z", quantities=(4,), payments=paid("TX-c", "TX-m"),
                    cleanup=NOW - timedelta(hours=1)),  # its cities no longer exist: null
        with_cities(7, "C", "Z", quantities=(5,), payments=paid("TX-zz")),
        with_cities(8, "M", quantities=(6,), payments=paid("TX-a", "TX-c")),
    ]
    await store.insert_batch(made, NOW - timedelta(days=1))
    ascending, descending = ([made[n - 1]["id"] for n in order] for order in LIST_KEYS[field])
    for direction, expected in (("ASC", ascending), ("DESC", descending)):
        base = {"query": {}, "sort": sort_body(field, direction)}
        assert await walk(client, base, len(made), 3, backward=False) == expected
        assert await walk(client, base, len(made), 3, backward=True) == expected
