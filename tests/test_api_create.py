"""Contract tests of PUT /api/orderrecords (REFERENCE.md), run against every store kind by the `client` fixture."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from app.api.errors import MAX_ERRORS
from app.settings import Settings
from tests.conftest import NOW, FakeClock, expect_problem, put_records
from tests.factories import full_record, minimal_record, money, price, set_path, with_places

URL = "/api/orderrecords"
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
STAMP = "2026-11-25T12:00:00.000Z"  # NOW as the service formats its own timestamps
SYSTEM_MESSAGE = "Set by the service, not accepted on input."
# --- helpers -------------------------------------------------------------------------------------------------------

async def get_record(client: TestClient, auth: dict[str, str], record_id: str) -> dict[str, Any]:
    response = await client.get(f"{URL}/{record_id}", headers=auth)
    assert response.status == 200, await response.text()
    return await response.json()


async def list_records(client: TestClient, auth: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get(URL, params={k: str(v) for k, v in params.items()}, headers=auth)
    assert response.status == 200, await response.text()
    return await response.json()


async def stored_total(client: TestClient, auth: dict[str, str], **filters: str) -> int:
    return (await list_records(client, auth, size=1, **filters))["total"]


async def put_body(client: TestClient, auth: dict[str, str], body: Any = None, *, data: bytes | str | None = None,
                   content_type: str = "application/json") -> Any:
    if data is None:
        data = json.dumps(body)
    return await client.put(URL, data=data, headers={**auth, "Content-Type": content_type})





def split_error(text: str) -> dict[str, str]:
    """`path: rule` as {field, message}; a rule about the whole item has no path."""
    field, sep, message = text.partition(": ")
    if not sep or " " in field:
        return {"field": "", "message": text}
    return {"field": field, "message": message}


def error_fields(body: list[dict[str, str]]) -> list[str]:
    return [split_error(e["description"])["field"] for e in body]


def errors_of(result: dict[str, Any]) -> list[dict[str, str]]:
    """A FAILED detail's message as the list of its `path: rule` parts."""
    assert result["status"] == "FAILED" and set(result) == {"status", "error"}, result
    return [split_error(part) for part in result["error"]["message"].split("; ")]


def as_served(raw: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """What the service returns for `raw`: defaults and the system fields (taken from `record`) filled in."""
    expected = with_places(raw)
    for item, stored in zip(expected["lineItems"], record["lineItems"], strict=True):
        item["article"].setdefault("attributes", [])
        item["id"] = stored["id"]
    if "origin" in expected:
        expected["origin"].setdefault("type", "POS")
    expected["pricing"] = {**expected.get("pricing", {}), "total": record["pricing"]["total"]}
    expected.update({k: record[k] for k in ("id", "version", "created", "lastModified", "anonymized",
                                            "gdprCleanupDate", "deletionDate")})
    return expected





def eur(value: int) -> dict[str, Any]:
    return {"value": value, "currency": "EUR", "decimalPlaces": 2}


def at(moment: Any) -> str:
    return moment.isoformat()


def line(i: int = 0, unit_price: int | None = None, **extra: Any) -> dict[str, Any]:
    attributes = [] if unit_price is None else price("basePrice", unit_price)
    return {"article": {"tenantArticleId": f"art-{i}", "attributes": attributes}, "quantity": 1, **extra}


def payment(**extra: Any) -> dict[str, Any]:
    return {"paymentMethod": "CARD", "value": money(100), "status": "COMPLETED", **extra}


def address(country: str = "DE") -> dict[str, Any]:
    return {"firstName": "Jane", "city": "Berlin", "country": country}


def chunks(items: list[Any], size: int = 25) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


# --- a created record ----------------------------------------------------------------------------------------------

async def test_full_record_is_created_with_every_system_field(client: TestClient, auth: dict[str, str]) -> None:
    results = await put_records(client, [full_record()], auth)
    assert len(results) == 1
    assert set(results[0]) == {"status", "orderRecord"}
    assert results[0]["status"] == "CREATED"
    record = results[0]["orderRecord"]
    assert OBJECT_ID.match(record["id"]), record["id"]
    ids = [item["id"] for item in record["lineItems"]]
    assert len(set(ids)) == 2 and all(OBJECT_ID.match(i) for i in ids)
    assert set(record["pricing"]["total"]["priceBreakdown"]) == {
        "subTotal", "totalDiscounts", "totalLineItemSurcharges", "totalTaxes", "totalFees", "total"}

    # computed by hand from full_record(): lines 3 x 1.99 and 1 x 10.00; an order discount of 1.00, a fee of 0.20,
    # taxes 2.36 (contained in the gross prices)
    assert record["pricing"]["total"]["priceBreakdown"] == {
        "subTotal": eur(1597), "totalDiscounts": {"value": eur(100), "breakdown": {
            "lineItemDiscounts": eur(0), "orderDiscounts": eur(100)}},
        "totalLineItemSurcharges": eur(0), "totalTaxes": eur(236), "totalFees": eur(20), "total": eur(1517)}
    expected = as_served(full_record(), record)
    expected.update({
        "version": 1, "created": STAMP, "lastModified": STAMP, "anonymized": False,
        # orderRecordDate 2026-11-01T10:15:00+01:00 is 09:15 UTC; + 90 days and + 3650 days (3 leap days between)
        "gdprCleanupDate": "2027-01-30T09:15:00.000Z", "deletionDate": "2036-10-29T09:15:00.000Z",
    })
    assert record == expected

    assert await get_record(client, auth, record["id"]) == record
    listed = await list_records(client, auth)
    assert listed == {"total": 1, "orderRecords": [record]}


async def test_created_stamps_follow_the_app_clock(client: TestClient, auth: dict[str, str],
                                                   clock: FakeClock) -> None:
    clock.advance(days=3, seconds=1.2345)
    [result] = await put_records(client, [minimal_record()], auth)
    record = result["orderRecord"]
    assert record["created"] == record["lastModified"] == "2026-11-28T12:00:01.234Z"
    assert (await get_record(client, auth, record["id"]))["created"] == "2026-11-28T12:00:01.234Z"


async def test_minimal_record_round_trip(client: TestClient, auth: dict[str, str]) -> None:
    raw = minimal_record()
    del raw["lineItems"][0]["article"]["attributes"]  # the guide's leniency: stored as []
    [result] = await put_records(client, [raw], auth)
    record = result["orderRecord"]
    assert result["status"] == "CREATED"
    assert record["lineItems"][0]["article"]["attributes"] == []
    nulls = {"subTotal": None, "totalDiscounts": {"value": None, "breakdown": {"lineItemDiscounts": None,
                                                                             "orderDiscounts": None}},
             "totalLineItemSurcharges": None, "totalTaxes": None, "totalFees": None, "total": None}
    assert record["pricing"] == {"total": {"priceBreakdown": nulls}}
    assert record == as_served(minimal_record(), record)
    assert await get_record(client, auth, record["id"]) == record


@pytest.mark.parametrize("quantity", [1, 1.0, 2.5, 2147483647])
async def test_quantity_is_any_number_of_at_least_one_stored_as_sent(client: TestClient, auth: dict[str, str],
                                                                     quantity: float) -> None:
    [result] = await put_records(client, [minimal_record(lineItems=[line(quantity=quantity)])], auth)
    stored = await get_record(client, auth, result["orderRecord"]["id"])
    assert repr(stored["lineItems"][0]["quantity"]) == repr(quantity)


async def test_origin_type_defaults_to_pos(client: TestClient, auth: dict[str, str]) -> None:
    [result] = await put_records(client, [minimal_record(origin={"terminalId": "T-1"})], auth)
    assert result["orderRecord"]["origin"] == {"type": "POS", "terminalId": "T-1"}


async def test_iso_8601_date_times_are_stored_and_read_as_rfc_3339(client: TestClient,
                                                                    auth: dict[str, str]) -> None:
    raw = full_record(orderRecordDate="2026-11-01T10:15+01:00")  # as Java's OffsetDateTime.toString() writes it
    raw = set_path(raw, "lineItems.0.warranty.warrantyStartDate", "20261101T101500+0100")
    raw = set_path(raw, "lineItems.0.returnPolicy.returnWindowEndDate", "2026-12-01T00:00:00,5-05")
    [result] = await put_records(client, [raw], auth)
    assert result["status"] == "CREATED", result
    record = result["orderRecord"]
    assert record["orderRecordDate"] == "2026-11-01T10:15:00+01:00"
    assert record["lineItems"][0]["warranty"]["warrantyStartDate"] == "2026-11-01T10:15:00+01:00"
    assert record["lineItems"][0]["returnPolicy"]["returnWindowEndDate"] == "2026-12-01T00:00:00.5-05:00"
    assert (record["gdprCleanupDate"], record["deletionDate"]) == ("2027-01-30T09:15:00.000Z",
                                                                   "2036-10-29T09:15:00.000Z")
    assert await get_record(client, auth, record["id"]) == record
    assert (await list_records(client, auth))["orderRecords"] == [record]


async def test_round_trip_loses_nothing(client: TestClient, auth: dict[str, str]) -> None:
    """Odd but valid values survive every store exactly: unicode, 64-bit extremes, floats, nulls, empties."""
    odd = full_record(
        tenantOrderRecordId="odd-ß-漢字-🙂",
        facilityRef="fäcility/ \"quoted\" \\ 🙂",
        customAttributes={"max": 2**63 - 1, "min": -(2**63), "float": 0.1, "exp": 1.5e300, "neg": -0.0,
                          "null": None, "empty": {}, "list": [], "deep": {"a": {"b": {"c": [1, [2, [3]]]}}},
                          "text": "line\nbreak\ttab \u0001", "bool": False, "ünï": "cödé"},
        origin={"type": "POS", "terminalId": "T-1"},
    )
    odd["lineItems"].append(line(9, quantity=1, measurementUnitKey="kg", returnPolicy={"isReturnable": False},
                                 customAttributes=None))
    odd["lineItems"][0]["article"]["title"] = ""
    odd["payments"].append(payment(value=money(-5, decimalPlaces=4), status="PARTIALLY_REFUNDED"))
    odd["consumer"]["addresses"].append({"country": "Japan", "postalCode": "not checked"})

    [result] = await put_records(client, [odd], auth)
    assert result["status"] == "CREATED", result
    record = result["orderRecord"]
    assert record == as_served(odd, record)
    stored = await get_record(client, auth, record["id"])
    assert stored == record
    assert repr(stored["customAttributes"]) == repr(record["customAttributes"])  # 0.1 stays a float, -0.0 too


@pytest.mark.parametrize(("currency", "places"), [("EUR", 2), ("JPY", 0), ("KWD", 3), ("BHD", 3), ("CLF", 4)])
async def test_decimal_places_are_filled_from_the_currency(client: TestClient, auth: dict[str, str],
                                                           currency: str, places: int) -> None:
    raw = minimal_record(payments=[payment(value=money(1244, currency), taxValue=money(7, currency))],
                         pricing={"taxes": [{"value": money(7, currency)}], "fees": [{"value": money(3, currency)}],
                                  "discounts": [{"type": "ABSOLUTE", "value": money(1, currency)}]})
    [result] = await put_records(client, [raw], auth)
    record = result["orderRecord"]
    expected_money = {"currency": currency, "decimalPlaces": places}
    assert record["payments"][0]["value"] == {"value": 1244, **expected_money}
    assert record["payments"][0]["taxValue"] == {"value": 7, **expected_money}
    assert record["pricing"]["taxes"][0]["value"] == {"value": 7, **expected_money}
    assert record["pricing"]["fees"][0]["value"] == {"value": 3, **expected_money}
    assert record["pricing"]["discounts"][0]["value"] == {"value": 1, **expected_money}
    assert await get_record(client, auth, record["id"]) == record


async def test_given_decimal_places_are_kept(client: TestClient, auth: dict[str, str]) -> None:
    raw = minimal_record(payments=[payment(value=money(12345, decimalPlaces=3))])
    [result] = await put_records(client, [raw], auth)
    assert result["orderRecord"]["payments"][0]["value"]["decimalPlaces"] == 3


# --- the batch envelope --------------------------------------------------------------------------------------------

async def test_batch_of_25_is_accepted(client: TestClient, auth: dict[str, str]) -> None:
    batch = [minimal_record(tenantOrderRecordId=f"b-{i}") for i in range(25)]
    results = await put_records(client, batch, auth)
    assert [r["status"] for r in results] == ["CREATED"] * 25
    assert [r["orderRecord"]["tenantOrderRecordId"] for r in results] == [f"b-{i}" for i in range(25)]
    assert len({r["orderRecord"]["id"] for r in results}) == 25
    assert await stored_total(client, auth) == 25


async def test_batch_of_26_is_refused_and_nothing_stored(client: TestClient, auth: dict[str, str]) -> None:
    batch = [minimal_record(tenantOrderRecordId=f"b-{i}") for i in range(26)]
    body = await expect_problem(await put_body(client, auth, {"operations": batch}), 400)
    assert error_fields(body) == ["operations"]
    assert await stored_total(client, auth) == 0


@pytest.mark.parametrize(("payload", "field"), [
    ({"operations": []}, "operations"),
    ({}, "operations"),
    ({"records": [minimal_record()]}, None),
    ({"operations": None}, "operations"),
    ({"operations": "x"}, "operations"),
    ({"operations": minimal_record()}, "operations"),
    ({"operations": 3}, "operations"),
    ({"operations": [minimal_record()], "extra": 1}, "extra"),
    ([minimal_record()], ""),
    ([], ""),
    (42, ""),
    ("operations", ""),
    (None, ""),
], ids=["empty list", "missing", "misnamed", "null", "string", "object", "number", "unknown key", "array",
        "empty array", "number body", "string body", "null body"])
async def test_bad_envelope_is_refused(client: TestClient, auth: dict[str, str], payload: Any,
                                       field: str | None) -> None:
    body = await expect_problem(await put_body(client, auth, payload), 400)
    fields = error_fields(body)
    if field is not None:
        assert field in fields
    assert await stored_total(client, auth) == 0


@pytest.mark.parametrize("data", [b"", b"{", b"not json", b'{"operations": [}', b"\xff\xfe", b"{'a': 1}",
                                  b'{"operations": [NaN]}', b'{"operations": [{"a": 1e400}]}'],
                         ids=["empty", "truncated", "text", "broken", "bad utf-8", "single quotes", "NaN",
                              "infinite number"])
async def test_body_that_is_not_json_is_refused(client: TestClient, auth: dict[str, str], data: bytes) -> None:
    await expect_problem(await put_body(client, auth, data=data), 400)
    assert await stored_total(client, auth) == 0


async def test_body_that_is_not_declared_json_is_refused(client: TestClient, auth: dict[str, str]) -> None:
    response = await put_body(client, auth, data=json.dumps({"operations": [minimal_record()]}),
                              content_type="text/plain")
    await expect_problem(response, 415)
    assert await stored_total(client, auth) == 0


async def test_absurdly_long_number_is_a_client_error_not_a_server_error(client: TestClient,
                                                                         auth: dict[str, str]) -> None:
    digits = "9" * 5000  # more digits than Python converts by default
    data = json.dumps({"operations": [minimal_record(lineItems=[line(quantity=0)])]}).replace(
        '"quantity": 0', f'"quantity": {digits}')
    assert digits in data
    await expect_problem(await put_body(client, auth, data=data), 400)
    assert await stored_total(client, auth) == 0


# --- per-item results ----------------------------------------------------------------------------------------------

async def test_one_bad_record_fails_alone(client: TestClient, auth: dict[str, str]) -> None:
    bad = minimal_record(tenantOrderRecordId="bad")
    bad["lineItems"] = [line(0), line(1, quantity=0)]
    batch = [minimal_record(tenantOrderRecordId="first"), bad, full_record(tenantOrderRecordId="third")]
    results = await put_records(client, batch, auth)
    assert [r["status"] for r in results] == ["CREATED", "FAILED", "CREATED"]
    [error] = errors_of(results[1])
    assert error["field"] == "lineItems.1.quantity"
    assert isinstance(error["message"], str) and error["message"]

    assert await stored_total(client, auth) == 2
    for result in (results[0], results[2]):
        assert await get_record(client, auth, result["orderRecord"]["id"]) == result["orderRecord"]
    assert await stored_total(client, auth, tenantOrderRecordId="bad") == 0


async def test_record_that_is_not_an_object_fails_alone(client: TestClient, auth: dict[str, str]) -> None:
    results = await put_records(client, [minimal_record(), "x", 3, None, [], minimal_record()], auth)
    assert [r["status"] for r in results] == ["CREATED", "FAILED", "FAILED", "FAILED", "FAILED", "CREATED"]
    for result in results[1:5]:
        assert [e["field"] for e in errors_of(result)] == [""]
    assert await stored_total(client, auth) == 2


def case(name: str, record: dict[str, Any], field: str | None = None, message: str | None = None
         ) -> tuple[str, dict[str, Any], str | None, str | None]:
    """One row of the limits table: `field` None means the record is valid and must be created."""
    record.setdefault("tenantOrderRecordId", f"case-{name}")
    return name, record, field, message





def entries(n: int) -> list[dict[str, Any]]:
    return [{"value": money(1)} for _ in range(n)]


def limit_cases() -> list[tuple[str, dict[str, Any], str | None, str | None]]:
    full = full_record()
    del full["tenantOrderRecordId"]
    minimal = minimal_record()
    cases = [
        case("lineItems 500", minimal_record(lineItems=[line(i, unit_price=i) for i in range(500)])),
        case("lineItems 501", minimal_record(lineItems=[line(i) for i in range(501)]), "lineItems"),
        case("lineItems 0", minimal_record(lineItems=[]), "lineItems"),
        case("addresses 10", set_path(full, "consumer.addresses", [address() for _ in range(10)])),
        case("addresses 11", set_path(full, "consumer.addresses", [address() for _ in range(11)]),
             "consumer.addresses"),
        case("payments 100", minimal_record(payments=[payment() for _ in range(100)])),
        case("payments 101", minimal_record(payments=[payment() for _ in range(101)]), "payments"),
        case("discounts 100", minimal_record(pricing={"discounts": entries(100)})),
        case("discounts 101", minimal_record(pricing={"discounts": entries(101)}), "pricing.discounts"),
        case("fees 100", minimal_record(pricing={"fees": entries(100)})),
        case("fees 101", minimal_record(pricing={"fees": entries(101)}), "pricing.fees"),
        case("taxes 100", minimal_record(pricing={"taxes": entries(100)})),
        case("taxes 101", minimal_record(pricing={"taxes": entries(101)}), "pricing.taxes"),
        case("facilityRef 1", minimal_record(facilityRef="f")),
        case("facilityRef 256", minimal_record(facilityRef="f" * 256)),
        case("facilityRef 0", minimal_record(facilityRef=""), "facilityRef"),
        case("facilityRef 257", minimal_record(facilityRef="f" * 257), "facilityRef"),
        case("tenantOrderRecordId 256", minimal_record(tenantOrderRecordId="t" * 256)),
        case("tenantOrderRecordId 0", minimal_record(tenantOrderRecordId=""), "tenantOrderRecordId"),
        case("tenantOrderRecordId 257", minimal_record(tenantOrderRecordId="t" * 257), "tenantOrderRecordId"),
        case("quantity 1", set_path(minimal, "lineItems.0.quantity", 1)),
        case("quantity 0", set_path(minimal, "lineItems.0.quantity", 0), "lineItems.0.quantity"),
        case("quantity -3", set_path(minimal, "lineItems.0.quantity", -3), "lineItems.0.quantity"),
        case("quantity string", set_path(minimal, "lineItems.0.quantity", "2"), "lineItems.0.quantity"),
        case("quantity 2.0", set_path(minimal, "lineItems.0.quantity", 2.0)),
        case("quantity 0.5", set_path(minimal, "lineItems.0.quantity", 0.5), "lineItems.0.quantity"),
        case("quantity 2**31", set_path(minimal, "lineItems.0.quantity", 2**31), "lineItems.0.quantity"),
        case("quantity true", set_path(minimal, "lineItems.0.quantity", True), "lineItems.0.quantity"),
        case("quantity 2**64", set_path(minimal, "lineItems.0.quantity", 2**64), "lineItems.0.quantity"),
        case("value 2**63", set_path(full, "payments.0.value.value", 2**63), "payments.0.value.value"),
        case("value 2**64", set_path(full, "pricing.fees.0.value.value", 2**64), "pricing.fees.0.value.value"),
        case("value -2**64", set_path(full, "payments.0.value.value", -(2**64)), "payments.0.value.value"),
        case("value 10**30", set_path(full, "pricing.taxes.0.value.value", 10**30), "pricing.taxes.0.value.value"),
        case("customAttributes 2**63", minimal_record(customAttributes={"n": 2**63}), "customAttributes",
             "64 bits"),
        case("customAttributes 2**64", minimal_record(customAttributes={"n": [2**64]}), "customAttributes",
             "64 bits"),
        case("customAttributes 10**400", minimal_record(customAttributes={"n": {"m": 10**400}}), "customAttributes",
             "64 bits"),
        case("value 10**400", set_path(full, "payments.0.taxValue.value", -(10**400)), "payments.0.taxValue.value"),
        case("decimalPlaces 8", set_path(full, "payments.0.value.decimalPlaces", 8)),
        case("decimalPlaces 9", set_path(full, "payments.0.value.decimalPlaces", 9), "payments.0.value.decimalPlaces"),
        case("customAttributes 10**30", set_path(full, "lineItems.0.customAttributes", {"n": -(10**30)}),
             "lineItems.0.customAttributes", "64 bits"),
        case("PERCENTAGE without percentage", minimal_record(pricing={"discounts": [{"type": "PERCENTAGE"}]}),
             "pricing.discounts.0.percentage", "PERCENTAGE"),
        case("ABSOLUTE without value", minimal_record(pricing={"discounts": [{"type": "ABSOLUTE"}]}),
             "pricing.discounts.0.value", "ABSOLUTE"),
        case("percentage 101", minimal_record(pricing={"discounts": [{"type": "PERCENTAGE", "percentage": 101}]}),
             "pricing.discounts.0.percentage"),
        case("percentage 12.5", minimal_record(pricing={"discounts": [{"type": "PERCENTAGE", "percentage": 12.5}]})),
        case("tax without value", minimal_record(pricing={"taxes": [{"ratePercent": 19}]}), "pricing.taxes.0.value"),
        case("payment without value", minimal_record(payments=[{"paymentMethod": "CASH"}]), "payments.0.value"),
        case("attribute category", set_path(full, "lineItems.0.article.attributes.0.category", "colour"),
             "lineItems.0.article.attributes.0.category"),
        case("attribute type", set_path(full, "lineItems.0.article.attributes.0.type", "TEXT"),
             "lineItems.0.article.attributes.0.type"),
        case("attribute value empty", set_path(full, "lineItems.0.article.attributes.0.value", ""),
             "lineItems.0.article.attributes.0.value"),
        case("isReturnable string", set_path(full, "lineItems.0.returnPolicy.isReturnable", "true"),
             "lineItems.0.returnPolicy.isReturnable"),
        case("ratePercent string", set_path(full, "pricing.taxes.0.ratePercent", "19"), "pricing.taxes.0.ratePercent"),
        case("status PAID", set_path(full, "payments.0.status", "PAID"), "payments.0.status"),
        case("currency EURO", set_path(full, "payments.0.value.currency", "EURO"), "payments.0.value.currency",
             "ISO 4217"),
        case("currency XYZ", set_path(full, "payments.0.value.currency", "XYZ"), "payments.0.value.currency"),
        case("currency ANG (withdrawn, official)", set_path(full, "payments.0.value", money(1, "ANG"))),
        case("currency BGN (withdrawn, official)", set_path(full, "payments.0.value", money(1, "BGN"))),
        case("currencies mixed", set_path(full, "payments.0.value", money(1000, "USD"))),
        case("date without offset", minimal_record(orderRecordDate="2026-11-01T10:15:00"), "orderRecordDate",
             "offset"),
        case("date unpadded", minimal_record(orderRecordDate="2026-1-5T1:2Z"), "orderRecordDate"),
        case("date mixing basic and extended", minimal_record(orderRecordDate="20261101T10:15:00+01:00"),
             "orderRecordDate", "Not a valid datetime."),
        case("date basic without offset", minimal_record(orderRecordDate="20261101T101500"), "orderRecordDate",
             "offset"),
        case("duration", set_path(full, "lineItems.0.warranty.warrantyPeriod", "2 years"),
             "lineItems.0.warranty.warrantyPeriod", "match"),
        case("duration negative", set_path(full, "lineItems.0.warranty.warrantyPeriod", "-P1Y")),
        case("warranty period alone", set_path(full, "lineItems.0.warranty", {"warrantyPeriod": "P6M"})),
        case("returnPolicy without isReturnable", set_path(full, "lineItems.0.returnPolicy", {})),
        case("address without country", set_path(full, "consumer.addresses.0", {"city": "Berlin"})),
        case("country as text", set_path(full, "consumer.addresses.0.country", "Germany")),
        case("email as text", set_path(full, "consumer.email", "jane.doe(at)example.com")),
        case("customAttributes null", minimal_record(customAttributes=None)),
        case("origin type", set_path(full, "origin.type", "WEB"), "origin.type"),
        case("unknown top-level", minimal_record(notes="x"), "notes", "Unknown field."),
        case("unknown nested", set_path(full, "consumer.addresses.0.state", "BE"), "consumer.addresses.0.state",
             "Unknown field."),
        case("old field price", set_path(minimal, "lineItems.0.price", money(1)), "lineItems.0.price",
             "Unknown field."),
        case("unknown in line item", set_path(minimal, "lineItems.0.article.ean", "4000"), "lineItems.0.article.ean",
             "Unknown field."),
        case("pricing.total given", set_path(full, "pricing.total", {"priceBreakdown": {}}),
             "pricing.total", SYSTEM_MESSAGE),
        case("line item id given", set_path(minimal, "lineItems.0.id", "x"), "lineItems.0.id", SYSTEM_MESSAGE),
    ]
    system = {"id": "65a1b2c3d4e5f60718293a4b", "version": 1, "created": STAMP, "lastModified": STAMP,
              "anonymized": False, "gdprCleanupDate": STAMP, "deletionDate": STAMP}
    cases += [case(f"system field {name}", minimal_record(**{name: value}), name, SYSTEM_MESSAGE)
              for name, value in system.items()]
    cases += [case(f"status {s}", set_path(full, "payments.0.status", s))
              for s in ("COMPLETED", "FAILED", "CANCELLED", "REFUNDED", "PARTIALLY_REFUNDED")]
    return cases


async def test_every_limit_per_record(client: TestClient, auth: dict[str, str]) -> None:
    cases = limit_cases()
    mismatches: list[str] = []
    created: list[tuple[str, dict[str, Any]]] = []
    for batch in chunks(cases):
        results = await put_records(client, [record for _, record, _, _ in batch], auth)
        assert len(results) == len(batch)
        for (name, record, field, message), result in zip(batch, results, strict=True):
            if field is None:
                if result["status"] != "CREATED":
                    mismatches.append(f"{name}: expected CREATED, got {result}")
                else:
                    created.append((name, result["orderRecord"]))
                    if result["orderRecord"]["tenantOrderRecordId"] != record["tenantOrderRecordId"]:
                        mismatches.append(f"{name}: wrong record returned")
                continue
            errors = errors_of(result) if result["status"] == "FAILED" else []
            if result["status"] != "FAILED" or "orderRecord" in result:
                mismatches.append(f"{name}: expected FAILED on {field}, got {result['status']}")
            elif [e["field"] for e in errors] != [field]:
                mismatches.append(f"{name}: expected errors on [{field}], got {errors}")
            elif message is not None and message not in errors[0]["message"]:
                mismatches.append(f"{name}: expected a message with {message!r}, got {errors[0]['message']!r}")
    assert not mismatches, "\n".join(mismatches)

    valid = [name for name, _, field, _ in cases if field is None]
    assert await stored_total(client, auth) == len(valid)
    for name, record in created:
        assert await stored_total(client, auth, tenantOrderRecordId=record["tenantOrderRecordId"]) == 1, name
    big = next(record for name, record in created if name == "lineItems 500")
    stored = await get_record(client, auth, big["id"])
    assert len(stored["lineItems"]) == 500
    assert len({item["id"] for item in stored["lineItems"]}) == 500


async def test_all_reasons_of_a_failed_record_are_listed(client: TestClient, auth: dict[str, str]) -> None:
    bad = full_record(version=3, lineItems=[line(0, quantity=0), line(1, unit_price=1)])
    bad["consumer"]["email"] = 5
    [result] = await put_records(client, [bad], auth)
    assert result["status"] == "FAILED"
    assert {(e["field"]) for e in errors_of(result)} == {"version", "lineItems.0.quantity", "consumer.email"}
    assert {"field": "version", "message": SYSTEM_MESSAGE} in errors_of(result)
    assert await stored_total(client, auth) == 0


async def test_errors_of_a_record_are_capped(client: TestClient, auth: dict[str, str]) -> None:
    bad = minimal_record(**{f"unknown{i}": i for i in range(1000)})
    [failed, created] = await put_records(client, [bad, minimal_record()], auth)
    assert failed["status"] == "FAILED" and created["status"] == "CREATED"
    errors = errors_of(failed)
    assert len(errors) == MAX_ERRORS
    assert all(e["message"] == "Unknown field." for e in errors[:-1])
    assert errors[-1] == {"field": "", "message": f"{1000 - MAX_ERRORS + 1} more errors omitted."}


async def test_errors_of_a_request_are_capped(client: TestClient, auth: dict[str, str]) -> None:
    body = {"operations": [minimal_record()], **{f"unknown{i}": i for i in range(MAX_ERRORS + 1)}}
    problem = await expect_problem(await client.put(URL, json=body, headers=auth), 400)
    assert len(problem) == MAX_ERRORS
    assert problem[-1] == {"summary": "Invalid input", "description": "2 more errors omitted."}
    assert await stored_total(client, auth) == 0


async def test_exactly_the_cap_is_listed_whole(client: TestClient, auth: dict[str, str]) -> None:
    bad = minimal_record(**{f"unknown{i}": i for i in range(MAX_ERRORS)})
    [failed] = await put_records(client, [bad], auth)
    assert len(errors_of(failed)) == MAX_ERRORS
    assert all(e["message"] == "Unknown field." for e in errors_of(failed))


async def test_a_body_of_unknown_fields_gets_a_small_answer(client: TestClient, auth: dict[str, str]) -> None:
    records = [minimal_record(**{f"u{i}": 0 for i in range(4000)}) for _ in range(25)]
    body = json.dumps({"operations": records}).encode()
    response = await client.put(URL, data=body, headers={**auth, "Content-Type": "application/json"})
    assert response.status == 200
    assert len(await response.read()) < 25 * MAX_ERRORS * 100 < len(body)


# --- idempotent retries --------------------------------------------------------------------------------------------

async def test_same_tenant_id_twice_in_one_batch(client: TestClient, auth: dict[str, str]) -> None:
    first = full_record(tenantOrderRecordId="dup-1")
    changed = minimal_record(tenantOrderRecordId="dup-1", facilityRef="another-facility")
    results = await put_records(client, [first, changed, first], auth)
    assert [r["status"] for r in results] == ["CREATED", "FAILED", "UNCHANGED"]
    stored_id = results[0]["orderRecord"]["id"]
    assert stored_id in results[1]["error"]["message"] and "dup-1" in results[1]["error"]["message"]
    assert results[2]["orderRecord"] == results[0]["orderRecord"]
    assert await stored_total(client, auth) == 1
    assert await stored_total(client, auth, facilityRef="another-facility") == 0
    assert await get_record(client, auth, results[0]["orderRecord"]["id"]) == results[0]["orderRecord"]


async def test_retried_batch_creates_nothing_new(client: TestClient, auth: dict[str, str],
                                                 clock: FakeClock) -> None:
    batch = [full_record(tenantOrderRecordId=f"retry-{i}") for i in range(5)]
    first = await put_records(client, batch, auth)
    assert [r["status"] for r in first] == ["CREATED"] * 5

    clock.advance(hours=1)
    again = await put_records(client, batch, auth)
    assert [r["status"] for r in again] == ["UNCHANGED"] * 5
    assert [r["orderRecord"] for r in again] == [r["orderRecord"] for r in first]
    assert all(r["orderRecord"]["created"] == STAMP for r in again)
    assert await stored_total(client, auth) == 5

    # a retry that adds a record: only the new one is created
    mixed = await put_records(client, [*batch[:2], full_record(tenantOrderRecordId="retry-new")], auth)
    assert [r["status"] for r in mixed] == ["UNCHANGED", "UNCHANGED", "CREATED"]
    assert mixed[2]["orderRecord"]["created"] == "2026-11-25T13:00:00.000Z"
    assert await stored_total(client, auth) == 6
    listed = await list_records(client, auth)
    assert [r["tenantOrderRecordId"] for r in listed["orderRecords"]] == [*(f"retry-{i}" for i in range(5)),
                                                                          "retry-new"]


async def test_failed_record_does_not_claim_its_tenant_id(client: TestClient, auth: dict[str, str]) -> None:
    bad = minimal_record(tenantOrderRecordId="later", lineItems=[])
    [failed] = await put_records(client, [bad], auth)
    assert failed["status"] == "FAILED"
    [created] = await put_records(client, [minimal_record(tenantOrderRecordId="later")], auth)
    assert created["status"] == "CREATED"


async def test_records_without_tenant_id_are_always_created(client: TestClient, auth: dict[str, str]) -> None:
    record = minimal_record()
    first = await put_records(client, [record, record, record], auth)
    second = await put_records(client, [record, record], auth)
    results = first + second
    assert [r["status"] for r in results] == ["CREATED"] * 5
    assert len({r["orderRecord"]["id"] for r in results}) == 5
    assert all("tenantOrderRecordId" not in r["orderRecord"] for r in results)
    assert await stored_total(client, auth) == 5


# --- retention and anonymization at creation ------------------------------------------------------------------------

async def test_record_past_its_retention_period_is_refused(client: TestClient, auth: dict[str, str]) -> None:
    expired = full_record(tenantOrderRecordId="expired",
                          orderRecordDate=at(NOW - timedelta(days=3650, seconds=1)))
    ancient = minimal_record(orderRecordDate="1999-12-31T23:59:59+01:00")
    results = await put_records(client, [expired, ancient, minimal_record()], auth)
    assert [r["status"] for r in results] == ["FAILED", "FAILED", "CREATED"]
    for result in results[:2]:
        [error] = errors_of(result)
        assert error["field"] == "orderRecordDate"
        assert "Retention period is over" in error["message"]
    assert await stored_total(client, auth) == 1
    assert await stored_total(client, auth, tenantOrderRecordId="expired") == 0


async def test_record_past_its_cleanup_date_is_stored_anonymized(client: TestClient, auth: dict[str, str]) -> None:
    date = at(NOW - timedelta(days=91))
    raw = full_record(orderRecordDate=date)
    raw["consumer"]["addresses"].append({"country": "FR", "lastName": "Martin", "province": "Paris"})
    [result] = await put_records(client, [raw], auth)
    assert result["status"] == "CREATED", result
    record = result["orderRecord"]
    assert record["anonymized"] is True
    assert record["version"] == 1
    assert record["created"] == record["lastModified"] == STAMP
    assert record["consumer"] == {"addresses": [{"country": "DE"}, {"country": "FR"}]}
    assert record["origin"] == {"type": "POS", "terminalId": "T-7"}  # the cashier is an actor: removed too
    assert record["gdprCleanupDate"] == "2026-11-24T12:00:00.000Z"

    # nothing but personal data is touched
    expected = as_served(raw, record)
    expected["consumer"], expected["origin"] = record["consumer"], record["origin"]
    assert record == expected
    assert await get_record(client, auth, record["id"]) == record

    # a resend is judged on what anonymization keeps: the same record is UNCHANGED, another FAILED
    [again] = await put_records(client, [raw], auth)
    assert again == {"status": "UNCHANGED", "orderRecord": record}
    [changed] = await put_records(client, [full_record(orderRecordDate=date, facilityRef="other")], auth)
    assert changed["status"] == "FAILED"


@pytest.mark.parametrize(("age", "anonymized"), [(timedelta(days=89, hours=23, minutes=59), False),
                                                 (timedelta(days=90), True)])
async def test_cleanup_date_boundary(client: TestClient, auth: dict[str, str], age: timedelta,
                                     anonymized: bool) -> None:
    [result] = await put_records(client, [full_record(orderRecordDate=at(NOW - age))], auth)
    record = result["orderRecord"]
    assert record["anonymized"] is anonymized
    assert ("email" in record["consumer"]) is not anonymized
    assert (await get_record(client, auth, record["id"]))["anonymized"] is anonymized


async def test_lifecycle_follows_the_gdpr_settings(aiohttp_client: Any, make_app: Any, settings: Settings,
                                                   auth: dict[str, str]) -> None:
    custom = settings.replace({"gdpr.retention_time": 7, "gdpr.deletion_time_after_retention": 23})
    client = await aiohttp_client(make_app(settings=custom))
    batch = [minimal_record(orderRecordDate="2026-11-20T00:00:00+00:00", tenantOrderRecordId="fresh"),
             minimal_record(orderRecordDate="2026-11-10T00:00:00+00:00", tenantOrderRecordId="old",
                            consumer={"email": "a@example.com"}),
             minimal_record(orderRecordDate="2026-10-20T00:00:00+00:00", tenantOrderRecordId="expired")]
    results = await put_records(client, batch, auth)
    assert [r["status"] for r in results] == ["CREATED", "CREATED", "FAILED"]
    fresh, old = results[0]["orderRecord"], results[1]["orderRecord"]
    assert (fresh["gdprCleanupDate"], fresh["deletionDate"]) == ("2026-11-27T00:00:00.000Z",
                                                                 "2026-12-20T00:00:00.000Z")
    assert fresh["anonymized"] is False
    assert old["anonymized"] is True
    assert old["consumer"] == {}
    assert "30 days" in errors_of(results[2])[0]["message"]
