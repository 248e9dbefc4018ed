"""Example requests and responses shown in the OpenAPI document (and sent by its contract tests)."""

from __future__ import annotations

from typing import Any


def _money(value: int) -> dict[str, Any]:
    return {"value": value, "currency": "EUR", "decimalPlaces": 2}


MINIMAL_RECORD: dict[str, Any] = {
    "orderRecordDate": "2026-05-01T10:00:00+02:00",
    "facilityRef": "facility-berlin-1",
    "lineItems": [{"article": {"tenantArticleId": "art-1"}, "quantity": 1}],
}

PRICED_RECORD: dict[str, Any] = {
    "orderRecordDate": "2026-05-01T10:15:00+02:00",
    "facilityRef": "facility-berlin-1",
    "tenantOrderRecordId": "pos-2026-000123",
    "lineItems": [
        {"article": {"tenantArticleId": "art-1", "title": "Sparkling water 0.75l"}, "quantity": 3,
         "price": {"value": 199, "currency": "EUR"}, "deposit": {"value": 25, "currency": "EUR"}},
    ],
    "consumer": {"email": "jane.doe@example.com", "addresses": [{"firstName": "Jane", "country": "DE"}]},
    "payments": [{"method": "CARD", "amount": {"value": 672, "currency": "EUR"}, "status": "COMPLETED"}],
    "pricing": {"taxes": [{"type": "VAT", "rate": 19, "amount": {"value": 107, "currency": "EUR"}}]},
    "customAttributes": {"channel": "pos"},
}

SYSTEM_FIELDS: dict[str, Any] = {
    "id": "6650a1f2c3d4e5f6a7b8c9d0", "version": 1, "created": "2026-05-01T08:20:00.000Z",
    "lastModified": "2026-05-01T08:20:00.000Z", "anonymized": False, "gdprCleanupDate": "2026-07-30T08:00:00.000Z",
    "deletionDate": "2036-04-28T08:00:00.000Z",
}

_TOTALS = ("subTotal", "totalDiscounts", "totalTaxes", "totalFees", "totalDeposit", "total")

STORED_RECORD: dict[str, Any] = {
    **SYSTEM_FIELDS, **MINIMAL_RECORD,
    "lineItems": [{"article": {"tenantArticleId": "art-1"}, "quantity": 3, "price": _money(199)}],
    "pricing": {"priceBreakdown": {name: _money(597 if name in ("subTotal", "total") else 0) for name in _TOTALS}},
}

BULK_REQUEST = {
    "minimal": {"summary": "One record with only the required fields", "value": {"orderRecords": [MINIMAL_RECORD]}},
    "priced": {"summary": "A priced record with consumer, payment and tax", "value": {"orderRecords": [PRICED_RECORD]}},
}

BULK_RESPONSE = {"results": [
    {"status": "CREATED", "orderRecord": STORED_RECORD},
    {"status": "FAILED",
     "errors": [{"field": "lineItems.0.quantity", "message": "Must be greater than or equal to 1."}]},
]}

VALIDATION_PROBLEM = {
    "type": "urn:order-records:problem:validation", "title": "Bad Request", "status": 400,
    "detail": "The request is not valid.", "requestId": "3f2b9c0e8d1a4b5c9e7f6a5b4c3d2e1f",
    "errors": [{"field": "size", "message": "Must be greater than or equal to 1 and less than or equal to 500."}],
}
