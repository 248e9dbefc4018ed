"""Stored order records of the official shape, made directly (not through the API), for search tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import bson
import pytest

from app.api.auth import READ
from app.domain.instants import format_instant
from tests.conftest import bearer

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
URL = "/api/orderrecords/search"


def totals(total: int | None) -> dict[str, Any]:
    """An OrderRecordTotals whose `total` is this amount (in EUR cents), the other totals null."""
    return {"subTotal": None, "totalDiscounts": {"value": None, "breakdown": {"lineItemDiscounts": None,
                                                                              "orderDiscounts": None}},
            "totalLineItemSurcharges": None, "totalTaxes": None, "totalFees": None,
            "total": None if total is None else {"value": total, "currency": "EUR", "decimalPlaces": 2}}


def stored_record(n: int, *, order_date: datetime | None = None, cleanup: datetime | None = None,
                  consumer: dict[str, Any] | None = None, articles: tuple[str, ...] = ("A1",),
                  quantities: tuple[float, ...] | None = None, payments: list[dict[str, Any]] | None = None,
                  origin: dict[str, Any] | None = None, tenant_id: str | None = None,
                  total: int | None = 1000) -> dict[str, Any]:
    """Record number `n`: every searched field set, overridable; ids ascend with n."""
    order_date = order_date or NOW - timedelta(days=n)
    cleanup = cleanup or NOW + timedelta(days=90)
    stamp = format_instant(NOW - timedelta(days=1))
    record: dict[str, Any] = {
        "id": str(bson.ObjectId.from_datetime(NOW - timedelta(days=1000)))[:8] + f"{n:016x}",
        "version": 1, "created": stamp, "lastModified": stamp, "anonymized": False,
        "gdprCleanupDate": format_instant(cleanup), "deletionDate": format_instant(cleanup + timedelta(days=3560)),
        "tenantOrderRecordId": tenant_id if tenant_id is not None else f"T-{n:04d}",
        "facilityRef": "facility-1",
        "orderRecordDate": order_date.isoformat(),
        "consumer": consumer if consumer is not None else {
            "consumerId": f"C-{n % 3}", "email": f"c{n}@example.com",
            "addresses": [{"lastName": f"Last{n % 4}", "companyName": f"Co{n % 2}", "city": f"City{n % 5}",
                           "country": "DE", "postalCode": f"{10000 + n}", "firstName": "Ann"}]},
        "lineItems": [{"id": f"li-{n}-{i}", "quantity": (quantities or (1 + i,) * len(articles))[i],
                       "article": {"tenantArticleId": a, "title": "Thing", "attributes": []}}
                      for i, a in enumerate(articles)],
        "payments": payments if payments is not None else [
            {"transactionId": f"TX-{n}", "receiptNumber": f"R-{n}", "paymentMethod": "CASH",
             "status": "COMPLETED", "value": {"value": 1000, "currency": "EUR", "decimalPlaces": 2}}],
        "origin": origin if origin is not None else {"type": "POS", "terminalId": f"term-{n % 2}",
                                                     "cashierId": f"cashier-{n % 2}"},
        "pricing": {"total": {"priceBreakdown": totals(total)}},
    }
    return record


def data_set() -> list[dict[str, Any]]:
    """14 records: varied keys, a record without payments, one without addresses, one past its cleanup date."""
    records = [stored_record(n, articles=("A1", "B2") if n % 3 == 0 else (f"A{n % 2}",),
                             quantities=(n % 4 + 1, 7) if n % 3 == 0 else (n % 4 + 1,))
               for n in range(1, 12)]
    records.append(stored_record(12, payments=[], origin={"type": "POS"}, total=None))
    records.append(stored_record(13, consumer={"consumerId": "C-1"}, tenant_id="T-0013"))
    # Past its cleanup date, not swept yet: its personal data must neither match nor order.
    records.append(stored_record(14, cleanup=NOW - timedelta(hours=1)))
    return records


@pytest.fixture(name="records")
async def records_fixture(client: Any, store: Any) -> list[dict[str, Any]]:
    made = data_set()
    await store.insert_batch(made, NOW - timedelta(days=1))
    return [served(r) for r in made]


def served(record: dict[str, Any]) -> dict[str, Any]:
    """A stored record as the API serves it (a copy)."""
    return dict(record)


async def search(client: Any, body: dict[str, Any], status: int = 200) -> Any:
    response = await client.post(URL, json=body, headers=bearer(READ))
    text = await response.text()
    assert response.status == status, text
    return await response.json(content_type=None) if status == 200 else text


async def ids(client: Any, query: dict[str, Any], **extra: Any) -> list[str]:
    body = await search(client, {"query": query, "size": 250, **extra})
    return [r["id"] for r in body["orderRecords"]]


def alive(r: dict[str, Any]) -> bool:
    return r["gdprCleanupDate"] > "2026-11-25T12:00:00.000Z"
