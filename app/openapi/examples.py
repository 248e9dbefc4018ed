"""Example requests and responses shown in the OpenAPI document (and sent by its contract tests).

The request dates are yesterday's, computed when the process starts: "Try it out" then stores a record that is
not anonymized at once, and each example carries a tenantOrderRecordId, so pressing Execute twice answers
UNCHANGED instead of storing a second record.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).replace(hour=10, minute=15, second=0, microsecond=0)
ORDER_DATE = YESTERDAY.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _money(value: int) -> dict[str, Any]:
    return {"value": value, "currency": "EUR", "decimalPlaces": 2}


def _price(kind: str, value: int) -> list[dict[str, Any]]:
    return [{"category": kind, "key": "value", "value": str(value)},
            {"category": kind, "key": "currency", "value": "EUR"},
            {"category": kind, "key": "decimalPlaces", "value": "2"}] if kind == "basePrice" else [
        {"category": kind, "key": "value", "value": str(value)}]


MINIMAL_RECORD: dict[str, Any] = {
    "orderRecordDate": ORDER_DATE,
    "facilityRef": "facility-berlin-1",
    "tenantOrderRecordId": "example-minimal-1",
    "lineItems": [{"article": {"tenantArticleId": "2020249", "title": "T-Shirt", "attributes": []}, "quantity": 1}],
}

PRICED_RECORD: dict[str, Any] = {
    "orderRecordDate": ORDER_DATE,
    "facilityRef": "facility-berlin-1",
    "tenantOrderRecordId": "example-pos-000123",
    "lineItems": [
        {"article": {"tenantArticleId": "2020249", "title": "T-Shirt",
                     "attributes": [{"category": "descriptive", "priority": 100, "key": "Size", "value": "S"},
                                    *_price("basePrice", 2999)]},
         "quantity": 2},
        {"article": {"tenantArticleId": "2010681", "title": "Quilted jacket",
                     "attributes": [*_price("basePrice", 8999), *_price("discount", 1000)]},
         "quantity": 1},
    ],
    "consumer": {"consumerId": "consumer-42", "email": "jane.doe@example.com",
                 "addresses": [{"firstName": "Jane", "lastName": "Doe", "street": "Hauptstr.", "houseNumber": "1",
                                "postalCode": "10115", "city": "Berlin", "country": "DE"}]},
    "origin": {"type": "POS", "terminalId": "T-7", "cashierId": "C-3"},
    "payments": [{"paymentMethod": "CARD", "value": _money(13497), "taxValue": _money(2155), "status": "COMPLETED",
                  "transactionId": "tx-1", "receiptNumber": "R-000123"}],
    "pricing": {"discounts": [{"type": "ABSOLUTE", "name": "Coupon", "code": "WELCOME5", "value": _money(500)}],
                "taxes": [{"type": "VAT", "ratePercent": 19, "value": _money(2155),
                           "taxableValue": _money(11342)}]},
    "customAttributes": {"channel": "pos"},
}

SYSTEM_FIELDS: dict[str, Any] = {
    "id": "6650a1f2c3d4e5f6a7b8c9d0", "version": 1, "created": "2026-11-25T12:00:00.000Z",
    "lastModified": "2026-11-25T12:00:00.000Z", "anonymized": False, "gdprCleanupDate": "2027-02-23T10:15:00.000Z",
    "deletionDate": "2036-11-22T10:15:00.000Z",
}
TOTALS = {
    "subTotal": _money(14997),
    "totalDiscounts": {"value": _money(1500), "breakdown": {"lineItemDiscounts": _money(1000),
                                                            "orderDiscounts": _money(500)}},
    "totalLineItemSurcharges": _money(0), "totalTaxes": _money(2155), "totalFees": _money(0), "total": _money(13497),
}
STORED_RECORD: dict[str, Any] = {
    **SYSTEM_FIELDS, **PRICED_RECORD, "orderRecordDate": "2026-11-25T10:15:00.000Z",
    "lineItems": [{"id": f"6650a1f2c3d4e5f6a7b8c9d{i}", **item} for i, item in enumerate(PRICED_RECORD["lineItems"],
                                                                                          1)],
    "pricing": {**PRICED_RECORD["pricing"], "total": {"priceBreakdown": TOTALS}},
}

BULK_REQUEST = {
    "minimal": {"summary": "A record with only the required fields",
                "value": {"operations": [MINIMAL_RECORD]}},
    "priced": {"summary": "A point-of-sale record with prices, consumer, payment and origin",
               "value": {"operations": [PRICED_RECORD]}},
}
BULK_RESPONSE = {
    "summary": {"created": 1, "updated": 0, "unchanged": 1},
    "details": [
        {"status": "CREATED", "orderRecord": STORED_RECORD},
        {"status": "UNCHANGED", "orderRecord": STORED_RECORD},
        {"status": "FAILED", "error": {"type": "VALIDATION", "message":
                                       "lineItems.0.quantity: Must be greater than or equal to 1 and less than or "
                                       "equal to 2147483647.; facilityRef: Missing data for required field."}},
    ],
}
VALIDATION_ERROR = [
    {"summary": "Invalid input", "description": "operations: Length must be between 1 and 25."},
]
