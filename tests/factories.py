"""Valid request records for tests: every field the contract names, overridable per test."""

from __future__ import annotations

import copy
from typing import Any


def money(value: int, currency: str = "EUR", **extra: Any) -> dict[str, Any]:
    return {"value": value, "currency": currency, **extra}


def price(kind: str, value: int | str, currency: str | None = "EUR", places: str | None = None) -> list[dict[str, Any]]:
    """Article attributes carrying a price, as the official examples send them."""
    attributes = [{"category": kind, "key": "value", "value": str(value)}]
    if currency is not None:
        attributes.append({"category": kind, "key": "currency", "value": currency})
    if places is not None:
        attributes.append({"category": kind, "key": "decimalPlaces", "value": places})
    return attributes


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
                                "valueLocalized": {"de_DE": "blau"}},
                               *price("basePrice", 199, places="2")],
            },
            "quantity": 3,
            "measurementUnitKey": "piece",
            "warranty": {"warrantyStartDate": "2026-11-01T10:15:00+01:00", "warrantyPeriod": "P2Y"},
            "returnPolicy": {"isReturnable": True, "returnWindowEndDate": "2026-12-01T00:00:00Z"},
            "customAttributes": {"shelf": "A3"},
        },
        {"article": {"tenantArticleId": "art-2", "attributes": price("basePrice", 1000)}, "quantity": 1},
    ],
    "consumer": {
        "consumerId": "consumer-42",
        "email": "jane.doe@example.com",
        "addresses": [{
            "firstName": "Jane", "lastName": "Doe", "companyName": "Doe GmbH", "street": "Hauptstr.",
            "houseNumber": "1", "postalCode": "10115", "city": "Berlin", "province": "Berlin", "country": "DE",
            "additionalAddressInfo": "2nd floor",
        }],
    },
    "payments": [{"paymentMethod": "CARD", "value": money(1477), "taxValue": money(236), "status": "COMPLETED",
                  "transactionId": "tx-1", "receiptNumber": "R-1"}],
    "origin": {"type": "POS", "terminalId": "T-7", "cashierId": "C-3"},
    "pricing": {
        "discounts": [{"type": "ABSOLUTE", "name": "10 off", "code": "TEN", "context": "coupon",
                       "tenantDiscountId": "d-1", "nameLocalized": {"de_DE": "10 weniger"}, "value": money(100)}],
        "fees": [{"name": "bag", "value": money(20)}],
        "taxes": [{"type": "VAT", "scope": "ORDER", "ratePercent": 19.0, "value": money(236),
                   "taxableValue": money(1241)}],
    },
    "customAttributes": {"channel": "pos", "nested": {"list": [1, 2.5, "x", None, True]}},
}


def full_record(**overrides: Any) -> dict[str, Any]:
    record = copy.deepcopy(FULL_RECORD)
    record.update(overrides)
    return record


def minimal_record(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"orderRecordDate": "2026-11-01T10:15:00+01:00", "facilityRef": "facility-1",
                              "lineItems": [{"article": {"tenantArticleId": "a", "attributes": []}, "quantity": 1}]}
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


MINOR_UNITS = {"EUR": 2, "JPY": 0, "KWD": 3, "USD": 2, "CHF": 2, "BHD": 3, "CLF": 4}


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
