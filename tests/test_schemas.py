"""Validation rules of REFERENCE.md through RecordBuilder and the schemas directly: fast, no HTTP, no store."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from app.domain.currencies import OFFICIAL_CURRENCIES
from app.records import SYSTEM_FIELD_MESSAGE, RecordBuilder, RecordRejected, flatten_errors
from app.schemas import types as schema_types
from app.schemas.query import OrderRecordsQuery
from app.schemas.records import OrderRecordBulkOperations, OrderRecordForCreation
from app.schemas.types import ISO_DATE_TIME_FORMATS, _rewritten
from app.settings import GdprSettings, make_settings
from tests.conftest import NOW
from tests.factories import full_record, minimal_record, money, price, with_places
from tests.factories import set_path as put

RECORD_ID = "65a1b2c3d4e5f60718293a4b"
UNKNOWN = "Unknown field."
REQUIRED = "Missing data for required field."
# RFC 3339 section 5.6, independent of app.schemas: what every stored date-time must look like
RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})")
DEFAULT_GDPR = make_settings().gdpr
BUILDER = RecordBuilder(DEFAULT_GDPR)


def build(raw: Any, now: datetime = NOW, builder: RecordBuilder = BUILDER) -> dict[str, Any]:
    return builder.build(raw, RECORD_ID, now)


def rejected(raw: Any, now: datetime = NOW, builder: RecordBuilder = BUILDER) -> list[dict[str, str]]:
    with pytest.raises(RecordRejected) as info:
        builder.build(raw, RECORD_ID, now)
    errors = info.value.errors
    assert errors, "a rejection must name at least one reason"
    for error in errors:
        assert set(error) == {"field", "message"}
        assert isinstance(error["field"], str) and isinstance(error["message"], str) and error["message"]
    return errors


def drop(record: dict[str, Any], path: str) -> dict[str, Any]:
    record = copy.deepcopy(record)
    *parents, last = path.split(".")
    node: Any = record
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    del node[last]
    return record


def line(i: int = 0, **extra: Any) -> dict[str, Any]:
    return {"article": {"tenantArticleId": f"art-{i}"}, "quantity": 1, **extra}


def address(country: str = "DE") -> dict[str, Any]:
    return {"city": "Berlin", "country": country}


def payment(**extra: Any) -> dict[str, Any]:
    return {"paymentMethod": "CARD", "value": money(100), "status": "COMPLETED", **extra}


def attribute(i: int = 0) -> dict[str, Any]:
    return {"key": f"k{i}", "value": "v"}


ENTRY = {"discounts": {"type": "ABSOLUTE", "value": money(1)}, "fees": {"value": money(1)},
         "taxes": {"value": money(1)}}


def pricing_entries(group: str, n: int) -> dict[str, Any]:
    return {group: [copy.deepcopy(ENTRY[group]) for _ in range(n)]}


FULL = full_record()
MINIMAL = minimal_record()
PAID = "payments.0.value"
WARRANTY = "lineItems.0.warranty.warrantyPeriod"
DISCOUNT = "pricing.discounts.0"

# (case id, record, field the single error names, part of its message or None)
INVALID: list[tuple[str, dict[str, Any], str, str | None]] = [
    # required fields
    ("orderRecordDate missing", drop(MINIMAL, "orderRecordDate"), "orderRecordDate", REQUIRED),
    ("facilityRef missing", drop(MINIMAL, "facilityRef"), "facilityRef", REQUIRED),
    ("lineItems missing", drop(MINIMAL, "lineItems"), "lineItems", REQUIRED),
    ("article missing", drop(MINIMAL, "lineItems.0.article"), "lineItems.0.article", REQUIRED),
    ("tenantArticleId missing", drop(MINIMAL, "lineItems.0.article.tenantArticleId"),
     "lineItems.0.article.tenantArticleId", REQUIRED),
    ("quantity missing", drop(MINIMAL, "lineItems.0.quantity"), "lineItems.0.quantity", REQUIRED),
    ("attribute key missing", drop(FULL, "lineItems.0.article.attributes.0.key"),
     "lineItems.0.article.attributes.0.key", REQUIRED),
    ("attribute value missing", drop(FULL, "lineItems.0.article.attributes.0.value"),
     "lineItems.0.article.attributes.0.value", REQUIRED),
    ("payment value missing", drop(FULL, PAID), PAID, REQUIRED),
    ("money value missing", drop(FULL, f"{PAID}.value"), f"{PAID}.value", REQUIRED),
    ("money currency missing", drop(FULL, f"{PAID}.currency"), f"{PAID}.currency", REQUIRED),
    ("tax value missing", drop(FULL, "pricing.taxes.0.value"), "pricing.taxes.0.value", REQUIRED),
    # the cross-field rules of discounts
    ("PERCENTAGE discount without percentage", put(FULL, f"{DISCOUNT}.type", "PERCENTAGE"), f"{DISCOUNT}.percentage",
     "Required when type is PERCENTAGE"),
    ("ABSOLUTE discount without value", drop(FULL, f"{DISCOUNT}.value"), f"{DISCOUNT}.value",
     "Required when type is ABSOLUTE"),
    # list limits
    ("lineItems empty", put(MINIMAL, "lineItems", []), "lineItems", None),
    ("lineItems 501", put(MINIMAL, "lineItems", [line(i) for i in range(501)]), "lineItems", None),
    ("attributes 101", put(MINIMAL, "lineItems.0.article.attributes", [attribute(i) for i in range(101)]),
     "lineItems.0.article.attributes", None),
    ("addresses 11", put(FULL, "consumer.addresses", [address() for _ in range(11)]), "consumer.addresses", None),
    ("payments 101", put(MINIMAL, "payments", [payment() for _ in range(101)]), "payments", None),
    ("discounts 101", put(MINIMAL, "pricing", pricing_entries("discounts", 101)), "pricing.discounts", None),
    ("fees 101", put(MINIMAL, "pricing", pricing_entries("fees", 101)), "pricing.fees", None),
    ("taxes 101", put(MINIMAL, "pricing", pricing_entries("taxes", 101)), "pricing.taxes", None),
    # string lengths
    ("facilityRef empty", put(MINIMAL, "facilityRef", ""), "facilityRef", None),
    ("facilityRef 257", put(MINIMAL, "facilityRef", "f" * 257), "facilityRef", None),
    ("tenantOrderRecordId empty", put(MINIMAL, "tenantOrderRecordId", ""), "tenantOrderRecordId", None),
    ("tenantOrderRecordId 257", put(MINIMAL, "tenantOrderRecordId", "t" * 257), "tenantOrderRecordId", None),
    ("tenantArticleId empty", put(MINIMAL, "lineItems.0.article.tenantArticleId", ""),
     "lineItems.0.article.tenantArticleId", None),
    ("attribute value empty", put(FULL, "lineItems.0.article.attributes.0.value", ""),
     "lineItems.0.article.attributes.0.value", None),
    ("address text 1025", put(FULL, "consumer.addresses.0.street", "s" * 1025), "consumer.addresses.0.street", None),
    # wrong JSON types
    ("facilityRef number", put(MINIMAL, "facilityRef", 7), "facilityRef", "Not a valid string."),
    ("facilityRef null", put(MINIMAL, "facilityRef", None), "facilityRef", None),
    ("lineItems object", put(MINIMAL, "lineItems", {"0": line()}), "lineItems", None),
    ("lineItem not an object", put(MINIMAL, "lineItems", ["x"]), "lineItems.0", None),
    ("consumer string", put(MINIMAL, "consumer", "jane"), "consumer", None),
    ("customAttributes list", put(MINIMAL, "customAttributes", [1, 2]), "customAttributes", None),
    # quantity: a JSON number of at least 1
    ("quantity 0", put(MINIMAL, "lineItems.0.quantity", 0), "lineItems.0.quantity", None),
    ("quantity 0.5", put(MINIMAL, "lineItems.0.quantity", 0.5), "lineItems.0.quantity", None),
    ("quantity 0.999", put(MINIMAL, "lineItems.0.quantity", 0.999), "lineItems.0.quantity", None),
    ("quantity -1", put(MINIMAL, "lineItems.0.quantity", -1), "lineItems.0.quantity", None),
    ("quantity string", put(MINIMAL, "lineItems.0.quantity", "2"), "lineItems.0.quantity", None),
    ("quantity true", put(MINIMAL, "lineItems.0.quantity", True), "lineItems.0.quantity", None),
    ("quantity null", put(MINIMAL, "lineItems.0.quantity", None), "lineItems.0.quantity", None),
    ("quantity 2**31", put(MINIMAL, "lineItems.0.quantity", 2**31), "lineItems.0.quantity", None),
    ("quantity 2**63", put(MINIMAL, "lineItems.0.quantity", 2**63), "lineItems.0.quantity", None),
    ("quantity 2**64 as the JSON parser hands it on", put(MINIMAL, "lineItems.0.quantity", float(2**64)),
     "lineItems.0.quantity", None),
    # other numbers and booleans
    ("value string", put(FULL, f"{PAID}.value", "1477"), f"{PAID}.value", None),
    ("value float", put(FULL, f"{PAID}.value", 1477.0), f"{PAID}.value", None),
    ("value true", put(FULL, f"{PAID}.value", True), f"{PAID}.value", None),
    ("value 2**63", put(FULL, f"{PAID}.value", 2**63), f"{PAID}.value", None),
    ("value -2**63-1", put(FULL, f"{PAID}.value", -(2**63) - 1), f"{PAID}.value", None),
    ("value 10**30", put(FULL, "pricing.taxes.0.taxableValue.value", 10**30), "pricing.taxes.0.taxableValue.value",
     None),
    ("decimalPlaces 9", put(FULL, f"{PAID}.decimalPlaces", 9), f"{PAID}.decimalPlaces", None),
    ("decimalPlaces -1", put(FULL, f"{PAID}.decimalPlaces", -1), f"{PAID}.decimalPlaces", None),
    ("decimalPlaces string", put(FULL, f"{PAID}.decimalPlaces", "2"), f"{PAID}.decimalPlaces", None),
    ("decimalPlaces 2.0", put(FULL, f"{PAID}.decimalPlaces", 2.0), f"{PAID}.decimalPlaces", None),
    ("priority string", put(FULL, "lineItems.0.article.attributes.0.priority", "1"),
     "lineItems.0.article.attributes.0.priority", None),
    ("priority true", put(FULL, "lineItems.0.article.attributes.0.priority", True),
     "lineItems.0.article.attributes.0.priority", None),
    ("isReturnable string", put(FULL, "lineItems.0.returnPolicy.isReturnable", "true"),
     "lineItems.0.returnPolicy.isReturnable", None),
    ("isReturnable 1", put(FULL, "lineItems.0.returnPolicy.isReturnable", 1),
     "lineItems.0.returnPolicy.isReturnable", None),
    ("percentage over 100", put(FULL, f"{DISCOUNT}.percentage", 100.5), f"{DISCOUNT}.percentage", None),
    ("percentage negative", put(FULL, f"{DISCOUNT}.percentage", -1), f"{DISCOUNT}.percentage", None),
    ("percentage string", put(FULL, f"{DISCOUNT}.percentage", "10"), f"{DISCOUNT}.percentage", None),
    ("percentage true", put(FULL, f"{DISCOUNT}.percentage", True), f"{DISCOUNT}.percentage", None),
    ("ratePercent string", put(FULL, "pricing.taxes.0.ratePercent", "19"), "pricing.taxes.0.ratePercent", None),
    ("ratePercent true", put(FULL, "pricing.taxes.0.ratePercent", True), "pricing.taxes.0.ratePercent", None),
    ("customAttributes int beyond 64 bits", put(MINIMAL, "customAttributes", {"n": 2**63}), "customAttributes",
     "64 bits"),
    ("line customAttributes int beyond 64 bits", put(FULL, "lineItems.0.customAttributes", {"a": [-(2**64)]}),
     "lineItems.0.customAttributes", "64 bits"),
    ("customAttributes operator key", put(MINIMAL, "customAttributes", {"x": {"$where": "1"}}), "customAttributes",
     None),
    # enums, codes, patterns
    ("payment status unknown", put(FULL, "payments.0.status", "PAID"), "payments.0.status", None),
    ("payment status lower case", put(FULL, "payments.0.status", "completed"), "payments.0.status", None),
    ("origin type other than POS", put(FULL, "origin.type", "ONLINE"), "origin.type", None),
    ("origin type lower case", put(FULL, "origin.type", "pos"), "origin.type", None),
    ("origin type null", put(FULL, "origin.type", None), "origin.type", None),
    ("attribute category unknown", put(FULL, "lineItems.0.article.attributes.0.category", "price"),
     "lineItems.0.article.attributes.0.category", None),
    ("attribute type unknown", put(FULL, "lineItems.0.article.attributes.0.type", "DATE"),
     "lineItems.0.article.attributes.0.type", None),
    ("currency EURO", put(FULL, f"{PAID}.currency", "EURO"), f"{PAID}.currency", "ISO 4217"),
    ("currency lower case", put(FULL, f"{PAID}.currency", "eur"), f"{PAID}.currency", "ISO 4217"),
    ("currency XYZ", put(MINIMAL, "payments", [payment(value=money(1, "XYZ"))]), f"{PAID}.currency", "ISO 4217"),
    ("currency not official (XBT)", put(FULL, "pricing.fees.0.value.currency", "XBT"), "pricing.fees.0.value.currency",
     "ISO 4217"),
    ("duration words", put(FULL, WARRANTY, "2 years"), WARRANTY, "pattern"),
    ("duration without P", put(FULL, WARRANTY, "2Y"), WARRANTY, "pattern"),
    ("duration trailing garbage", put(FULL, WARRANTY, "P2Yx"), WARRANTY, "pattern"),
    ("duration trailing newline", put(FULL, WARRANTY, "P2Y\n"), WARRANTY, "pattern"),
    ("duration weeks mixed with days", put(FULL, WARRANTY, "P1W2D"), WARRANTY, "pattern"),
    ("duration with a plus sign", put(FULL, WARRANTY, "+P1D"), WARRANTY, "pattern"),
    ("duration with another script's digit", put(FULL, WARRANTY, "P\u0662Y"), WARRANTY, "pattern"),
    ("duration empty", put(FULL, WARRANTY, ""), WARRANTY, None),
    ("duration of 257 characters (capped like an identifier)", put(FULL, WARRANTY, "P" + "9" * 255 + "D"), WARRANTY,
     "256"),
    ("date without offset", put(MINIMAL, "orderRecordDate", "2026-11-01T10:15:00"), "orderRecordDate",
     "UTC offset"),
    ("date only", put(MINIMAL, "orderRecordDate", "2026-11-01"), "orderRecordDate", None),
    ("date garbage", put(MINIMAL, "orderRecordDate", "yesterday"), "orderRecordDate", None),
    ("date number", put(MINIMAL, "orderRecordDate", 1764000000), "orderRecordDate", None),
    ("date unpadded", put(MINIMAL, "orderRecordDate", "2026-1-5T1:2Z"), "orderRecordDate", None),
    ("date month 13", put(MINIMAL, "orderRecordDate", "2026-13-01T10:00:00Z"), "orderRecordDate", None),
    ("warranty start without offset", put(FULL, "lineItems.0.warranty.warrantyStartDate", "2026-11-01T10:15:00"),
     "lineItems.0.warranty.warrantyStartDate", "UTC offset"),
    ("return window without offset", put(FULL, "lineItems.0.returnPolicy.returnWindowEndDate", "2026-12-01"),
     "lineItems.0.returnPolicy.returnWindowEndDate", None),
    # unknown fields, at every level
    ("unknown top-level field", put(MINIMAL, "foo", 1), "foo", UNKNOWN),
    ("unknown line item field", put(MINIMAL, "lineItems.0.foo", 1), "lineItems.0.foo", UNKNOWN),
    ("unknown article field", put(MINIMAL, "lineItems.0.article.sku", "x"), "lineItems.0.article.sku", UNKNOWN),
    ("unknown attribute field", put(FULL, "lineItems.0.article.attributes.0.unit", "x"),
     "lineItems.0.article.attributes.0.unit", UNKNOWN),
    ("unknown money field", put(FULL, f"{PAID}.cents", 1), f"{PAID}.cents", UNKNOWN),
    ("unknown warranty field", put(FULL, "lineItems.0.warranty.until", "x"), "lineItems.0.warranty.until", UNKNOWN),
    ("unknown return policy field", put(FULL, "lineItems.0.returnPolicy.days", 30), "lineItems.0.returnPolicy.days",
     UNKNOWN),
    ("unknown consumer field", put(FULL, "consumer.phone", "1"), "consumer.phone", UNKNOWN),
    ("unknown address field", put(FULL, "consumer.addresses.0.state", "BE"), "consumer.addresses.0.state",
     UNKNOWN),
    ("unknown payment field", put(FULL, "payments.0.card", "visa"), "payments.0.card", UNKNOWN),
    ("unknown origin field", put(FULL, "origin.storeId", "s"), "origin.storeId", UNKNOWN),
    ("unknown pricing field", put(FULL, "pricing.coupons", []), "pricing.coupons", UNKNOWN),
    ("unknown discount field", put(FULL, f"{DISCOUNT}.description", "x"), f"{DISCOUNT}.description", UNKNOWN),
    ("unknown fee field", put(FULL, "pricing.fees.0.type", "SERVICE"), "pricing.fees.0.type", UNKNOWN),
    ("unknown tax field", put(FULL, "pricing.taxes.0.country", "DE"), "pricing.taxes.0.country", UNKNOWN),
    # fields of the previous contract, unknown in the official one
    ("line item price", put(MINIMAL, "lineItems.0.price", money(1)), "lineItems.0.price", UNKNOWN),
    ("line item deposit", put(MINIMAL, "lineItems.0.deposit", money(1)), "lineItems.0.deposit", UNKNOWN),
    ("payment method", put(FULL, "payments.0.method", "CARD"), "payments.0.method", UNKNOWN),
    ("payment amount", put(FULL, "payments.0.amount", money(1)), "payments.0.amount", UNKNOWN),
    ("payment paidAt", put(FULL, "payments.0.paidAt", "2026-11-01T10:16:00Z"), "payments.0.paidAt", UNKNOWN),
    ("address type", put(FULL, "consumer.addresses.0.addressType", "POSTAL_ADDRESS"),
     "consumer.addresses.0.addressType", UNKNOWN),
    ("address phone numbers", put(FULL, "consumer.addresses.0.phoneNumbers", []),
     "consumer.addresses.0.phoneNumbers", UNKNOWN),
    ("discount amount", put(FULL, f"{DISCOUNT}.amount", money(1)), f"{DISCOUNT}.amount", UNKNOWN),
    ("tax rate", put(FULL, "pricing.taxes.0.rate", 19), "pricing.taxes.0.rate", UNKNOWN),
    ("tax includedInPrice", put(FULL, "pricing.taxes.0.includedInPrice", True), "pricing.taxes.0.includedInPrice",
     UNKNOWN),
    ("pricing.priceBreakdown", put(FULL, "pricing.priceBreakdown", {}), "pricing.priceBreakdown", UNKNOWN),
    ("system-named field inside an article", put(MINIMAL, "lineItems.0.article.id", "x"), "lineItems.0.article.id",
     UNKNOWN),
]


@pytest.mark.parametrize(("record", "field", "message"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_record_is_rejected_naming_the_field(record: dict[str, Any], field: str, message: str | None) -> None:
    errors = rejected(record)
    assert [e["field"] for e in errors] == [field], errors
    if message is not None:
        assert message in errors[0]["message"]


SYSTEM_CASES = [
    ("id", "65a1b2c3d4e5f60718293a4b"), ("version", 1), ("created", "2026-11-25T12:00:00.000Z"),
    ("lastModified", "2026-11-25T12:00:00.000Z"), ("anonymized", False),
    ("gdprCleanupDate", "2027-01-30T09:15:00.000Z"), ("deletionDate", "2036-10-29T09:15:00.000Z"),
    ("lineItems.0.id", "65a1b2c3d4e5f60718293a4c"), ("lineItems.1.id", "x"),
    ("pricing.total", {"priceBreakdown": {}}),
]


@pytest.mark.parametrize(("path", "value"), SYSTEM_CASES, ids=[c[0] for c in SYSTEM_CASES])
def test_system_fields_are_rejected_on_input(path: str, value: Any) -> None:
    assert rejected(put(FULL, path, value)) == [{"field": path, "message": SYSTEM_FIELD_MESSAGE}]


def test_every_reason_is_reported_at_once() -> None:
    record = put(FULL, "lineItems.0.quantity", 0)
    record = put(record, "origin.type", "ONLINE")
    record = put(record, "version", 2)
    record = put(record, "payments.0.status", "PAID")
    errors = rejected(record)
    assert {e["field"] for e in errors} == {"lineItems.0.quantity", "origin.type", "version", "payments.0.status"}


def test_every_cross_field_reason_is_reported_at_once() -> None:
    discounts = [{"type": "PERCENTAGE"}, {"type": "ABSOLUTE", "percentage": 10},
                 {"type": "PERCENTAGE", "percentage": 5}]
    record = minimal_record(orderRecordDate="1970-01-01T00:00:00Z", pricing={"discounts": discounts})
    assert [e["field"] for e in rejected(record)] == ["pricing.discounts.0.percentage", "pricing.discounts.1.value",
                                                      "orderRecordDate"]


def test_a_record_that_is_not_an_object_is_rejected() -> None:
    for raw in ([], "record", 3, None, True):
        assert rejected(raw) == [{"field": "", "message": "Each operation must be a JSON object (an order record)."}]


# --- values that are fine, right at the limits ---------------------------------------------------------------------

VALID: list[tuple[str, dict[str, Any]]] = [
    ("lineItems 1", MINIMAL),
    ("lineItems 500", put(MINIMAL, "lineItems", [line(i, article={"tenantArticleId": f"a{i}",
                                                                  "attributes": price("basePrice", i)})
                                                 for i in range(500)])),
    ("attributes 100", put(MINIMAL, "lineItems.0.article.attributes", [attribute(i) for i in range(100)])),
    ("attributes left out", put(MINIMAL, "lineItems.0.article", {"tenantArticleId": "a"})),
    ("addresses 10", put(FULL, "consumer.addresses", [address() for _ in range(10)])),
    ("addresses 0", put(FULL, "consumer.addresses", [])),
    ("payments 100", put(MINIMAL, "payments", [payment() for _ in range(100)])),
    ("payments 0", put(MINIMAL, "payments", [])),
    ("payment with only its value", put(MINIMAL, "payments", [{"value": money(5)}])),
    ("discounts 100", put(MINIMAL, "pricing", pricing_entries("discounts", 100))),
    ("fees 100", put(MINIMAL, "pricing", pricing_entries("fees", 100))),
    ("taxes 100", put(MINIMAL, "pricing", pricing_entries("taxes", 100))),
    ("facilityRef 1", put(MINIMAL, "facilityRef", "f")),
    ("facilityRef 256", put(MINIMAL, "facilityRef", "f" * 256)),
    ("facilityRef unicode 256", put(MINIMAL, "facilityRef", "ß" * 256)),
    ("tenantOrderRecordId 1", put(MINIMAL, "tenantOrderRecordId", "t")),
    ("tenantOrderRecordId 256", put(MINIMAL, "tenantOrderRecordId", "t" * 256)),
    ("address text 1024", put(FULL, "consumer.addresses.0.street", "s" * 1024)),
    ("quantity 1", put(MINIMAL, "lineItems.0.quantity", 1)),
    ("quantity 1.0", put(MINIMAL, "lineItems.0.quantity", 1.0)),
    ("quantity 2.5", put(MINIMAL, "lineItems.0.quantity", 2.5)),
    ("quantity 2**31-1", put(MINIMAL, "lineItems.0.quantity", 2**31 - 1)),
    ("value 64-bit max", put(FULL, PAID, money(2**63 - 1))),
    ("value 64-bit min", put(FULL, PAID, money(-(2**63)))),
    ("value negative (a refund)", put(FULL, PAID, money(-500))),
    ("decimalPlaces 0", put(FULL, PAID, money(1, decimalPlaces=0))),
    ("decimalPlaces 8", put(FULL, PAID, money(1, decimalPlaces=8))),
    ("percentage 0", put(FULL, DISCOUNT, {"type": "PERCENTAGE", "percentage": 0})),
    ("percentage 100", put(FULL, DISCOUNT, {"type": "PERCENTAGE", "percentage": 100})),
    ("percentage 12.5", put(FULL, DISCOUNT, {"type": "PERCENTAGE", "percentage": 12.5})),
    ("PERCENTAGE discount with a value too", put(FULL, DISCOUNT, {"type": "PERCENTAGE", "percentage": 10,
                                                                  "value": money(5)})),
    ("discount of another type with neither", put(FULL, DISCOUNT, {"type": "BUY_ONE_GET_ONE", "name": "2 for 1"})),
    ("discount without a type", put(FULL, DISCOUNT, {"name": "staff"})),
    ("fee without a value", put(FULL, "pricing.fees.0", {"name": "bag"})),
    ("ratePercent 0", put(FULL, "pricing.taxes.0.ratePercent", 0)),
    ("ratePercent 7.7", put(FULL, "pricing.taxes.0.ratePercent", 7.7)),
    ("customAttributes 64-bit int", put(MINIMAL, "customAttributes", {"n": 2**63 - 1, "m": -(2**63)})),
    ("customAttributes empty", put(MINIMAL, "customAttributes", {})),
    ("customAttributes null", put(MINIMAL, "customAttributes", None)),
    ("date with Z", put(MINIMAL, "orderRecordDate", "2026-11-01T10:15:00Z")),
    ("date with negative offset", put(MINIMAL, "orderRecordDate", "2026-11-01T10:15:00-05:30")),
    ("date with milliseconds", put(MINIMAL, "orderRecordDate", "2026-11-01T10:15:00.123+02:00")),
    ("duration P6M", put(FULL, WARRANTY, "P6M")),
    ("duration P1W", put(FULL, WARRANTY, "P1W")),
    ("duration P1Y2M10DT2H30M", put(FULL, WARRANTY, "P1Y2M10DT2H30M")),
    ("duration negative", put(FULL, WARRANTY, "-P1D")),
    ("duration P (the official pattern allows it)", put(FULL, WARRANTY, "P")),
    ("duration PT (the official pattern allows it)", put(FULL, WARRANTY, "PT")),
    ("duration of 256 characters", put(FULL, WARRANTY, "P" + "9" * 254 + "D")),
    ("warranty with only its period", put(FULL, "lineItems.0.warranty", {"warrantyPeriod": "P2Y"})),
    ("warranty with only its start", put(FULL, "lineItems.0.warranty", {"warrantyStartDate": "2026-11-01T10:15Z"})),
    ("empty warranty", put(FULL, "lineItems.0.warranty", {})),
    ("return policy without isReturnable", put(FULL, "lineItems.0.returnPolicy",
                                               {"returnWindowEndDate": "2026-12-01T00:00:00Z"})),
    # no format checks: e-mails, countries and postal codes are stored as sent
    ("address without country", drop(FULL, "consumer.addresses.0.country")),
    ("country not ISO 3166-1", put(FULL, "consumer.addresses.0.country", "XX")),
    ("country lower case", put(FULL, "consumer.addresses.0.country", "de")),
    ("country a name", put(FULL, "consumer.addresses.0.country", "Deutschland")),
    ("email without @", put(FULL, "consumer.email", "jane.doe.example.com")),
    ("email with space", put(FULL, "consumer.email", "jane doe@example.com")),
    ("postal code anything", put(FULL, "consumer.addresses.0.postalCode", "SW1A 1AA / n.a.")),
    ("consumer without addresses", put(MINIMAL, "consumer", {"consumerId": "c"})),
    ("origin without type", put(MINIMAL, "origin", {"terminalId": "T-1"})),
    ("empty origin", put(MINIMAL, "origin", {})),
    # currencies may differ within a record; the withdrawn codes of the official enum are accepted
    ("mixed currencies", put(FULL, "pricing.fees.0.value", money(20, "USD"))),
    ("same currency JPY everywhere", put(MINIMAL, "payments", [payment(value=money(5, "JPY"))])),
] + [(f"payment status {s}", put(FULL, "payments.0.status", s))
     for s in ("COMPLETED", "FAILED", "CANCELLED", "REFUNDED", "PARTIALLY_REFUNDED")
] + [(f"currency {c}", put(FULL, PAID, money(5, c))) for c in ("ANG", "BGN", "CUC", "ZWL", "XAU", "VED", "SLE")]


@pytest.mark.parametrize("record", [c[1] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_record_at_the_limits_is_accepted(record: dict[str, Any]) -> None:
    built = build(record)
    assert built["id"] == RECORD_ID
    assert built["version"] == 1


def test_the_official_currency_enum_is_accepted_whole() -> None:
    built = build(minimal_record(payments=[payment(value=money(1, code)) for code in OFFICIAL_CURRENCIES[:100]]))
    assert [p["value"]["currency"] for p in built["payments"]] == list(OFFICIAL_CURRENCIES[:100])
    built = build(minimal_record(payments=[payment(value=money(1, code)) for code in OFFICIAL_CURRENCIES[100:]]))
    assert len(built["payments"]) == len(OFFICIAL_CURRENCIES) - 100 == 79


# --- what the builder adds and keeps -------------------------------------------------------------------------------

OBJECT_ID = re.compile(r"[0-9a-f]{24}")
TOTALS_KEYS = {"subTotal", "totalDiscounts", "totalLineItemSurcharges", "totalTaxes", "totalFees", "total"}
SYSTEM = {"id": RECORD_ID, "version": 1, "created": "2026-11-25T12:00:00.000Z",
          "lastModified": "2026-11-25T12:00:00.000Z", "anonymized": False,
          "gdprCleanupDate": "2027-01-30T09:15:00.000Z", "deletionDate": "2036-10-29T09:15:00.000Z"}


def served(built: dict[str, Any]) -> dict[str, Any]:
    """The built record without what the service adds on its own (line ids, totals), checked apart."""
    ids = [item.pop("id") for item in built["lineItems"]]
    assert all(OBJECT_ID.fullmatch(i) for i in ids) and len(set(ids)) == len(ids), ids
    totals = built["pricing"].pop("total")
    assert set(totals) == {"priceBreakdown"} and set(totals["priceBreakdown"]) == TOTALS_KEYS, totals
    if not built["pricing"]:
        del built["pricing"]
    return built


def test_full_record_is_built_with_every_field_and_the_system_fields() -> None:
    raw = full_record()
    built = build(raw)
    assert served(built) == {**with_places(raw), **SYSTEM}
    assert raw == full_record(), "the input must not be changed"


def test_minimal_record_gets_line_ids_and_totals_only() -> None:
    built = build(minimal_record())
    assert set(built["pricing"]) == {"total"}
    assert served(built) == {**minimal_record(), **SYSTEM}


def test_line_item_ids_are_unique_across_records() -> None:
    lines = [line(i) for i in range(50)]
    ids = [item["id"] for _ in range(4) for item in build(minimal_record(lineItems=lines))["lineItems"]]
    assert len(set(ids)) == len(ids) == 200


@pytest.mark.parametrize("quantity", [1, 1.0, 2.5, 3, 7.25])
def test_quantity_is_stored_as_sent(quantity: float) -> None:
    built = build(put(MINIMAL, "lineItems.0.quantity", quantity))
    stored = built["lineItems"][0]["quantity"]
    assert stored == quantity and type(stored) is type(quantity)


def test_origin_type_defaults_to_pos() -> None:
    assert build(minimal_record(origin={"terminalId": "T-1", "cashierId": "C-1"}))["origin"] == {
        "type": "POS", "terminalId": "T-1", "cashierId": "C-1"}
    assert build(minimal_record(origin={}))["origin"] == {"type": "POS"}
    assert "origin" not in build(minimal_record()), "no origin is made up for a record that sent none"


def test_article_attributes_default_to_an_empty_list() -> None:
    built = build(minimal_record(lineItems=[line(0), line(1, article={"tenantArticleId": "b",
                                                                      "attributes": [attribute()]})]))
    assert [item["article"]["attributes"] for item in built["lineItems"]] == [[], [attribute()]]


def test_price_attributes_are_kept_as_sent() -> None:
    attributes = [*price("basePrice", 1999, places="2"), *price("discount", 200), *price("tax", 319, currency=None),
                  {"category": "discount", "key": "percentage", "value": "10"}]
    built = build(minimal_record(lineItems=[{"article": {"tenantArticleId": "a", "attributes": attributes},
                                             "quantity": 2}]))
    assert built["lineItems"][0]["article"]["attributes"] == attributes


@pytest.mark.parametrize(("currency", "places"), [("EUR", 2), ("JPY", 0), ("KWD", 3), ("USD", 2), ("BHD", 3),
                                                  ("CLF", 4), ("ANG", 2), ("BGN", 2)])
def test_decimal_places_default_to_the_currency_minor_unit(currency: str, places: int) -> None:
    amount = money(5, currency)
    raw = minimal_record(payments=[payment(value=amount, taxValue=amount)],
                         pricing={"discounts": [{"type": "ABSOLUTE", "value": amount}], "fees": [{"value": amount}],
                                  "taxes": [{"value": amount, "taxableValue": amount}]})
    built = build(raw)
    filled = {"value": 5, "currency": currency, "decimalPlaces": places}
    assert built["payments"][0]["value"] == built["payments"][0]["taxValue"] == filled
    pricing = built["pricing"]
    assert pricing["discounts"][0]["value"] == pricing["fees"][0]["value"] == filled
    assert pricing["taxes"][0]["value"] == pricing["taxes"][0]["taxableValue"] == filled


def test_given_decimal_places_are_kept() -> None:
    built = build(minimal_record(payments=[payment(value=money(5, "JPY", decimalPlaces=2))]))
    assert built["payments"][0]["value"]["decimalPlaces"] == 2


def test_dates_are_stored_as_given_and_lifecycle_dates_are_utc() -> None:
    built = build(minimal_record(orderRecordDate="2026-10-31T23:30:00.250-05:00"))
    assert built["orderRecordDate"] == "2026-10-31T23:30:00.250-05:00"
    assert built["gdprCleanupDate"] == "2027-01-30T04:30:00.250Z"
    assert built["deletionDate"] == "2036-10-29T04:30:00.250Z"


def test_lifecycle_dates_follow_the_settings() -> None:
    builder = RecordBuilder(GdprSettings(retention_time=10, deletion_time_after_retention=20,
                                         actor_anonymization=True, sweep_interval_seconds=60, sweep_batch_size=500))
    built = build(minimal_record(orderRecordDate="2026-11-20T00:00:00Z"), builder=builder)
    assert (built["gdprCleanupDate"], built["deletionDate"]) == ("2026-11-30T00:00:00.000Z",
                                                                 "2026-12-20T00:00:00.000Z")
    assert built["anonymized"] is False
    errors = rejected(minimal_record(orderRecordDate="2026-10-20T00:00:00Z"), builder=builder)
    assert [e["field"] for e in errors] == ["orderRecordDate"]


def iso(moment: datetime) -> str:
    return moment.isoformat()


def test_record_older_than_the_retention_period_is_refused() -> None:
    old = NOW - timedelta(days=3650, minutes=1)
    errors = rejected(full_record(orderRecordDate=iso(old)))
    assert [e["field"] for e in errors] == ["orderRecordDate"]
    assert "Retention period is over" in errors[0]["message"]


@pytest.mark.parametrize("date", ["0001-01-01T00:00:00+01:00", "0001-01-02T00:00:00Z", "1970-01-01T00:00:00Z"])
def test_ancient_record_is_refused_for_its_retention_period(date: str) -> None:
    errors = rejected(minimal_record(orderRecordDate=date))
    assert [e["field"] for e in errors] == ["orderRecordDate"]
    assert "Retention period is over" in errors[0]["message"]


def test_record_too_far_in_the_future_is_refused_not_crashing() -> None:
    errors = rejected(minimal_record(orderRecordDate="9999-12-31T23:59:59-01:00"))
    assert [e["field"] for e in errors] == ["orderRecordDate"]


def test_record_whose_deletion_date_is_now_is_refused() -> None:
    """deletionDate == now counts as passed, like the cleanup date and the TTL index: it would be deleted at once."""
    errors = rejected(minimal_record(orderRecordDate=iso(NOW - timedelta(days=3650))))
    assert [e["field"] for e in errors] == ["orderRecordDate"]
    assert "Retention period is over" in errors[0]["message"]
    assert build(minimal_record(orderRecordDate=iso(NOW - timedelta(days=3650) + timedelta(milliseconds=1))))


def test_record_just_inside_the_retention_period_is_stored_anonymized() -> None:
    built = build(full_record(orderRecordDate=iso(NOW - timedelta(days=3650) + timedelta(minutes=1))))
    assert built["anonymized"] is True


@pytest.mark.parametrize(("age", "anonymized"), [(timedelta(days=89, hours=23), False), (timedelta(days=90), True),
                                                 (timedelta(days=91), True)])
def test_anonymized_at_once_when_the_cleanup_date_has_passed(age: timedelta, anonymized: bool) -> None:
    built = build(full_record(orderRecordDate=iso(NOW - age)))
    assert built["anonymized"] is anonymized
    assert built["version"] == 1


def test_anonymized_record_keeps_only_the_country_and_loses_the_cashier() -> None:
    raw = full_record(orderRecordDate=iso((NOW - timedelta(days=200)).astimezone(UTC)))
    raw["consumer"]["addresses"].append({"country": "FR", "firstName": "Jean"})
    raw["consumer"]["addresses"].append({"firstName": "Nobody"})
    built = served(build(raw))
    assert built["consumer"] == {"addresses": [{"country": "DE"}, {"country": "FR"}, {}]}
    assert built["origin"] == {"type": "POS", "terminalId": "T-7"}
    rest = {k: v for k, v in built.items() if k not in ("consumer", "origin")}
    fresh = served(build(full_record(orderRecordDate=raw["orderRecordDate"], consumer={"consumerId": "x"})))
    assert rest == {**{k: v for k, v in fresh.items() if k not in ("consumer", "origin")}, "anonymized": True}


def test_build_does_not_change_its_input() -> None:
    raw = full_record(origin={"terminalId": "T"}, pricing={"taxes": [{"value": money(5)}]})
    raw["lineItems"][1]["article"].pop("attributes")
    snapshot = copy.deepcopy(raw)
    build(raw)
    assert raw == snapshot


# --- date-times: ISO 8601 with an offset in, RFC 3339 stored -------------------------------------------------------

NOT_A_DATE_TIME = "Not a valid datetime."
NO_OFFSET = "Must include a UTC offset, e.g. 2024-05-01T10:00:00+02:00 or ...Z."

# (given, stored): RFC 3339 stays exactly as given, every other accepted form becomes RFC 3339 with its own offset
DATE_TIMES_ACCEPTED: list[tuple[str, str]] = [
    ("2026-11-01T10:15:00+01:00", "2026-11-01T10:15:00+01:00"),
    ("2026-11-01T10:15:00Z", "2026-11-01T10:15:00Z"),
    ("2026-10-31T23:30:00.250-05:00", "2026-10-31T23:30:00.250-05:00"),
    ("2026-11-01T10:15:00.123456789Z", "2026-11-01T10:15:00.123456789Z"),
    ("2026-11-01T10:15:00.0+14:00", "2026-11-01T10:15:00.0+14:00"),
    ("2026-11-01T10:15:00-00:00", "2026-11-01T10:15:00-00:00"),
    ("2028-02-29T00:00:00+01:00", "2028-02-29T00:00:00+01:00"),
    # extended format, as Java's OffsetDateTime.toString() writes it (no seconds when they are zero)
    ("2026-11-01T10:15+01:00", "2026-11-01T10:15:00+01:00"),
    ("2026-11-01T10:15Z", "2026-11-01T10:15:00Z"),
    ("2026-11-01T23:59-09:30", "2026-11-01T23:59:00-09:30"),
    # hour-only offsets
    ("2026-11-01T10:15:00+01", "2026-11-01T10:15:00+01:00"),
    ("2026-11-01T10:15-05", "2026-11-01T10:15:00-05:00"),
    ("2026-11-01T10:15:00-00", "2026-11-01T10:15:00-00:00"),
    # decimal comma
    ("2026-11-01T10:15:00,5Z", "2026-11-01T10:15:00.5Z"),
    ("2026-11-01T10:15:00,123456789+01:00", "2026-11-01T10:15:00.123456789+01:00"),
    # extended, with strftime's %z offset (±hhmm): not ISO 8601 to the letter, accepted all the same
    ("2026-11-01T10:15:00+0100", "2026-11-01T10:15:00+01:00"),
    ("2026-11-01T10:15-0530", "2026-11-01T10:15:00-05:30"),
    ("2026-11-01T10:15:00.123+0000", "2026-11-01T10:15:00.123+00:00"),
    # basic format, offsets ±hhmm (strftime's %z), ±hh and Z
    ("20261101T101500Z", "2026-11-01T10:15:00Z"),
    ("20261101T101500+0100", "2026-11-01T10:15:00+01:00"),
    ("20261101T101500-0530", "2026-11-01T10:15:00-05:30"),
    ("20261101T1015+01", "2026-11-01T10:15:00+01:00"),
    ("20261101T1015Z", "2026-11-01T10:15:00Z"),
    ("20261101T101500.25Z", "2026-11-01T10:15:00.25Z"),
    ("20261101T101500,123456789-0000", "2026-11-01T10:15:00.123456789-00:00"),
    ("20280229T000000+0100", "2028-02-29T00:00:00+01:00"),
]

# (given, message)
DATE_TIMES_REFUSED: list[tuple[Any, str]] = [
    # no offset, in every format
    ("2026-11-01T10:15:00", NO_OFFSET),
    ("2026-11-01T10:15:00.5", NO_OFFSET),
    ("2026-11-01T10:15", NO_OFFSET),
    ("20261101T101500", NO_OFFSET),
    ("20261101T1015", NO_OFFSET),
    # basic and extended mixed within one value (but for the ±hhmm offset after an extended date-time)
    ("20261101T101500+01:00", NOT_A_DATE_TIME),
    ("20261101T10:15:00Z", NOT_A_DATE_TIME),
    ("2026-11-01T101500Z", NOT_A_DATE_TIME),
    ("2026-1101T10:15Z", NOT_A_DATE_TIME),
    ("2026-11-01T10:1500Z", NOT_A_DATE_TIME),
    # other ISO 8601 representations: week and ordinal dates, 24:00, times of less than minutes, fractions of minutes
    ("2026-W44-7T10:15:00Z", NOT_A_DATE_TIME),
    ("2026W447T101500Z", NOT_A_DATE_TIME),
    ("2026-305T10:15:00Z", NOT_A_DATE_TIME),
    ("2026305T101500Z", NOT_A_DATE_TIME),
    ("2026-11-01T24:00:00Z", NOT_A_DATE_TIME),
    ("2026-11-01T24:00Z", NOT_A_DATE_TIME),
    ("20261101T2400Z", NOT_A_DATE_TIME),
    ("2026-11-01T10Z", NOT_A_DATE_TIME),
    ("2026-11-01T10+01:00", NOT_A_DATE_TIME),
    ("2026-11-01T10:15,5Z", NOT_A_DATE_TIME),
    ("2026-11-01T10:15.5Z", NOT_A_DATE_TIME),
    ("2026-11-01", NOT_A_DATE_TIME),
    ("+02026-11-01T10:15:00Z", NOT_A_DATE_TIME),
    ("26-11-01T10:15:00Z", NOT_A_DATE_TIME),
    # separators and letters
    ("2026-11-01 10:15:00Z", NOT_A_DATE_TIME),
    ("2026-11-01t10:15:00Z", NOT_A_DATE_TIME),
    ("2026-11-01T10:15:00z", NOT_A_DATE_TIME),
    ("2026-11-01_10:15:00Z", NOT_A_DATE_TIME),
    ("2026-11-01T10:15:00 +01:00", NOT_A_DATE_TIME),
    ("2026/11/01T10:15:00Z", NOT_A_DATE_TIME),
    ("2026-11-01T10:15:00+01:00\n", NOT_A_DATE_TIME),
    (" 2026-11-01T10:15:00Z", NOT_A_DATE_TIME),
    ("2026-11-01T10:15:00+01:00[Europe/Berlin]", NOT_A_DATE_TIME),
    # digits: only ASCII, fractions of 1 to 9 digits
    ("\u0662\u0660\u0662\u0666-11-01T10:15:00Z", NOT_A_DATE_TIME),
    ("2026-11-01T10:15:00+\uff10\uff11:00", NOT_A_DATE_TIME),
    ("2026-11-01T10:15:00.1234567891Z", NOT_A_DATE_TIME),
    ("2026-11-01T10:15:00.Z", NOT_A_DATE_TIME),
    ("2026-11-01T10:15:00,Z", NOT_A_DATE_TIME),
    # values out of range
    ("2026-13-01T10:15:00Z", NOT_A_DATE_TIME),
    ("2026-02-29T10:15Z", NOT_A_DATE_TIME),
    ("20261132T1015Z", NOT_A_DATE_TIME),
    ("0000-01-01T00:00:00Z", NOT_A_DATE_TIME),
    ("2026-11-01T10:60Z", NOT_A_DATE_TIME),
    ("2026-12-31T23:59:60Z", NOT_A_DATE_TIME),
    # offsets
    ("2026-11-01T10:15:00+01:60", NOT_A_DATE_TIME),
    ("2026-11-01T10:15:00+24:00", NOT_A_DATE_TIME),
    ("20261101T101500+2400", NOT_A_DATE_TIME),
    ("2026-11-01T10:15:00+01:00:30", NOT_A_DATE_TIME),
    ("2026-11-01T10:15:00+1", NOT_A_DATE_TIME),
    ("2026-11-01T10:15:00+01:0", NOT_A_DATE_TIME),
    ("2026-11-01T10:15:00+010", NOT_A_DATE_TIME),
    ("2026-11-01T10:15:00UTC", NOT_A_DATE_TIME),
    # not strings
    (1764000000, NOT_A_DATE_TIME),
    ([], NOT_A_DATE_TIME),
]


@pytest.mark.parametrize(("given", "stored"), DATE_TIMES_ACCEPTED, ids=[c[0] for c in DATE_TIMES_ACCEPTED])
def test_iso_8601_date_time_is_loaded_as_rfc_3339(given: str, stored: str) -> None:
    loaded = OrderRecordForCreation().load(minimal_record(orderRecordDate=given))
    assert loaded["orderRecordDate"] == stored
    assert RFC3339.fullmatch(stored)
    assert datetime.fromisoformat(stored) == datetime.fromisoformat(given)


@pytest.mark.parametrize(("given", "message"), DATE_TIMES_REFUSED, ids=[repr(c[0]) for c in DATE_TIMES_REFUSED])
def test_date_time_that_is_not_iso_8601_with_an_offset_is_refused(given: Any, message: str) -> None:
    errors = rejected(minimal_record(orderRecordDate=given))
    assert errors == [{"field": "orderRecordDate", "message": message}]


@settings(max_examples=300, deadline=None)
@given(st.from_regex(schema_types.RFC3339, fullmatch=True))
def test_values_taken_as_they_are_are_what_the_rewriting_would_give(value: str) -> None:
    match = ISO_DATE_TIME_FORMATS[0].fullmatch(value)
    assert match is not None
    assert _rewritten(match) == value


def test_every_date_time_field_stores_the_rfc_3339_form() -> None:
    raw = full_record(orderRecordDate="20261101T1015+0100")
    raw = put(raw, "lineItems.0.warranty.warrantyStartDate", "2026-11-01T10:15+01")
    raw = put(raw, "lineItems.0.returnPolicy.returnWindowEndDate", "20261201T000000,5Z")
    built = build(raw)
    assert built["orderRecordDate"] == "2026-11-01T10:15:00+01:00"
    assert built["lineItems"][0]["warranty"]["warrantyStartDate"] == "2026-11-01T10:15:00+01:00"
    assert built["lineItems"][0]["returnPolicy"]["returnWindowEndDate"] == "2026-12-01T00:00:00.5Z"
    assert (built["gdprCleanupDate"], built["deletionDate"]) == ("2027-01-30T09:15:00.000Z",
                                                                 "2036-10-29T09:15:00.000Z")


def test_date_time_refusals_name_the_nested_field() -> None:
    raw = put(full_record(), "lineItems.0.warranty.warrantyStartDate", "20261101T10:15:00+01:00")
    raw = put(raw, "lineItems.0.returnPolicy.returnWindowEndDate", "20261201T0000")
    assert rejected(raw) == [
        {"field": "lineItems.0.warranty.warrantyStartDate", "message": NOT_A_DATE_TIME},
        {"field": "lineItems.0.returnPolicy.returnWindowEndDate", "message": NO_OFFSET},
    ]


# --- flatten_errors ------------------------------------------------------------------------------------------------

def test_flatten_errors_gives_dotted_paths() -> None:
    messages = {"lineItems": {0: {"quantity": ["Must be at least 1."]}, 3: {"article": {"title": ["Too long."]}}},
                "consumer": {"_schema": ["Bad."]}, "id": ["Unknown field."], "x": ["Unknown field."]}
    assert flatten_errors(messages) == [
        {"field": "lineItems.0.quantity", "message": "Must be at least 1."},
        {"field": "lineItems.3.article.title", "message": "Too long."},
        {"field": "consumer", "message": "Bad."},
        {"field": "id", "message": SYSTEM_FIELD_MESSAGE},
        {"field": "x", "message": "Unknown field."},
    ]


def test_flatten_errors_of_nested_system_like_names_keeps_unknown() -> None:
    assert flatten_errors({"lineItems": {0: {"version": ["Unknown field."]}}}) == [
        {"field": "lineItems.0.version", "message": "Unknown field."}]
    assert flatten_errors({"lineItems": {0: {"article": {"id": ["Unknown field."]}}}}) == [
        {"field": "lineItems.0.article.id", "message": "Unknown field."}]
    assert flatten_errors({"pricing": {"priceBreakdown": ["Unknown field."]}}) == [
        {"field": "pricing.priceBreakdown", "message": "Unknown field."}]
    assert flatten_errors({"pricing": {"total": ["Unknown field."]}, "lineItems": {7: {"id": ["Unknown field."]}}}) == [
        {"field": "pricing.total", "message": SYSTEM_FIELD_MESSAGE},
        {"field": "lineItems.7.id", "message": SYSTEM_FIELD_MESSAGE}]


# --- the envelope and the list query --------------------------------------------------------------------------------

def envelope_errors(payload: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as info:
        OrderRecordBulkOperations().load(payload)
    return info.value.messages  # type: ignore[return-value]


def test_envelope_takes_1_to_25_records_of_any_shape() -> None:
    assert OrderRecordBulkOperations().load({"operations": [{}]}) == {"operations": [{}]}
    assert len(OrderRecordBulkOperations().load({"operations": [1] * 25})["operations"]) == 25


@pytest.mark.parametrize(("payload", "field"), [
    ({"operations": [{}] * 26}, "operations"), ({"operations": []}, "operations"), ({}, "operations"),
    ({"operations": None}, "operations"), ({"operations": {"a": {}}}, "operations"),
    ({"operations": "x"}, "operations"), ({"operations": [{}], "dryRun": True}, "dryRun"),
    ({"orderRecords": [{}]}, "orderRecords"),
])
def test_envelope_rejects(payload: Any, field: str) -> None:
    assert field in envelope_errors(payload)


def test_query_defaults_and_limits() -> None:
    query = OrderRecordsQuery()
    assert query.load({}) == {"size": 20}
    assert query.load({"size": "1"}) == {"size": 1}
    assert query.load({"size": "25.0"}) == query.load({"size": "25"}) == {"size": 25}
    assert query.load({"size": "500", "startAfterId": "0123456789abcdef01234567", "facilityRef": "f",
                       "tenantOrderRecordId": "t"}) == {"size": 500, "startAfterId": "0123456789abcdef01234567",
                                                        "facilityRef": "f", "tenantOrderRecordId": "t"}


@pytest.mark.parametrize(("params", "field"), [
    ({"size": "0"}, "size"), ({"size": "501"}, "size"), ({"size": "abc"}, "size"), ({"size": "-1"}, "size"),
    ({"size": "1.5"}, "size"), ({"size": ""}, "size"), ({"startAfterId": "abc"}, "startAfterId"),
    ({"startAfterId": "0123456789ABCDEF01234567"}, "startAfterId"),
    ({"startAfterId": "0123456789abcdef012345678"}, "startAfterId"), ({"facilityRef": ""}, "facilityRef"),
    ({"tenantOrderRecordId": "t" * 257}, "tenantOrderRecordId"), ({"page": "2"}, "page"),
])
def test_query_rejects(params: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        OrderRecordsQuery().load(params)
    assert set(info.value.messages) == {field}  # type: ignore[arg-type]
