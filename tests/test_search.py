"""searchOrderRecord on every store kind: each filter, operator, sort key and paging direction on a known data set."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.search_data import NOW, alive, ids, records_fixture, search  # noqa: F401  (a fixture)


def by_id(records: list[dict[str, Any]], keep: Any) -> list[str]:
    return sorted(r["id"] for r in records if keep(r))


def addresses(r: dict[str, Any]) -> list[dict[str, Any]]:
    return r.get("consumer", {}).get("addresses", [])


FILTERS: list[tuple[str, dict[str, Any], Any]] = [
    ("tenant eq", {"tenantOrderRecordId": {"eq": "T-0003"}}, lambda r: r["tenantOrderRecordId"] == "T-0003"),
    ("tenant notEq", {"tenantOrderRecordId": {"notEq": "T-0003"}}, lambda r: r["tenantOrderRecordId"] != "T-0003"),
    ("tenant in", {"tenantOrderRecordId": {"in": ["T-0001", "T-0004", "nope"]}},
     lambda r: r["tenantOrderRecordId"] in ("T-0001", "T-0004")),
    ("tenant notIn", {"tenantOrderRecordId": {"notIn": ["T-0001", "T-0004"]}},
     lambda r: r["tenantOrderRecordId"] not in ("T-0001", "T-0004")),
    ("tenant in empty", {"tenantOrderRecordId": {"in": []}}, lambda r: False),
    ("date eq", {"orderRecordDate": {"eq": (NOW - timedelta(days=2)).isoformat()}}, lambda r: r["n"] == 2),
    ("date notEq", {"orderRecordDate": {"notEq": (NOW - timedelta(days=2)).isoformat()}}, lambda r: r["n"] != 2),
    ("date gt", {"orderRecordDate": {"gt": "2026-11-20T12:00:00+00:00"}}, lambda r: r["n"] < 5),
    ("date gte, offset", {"orderRecordDate": {"gte": "2026-11-20T13:00:00+01:00"}}, lambda r: r["n"] <= 5),
    ("date lt", {"orderRecordDate": {"lt": "2026-11-20T12:00:00Z"}}, lambda r: r["n"] > 5),
    ("date lte", {"orderRecordDate": {"lte": "2026-11-20T12:00:00Z"}}, lambda r: r["n"] >= 5),
    ("date after -P3D", {"orderRecordDate": {"after": "-P3D"}}, lambda r: r["n"] < 3),
    ("date before −P3D", {"orderRecordDate": {"before": "\u2212P3D"}}, lambda r: r["n"] > 3),
    ("date range", {"orderRecordDate": {"after": "\u2013P1W", "lte": "2026-11-22T12:00:00Z"}},
     lambda r: 3 <= r["n"] < 7),
    ("consumerId eq", {"consumer": {"consumerId": {"eq": "C-2"}}},
     lambda r: alive(r) and r["consumer"].get("consumerId") == "C-2"),
    ("consumerId notIn", {"consumer": {"consumerId": {"notIn": ["C-2"]}}},
     lambda r: alive(r) and r["consumer"].get("consumerId") not in (None, "C-2")),
    ("address lastName", {"consumer": {"addresses": {"contains": {"lastName": {"eq": "Last2"}}}}},
     lambda r: alive(r) and any(a.get("lastName") == "Last2" for a in addresses(r))),
    ("address company+lastName", {"consumer": {"addresses": {"contains": {
        "lastName": {"in": ["Last1", "Last3"]}, "companyName": {"notEq": "Co0"}}}}},
     lambda r: alive(r) and any(a.get("lastName") in ("Last1", "Last3") and a.get("companyName") not in (None, "Co0")
                                for a in addresses(r))),
    ("addresses exists", {"consumer": {"addresses": {"exists": True}}}, lambda r: bool(addresses(r))),
    ("addresses not exists", {"consumer": {"addresses": {"exists": False}}}, lambda r: not addresses(r)),
    ("article eq", {"lineItems": {"contains": {"article": {"tenantArticleId": {"eq": "B2"}}}}},
     lambda r: any(li["article"]["tenantArticleId"] == "B2" for li in r["lineItems"])),
    ("article notEq", {"lineItems": {"contains": {"article": {"tenantArticleId": {"notEq": "A1"}}}}},
     lambda r: any(li["article"]["tenantArticleId"] != "A1" for li in r["lineItems"])),
    ("lineItems exists", {"lineItems": {"exists": True}}, lambda r: True),
    ("lineItems contains anything", {"lineItems": {"contains": {}}}, lambda r: True),
    ("transactionId", {"payments": {"contains": {"transactionId": {"eq": "TX-5"}}}}, lambda r: r["n"] == 5),
    ("receiptNumber in", {"payments": {"contains": {"receiptNumber": {"in": ["R-5", "R-6"]}}}},
     lambda r: r["n"] in (5, 6)),
    ("payments not exists", {"payments": {"exists": False}}, lambda r: not r["payments"]),
    ("payments exists", {"payments": {"exists": True}}, lambda r: bool(r["payments"])),
    ("terminalId", {"origin": {"terminalId": {"eq": "term-1"}}}, lambda r: r["origin"].get("terminalId") == "term-1"),
    ("cashierId", {"origin": {"cashierId": {"eq": "cashier-0"}}},
     lambda r: alive(r) and r["origin"].get("cashierId") == "cashier-0"),
    ("and", {"and": [{"origin": {"terminalId": {"eq": "term-0"}}}, {"consumer": {"consumerId": {"eq": "C-1"}}}]},
     lambda r: alive(r) and r["origin"].get("terminalId") == "term-0" and r["consumer"].get("consumerId") == "C-1"),
    ("or", {"or": [{"tenantOrderRecordId": {"eq": "T-0002"}}, {"payments": {"exists": False}}]},
     lambda r: r["n"] == 2 or not r["payments"]),
    ("nested", {"or": [{"and": [{"tenantOrderRecordId": {"in": ["T-0002", "T-0003"]}},
                                {"orderRecordDate": {"lt": "2026-11-23T00:00:00Z"}}]}, {"or": []}]},
     lambda r: r["n"] == 3),
    ("empty and", {"and": []}, lambda r: True),
    ("empty or", {"or": []}, lambda r: False),
    ("empty query", {}, lambda r: True),
]


@pytest.mark.parametrize(("name", "query", "keep"), FILTERS, ids=[f[0] for f in FILTERS])
async def test_filter(client: Any, records: list[dict[str, Any]], name: str, query: dict[str, Any],
                      keep: Any) -> None:
    for r in records:
        r["n"] = int(r["tenantOrderRecordId"][2:])
    expected = by_id(records, keep)
    assert await ids(client, query) == expected
    body = await search(client, {"query": query, "options": {"withTotal": True}, "size": 1})
    assert body["total"] == len(expected)
