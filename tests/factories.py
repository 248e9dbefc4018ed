"""Valid request records for tests: every field the contract names, overridable per test."""

from __future__ import annotations

import copy
from typing import Any


def money(value: int, currency: str = "EUR", **extra: Any) -> dict[str, Any]:
    return {"value": value, "currency": currency, **extra}


FULL_RECORD: dict[str, Any] = {
    "orderRecordDate": "2026-11-01T10:15:00+01:00",
    "facilityRef": "facility-berlin-1",
    "tenantOrderRecordId": "legacy-0001",
    "lineItems": [
        {
            "article": {
                "tenantArticleId": "art-1",
                "title": "Sparkling water 0.75l",
                "attributes": [{"key": "color", "value": "blue", "category": "descriptive", "priority": 1,
                                "type": "STRING", "keyLocalized": {"de_DE": "Farbe"},
                                "valueLocalized": {"de_DE": "blau"}}],
            },
            "quantity": 3,
            "measurementUnitKey": "piece",
            "price": money(199),
            "deposit": money(25),
            "warranty": {"warrantyStartDate": "2026-11-01T10:15:00+01:00", "warrantyPeriod": "P2Y"},
            "returnPolicy": {"isReturnable": True, "returnWindowEndDate": "2026-12-01T00:00:00Z"},
            "customAttributes": {"shelf": "A3"},
        },
        {"article": {"tenantArticleId": "art-2"}, "quantity": 1, "price": money(1000)},
    ],
    "consumer": {
        "consumerId": "consumer-42",
        "email": "jane.doe@example.com",
        "addresses": [{
            "addressType": "POSTAL_ADDRESS", "salutation": "Ms", "firstName": "Jane", "lastName": "Doe",
            "companyName": "Doe GmbH", "street": "Hauptstr.", "houseNumber": "1", "postalCode": "10115",
            "city": "Berlin", "country": "DE", "phoneNumbers": [{"value": "+49301234567", "type": "MOBILE"}],
            "additionalAddressInfo": "2nd floor",
        }],
    },
    "payments": [{"method": "CARD", "amount": money(1522), "status": "COMPLETED", "transactionId": "tx-1",
                  "paidAt": "2026-11-01T10:16:00+01:00", "refundedAmount": money(0)}],
    "origin": {"terminalId": "T-7", "cashierId": "C-3"},
    "pricing": {
        "discounts": [{"type": "COUPON", "description": "10 off", "amount": money(100)}],
        "fees": [{"type": "SERVICE", "description": "bag", "amount": money(20)}],
        "taxes": [{"type": "VAT", "rate": 19.0, "amount": money(256), "includedInPrice": True},
                  {"type": "LEVY", "rate": 1.0, "amount": money(5), "includedInPrice": False}],
    },
    "customAttributes": {"channel": "pos", "nested": {"list": [1, 2.5, "x", None, True]}},
}


def full_record(**overrides: Any) -> dict[str, Any]:
    record = copy.deepcopy(FULL_RECORD)
    record.update(overrides)
    return record


def minimal_record(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"orderRecordDate": "2026-11-01T10:15:00+01:00", "facilityRef": "facility-1",
                              "lineItems": [{"article": {"tenantArticleId": "a"}, "quantity": 1}]}
    record.update(overrides)
    return record


def set_path(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `record` with the dotted `path` set to `value` (list indexes as numbers)."""
    record = copy.deepcopy(record)
    *parents, last = path.split(".")
    node: Any = record
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return record


MINOR_UNITS = {"EUR": 2, "JPY": 0, "KWD": 3, "USD": 2, "CHF": 2}


def with_places(node: Any) -> Any:
    """An input record as the service returns it: every MonetaryValue with its decimalPlaces filled in."""
    if isinstance(node, list):
        return [with_places(x) for x in node]
    if isinstance(node, dict):
        out = {k: with_places(v) for k, v in node.items()}
        if set(node) >= {"value", "currency"} and "decimalPlaces" not in node:
            out["decimalPlaces"] = MINOR_UNITS[node["currency"]]
        return out
    return node
