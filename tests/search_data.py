"""Stored order records of the official shape, made directly (not through the API), for search tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import bson

from app.domain.instants import format_instant

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


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
             "status": "PAID", "value": {"value": 1000, "currency": "EUR", "decimalPlaces": 2}}],
        "origin": origin if origin is not None else {"type": "POS", "terminalId": f"term-{n % 2}",
                                                     "cashierId": f"cashier-{n % 2}"},
        "pricing": {"total": {"priceBreakdown": {"total": None if total is None else
                                                 {"value": total, "currency": "EUR", "decimalPlaces": 2}}}},
    }
    return record
