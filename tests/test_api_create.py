"""Contract tests of PUT /api/orderrecords (REFERENCE.md), run against every store kind by the `client` fixture."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from app.errors import MAX_ERRORS
from app.settings import Settings
from tests.conftest import NOW, FakeClock, expect_problem, put_records
from tests.factories import full_record, minimal_record, money, set_path, with_places

URL = "/api/orderrecords"
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
STAMP = "2026-11-25T12:00:00.000Z"  # NOW as the service formats its own timestamps
SYSTEM_MESSAGE = "Set by the service; not accepted on input."
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





def error_fields(body: dict[str, Any]) -> list[str]:
    assert isinstance(body.get("errors"), list) and body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"field", "message"}, error
    return [e["field"] for e in body["errors"]]





def eur(value: int) -> dict[str, Any]:
    return {"value": value, "currency": "EUR", "decimalPlaces": 2}


def at(moment: Any) -> str:
    return moment.isoformat()


def line(i: int = 0, **extra: Any) -> dict[str, Any]:
    return {"article": {"tenantArticleId": f"art-{i}"}, "quantity": 1, **extra}


def payment(**extra: Any) -> dict[str, Any]:
    return {"method": "CARD", "amount": money(100), "status": "COMPLETED", **extra}


def address(country: str = "DE") -> dict[str, Any]:
    return {"addressType": "INVOICE_ADDRESS", "firstName": "Jane", "city": "Berlin", "country": country}


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

    # computed by hand from full_record(): lines 3 x 199 (+25 deposit) and 1 x 1000; discount 100; fee 20;
    # taxes 256 (included in the prices) and 5 (not included).
    expected = with_places(full_record())
    expected["pricing"]["priceBreakdown"] = {
        "subTotal": eur(3 * 199 + 1000),  # 1597
        "totalDeposit": eur(3 * 25),  # 75
        "totalDiscounts": eur(100),
        "totalFees": eur(20),
        "totalTaxes": eur(256 + 5),
        "total": eur(1597 - 100 + 20 + 75 + 5),  # 1597
    }
    expected.update({
        "id": record["id"], "version": 1, "created": STAMP, "lastModified": STAMP, "anonymized": False,
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
    [result] = await put_records(client, [minimal_record()], auth)
    record = result["orderRecord"]
    assert result["status"] == "CREATED"
    assert "pricing" not in record
    assert {k: v for k, v in record.items() if k not in {"id", "version", "created", "lastModified", "anonymized",
                                                          "gdprCleanupDate", "deletionDate"}} == minimal_record()
    assert await get_record(client, auth, record["id"]) == record


async def test_iso_8601_date_times_are_stored_and_read_as_rfc_3339(client: TestClient,
                                                                    auth: dict[str, str]) -> None:
    raw = full_record(orderRecordDate="2026-11-01T10:15+01:00")  # as Java's OffsetDateTime.toString() writes it
    raw = set_path(raw, "lineItems.0.warranty.warrantyStartDate", "20261101T101500+0100")
    raw = set_path(raw, "lineItems.0.returnPolicy.returnWindowEndDate", "2026-12-01T00:00:00,5-05")
    raw = set_path(raw, "payments.0.paidAt", "2026-11-01T10:16:00.25Z")  # RFC 3339 already: kept as given
    [result] = await put_records(client, [raw], auth)
    assert result["status"] == "CREATED", result
    record = result["orderRecord"]
    assert record["orderRecordDate"] == "2026-11-01T10:15:00+01:00"
    assert record["lineItems"][0]["warranty"]["warrantyStartDate"] == "2026-11-01T10:15:00+01:00"
    assert record["lineItems"][0]["returnPolicy"]["returnWindowEndDate"] == "2026-12-01T00:00:00.5-05:00"
    assert record["payments"][0]["paidAt"] == "2026-11-01T10:16:00.25Z"
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
        origin={"terminalId": "T-1"},
    )
    odd["lineItems"].append(line(9, price=money(-2**63 + 1), quantity=1, measurementUnitKey="kg",
                                 returnPolicy={"isReturnable": False}))
    odd["lineItems"].append(line(10, price=money(2**63 - 1)))
    odd["lineItems"][0]["article"]["title"] = ""
    odd["payments"].append(payment(amount=money(-5, decimalPlaces=4), status="PARTIALLY_REFUNDED"))
    odd["consumer"]["addresses"].append({"country": "JP"})

    [result] = await put_records(client, [odd], auth)
    assert result["status"] == "CREATED", result
    record = result["orderRecord"]
    breakdown = record["pricing"].pop("priceBreakdown")
    input_part = {k: v for k, v in record.items() if k not in {"id", "version", "created", "lastModified",
                                                                "anonymized", "gdprCleanupDate", "deletionDate"}}
    assert input_part == with_places(odd)
    assert breakdown["subTotal"] == eur(3 * 199 + 1000 + (-2**63 + 1) + 2**63 - 1)
    record["pricing"]["priceBreakdown"] = breakdown
    stored = await get_record(client, auth, record["id"])
    assert stored == record
    assert repr(stored["customAttributes"]) == repr(record["customAttributes"])  # 0.1 stays a float, -0.0 too


@pytest.mark.parametrize(("currency", "places"), [("EUR", 2), ("JPY", 0), ("KWD", 3)])
async def test_decimal_places_are_filled_from_the_currency(client: TestClient, auth: dict[str, str],
                                                           currency: str, places: int) -> None:
    raw = minimal_record(lineItems=[line(price=money(1234, currency), deposit=money(10, currency))],
                         payments=[payment(amount=money(1244, currency))],
                         pricing={"taxes": [{"amount": money(7, currency), "includedInPrice": False}]})
    [result] = await put_records(client, [raw], auth)
    record = result["orderRecord"]
    expected_money = {"currency": currency, "decimalPlaces": places}
    assert record["lineItems"][0]["price"] == {"value": 1234, **expected_money}
    assert record["lineItems"][0]["deposit"] == {"value": 10, **expected_money}
    assert record["payments"][0]["amount"] == {"value": 1244, **expected_money}
    assert record["pricing"]["taxes"][0]["amount"] == {"value": 7, **expected_money}
    assert record["pricing"]["priceBreakdown"]["total"] == {"value": 1234 + 10 + 7, **expected_money}
    assert await get_record(client, auth, record["id"]) == record


async def test_given_decimal_places_are_kept(client: TestClient, auth: dict[str, str]) -> None:
    raw = minimal_record(lineItems=[line(price=money(12345, decimalPlaces=3)), line(1, price=money(100))])
    [result] = await put_records(client, [raw], auth)
    record = result["orderRecord"]
    assert record["lineItems"][0]["price"]["decimalPlaces"] == 3
    assert record["lineItems"][1]["price"]["decimalPlaces"] == 2
    # summed at the larger precision: 12.345 + 1.000
    assert record["pricing"]["priceBreakdown"]["subTotal"] == {"value": 13345, "currency": "EUR",
                                                               "decimalPlaces": 3}


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
    body = await expect_problem(await put_body(client, auth, {"orderRecords": batch}), 400)
    assert error_fields(body) == ["orderRecords"]
    assert await stored_total(client, auth) == 0


@pytest.mark.parametrize(("payload", "field"), [
    ({"orderRecords": []}, "orderRecords"),
    ({}, "orderRecords"),
    ({"records": [minimal_record()]}, None),
    ({"orderRecords": None}, "orderRecords"),
    ({"orderRecords": "x"}, "orderRecords"),
    ({"orderRecords": minimal_record()}, "orderRecords"),
    ({"orderRecords": 3}, "orderRecords"),
    ({"orderRecords": [minimal_record()], "extra": 1}, "extra"),
    ([minimal_record()], ""),
    ([], ""),
    (42, ""),
    ("orderRecords", ""),
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


@pytest.mark.parametrize("data", [b"", b"{", b"not json", b'{"orderRecords": [}', b"\xff\xfe", b"{'a': 1}",
                                  b'{"orderRecords": [NaN]}', b'{"orderRecords": [{"a": 1e400}]}'],
                         ids=["empty", "truncated", "text", "broken", "bad utf-8", "single quotes", "NaN",
                              "infinite number"])
async def test_body_that_is_not_json_is_refused(client: TestClient, auth: dict[str, str], data: bytes) -> None:
    await expect_problem(await put_body(client, auth, data=data), 400)
    assert await stored_total(client, auth) == 0


async def test_body_that_is_not_declared_json_is_refused(client: TestClient, auth: dict[str, str]) -> None:
    response = await put_body(client, auth, data=json.dumps({"orderRecords": [minimal_record()]}),
                              content_type="text/plain")
    await expect_problem(response, 415)
    assert await stored_total(client, auth) == 0


async def test_absurdly_long_number_is_a_client_error_not_a_server_error(client: TestClient,
                                                                         auth: dict[str, str]) -> None:
    digits = "9" * 5000  # more digits than Python converts by default
    data = json.dumps({"orderRecords": [minimal_record(lineItems=[line(quantity=0)])]}).replace(
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
    assert set(results[1]) == {"status", "errors"}
    [error] = results[1]["errors"]
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
        assert [e["field"] for e in result["errors"]] == [""]
    assert await stored_total(client, auth) == 2


def case(name: str, record: dict[str, Any], field: str | None = None, message: str | None = None
         ) -> tuple[str, dict[str, Any], str | None, str | None]:
    """One row of the limits table: `field` None means the record is valid and must be created."""
    record.setdefault("tenantOrderRecordId", f"case-{name}")
    return name, record, field, message





def entries(n: int) -> list[dict[str, Any]]:
    return [{"amount": money(1)} for _ in range(n)]


def limit_cases() -> list[tuple[str, dict[str, Any], str | None, str | None]]:
    full = full_record()
    del full["tenantOrderRecordId"]
    minimal = minimal_record()
    cases = [
        case("lineItems 500", minimal_record(lineItems=[line(i, price=money(i)) for i in range(500)])),
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
        case("quantity 2.0", set_path(minimal, "lineItems.0.quantity", 2.0), "lineItems.0.quantity"),
        case("quantity true", set_path(minimal, "lineItems.0.quantity", True), "lineItems.0.quantity"),
        case("quantity 2**64", set_path(minimal, "lineItems.0.quantity", 2**64), "lineItems.0.quantity"),
        case("value 2**63", set_path(full, "lineItems.0.price.value", 2**63), "lineItems.0.price.value"),
        case("value 2**64", set_path(full, "lineItems.0.price.value", 2**64), "lineItems.0.price.value"),
        case("value -2**64", set_path(full, "payments.0.amount.value", -(2**64)), "payments.0.amount.value"),
        case("value 10**30", set_path(full, "lineItems.0.deposit.value", 10**30), "lineItems.0.deposit.value"),
        case("customAttributes 2**63", minimal_record(customAttributes={"n": 2**63}), "customAttributes",
             "64 bits"),
        case("customAttributes 2**64", minimal_record(customAttributes={"n": [2**64]}), "customAttributes",
             "64 bits"),
        case("customAttributes 10**400", minimal_record(customAttributes={"n": {"m": 10**400}}), "customAttributes",
             "64 bits"),
        case("value 10**400", set_path(full, "lineItems.1.price.value", -(10**400)), "lineItems.1.price.value"),
        case("customAttributes 10**30", set_path(full, "lineItems.0.customAttributes", {"n": -(10**30)}),
             "lineItems.0.customAttributes", "64 bits"),
        case("subTotal beyond 64 bits", minimal_record(lineItems=[line(0, price=money(2**62), quantity=2)],
                                                       pricing={"discounts": [{"amount": money(1)}]}),
             "pricing.priceBreakdown.subTotal", "64 bits"),
        case("isReturnable string", set_path(full, "lineItems.0.returnPolicy.isReturnable", "true"),
             "lineItems.0.returnPolicy.isReturnable"),
        case("includedInPrice 1", set_path(full, "pricing.taxes.1.includedInPrice", 1),
             "pricing.taxes.1.includedInPrice"),
        case("rate string", set_path(full, "pricing.taxes.0.rate", "19"), "pricing.taxes.0.rate"),
        case("status PAID", set_path(full, "payments.0.status", "PAID"), "payments.0.status"),
        case("currency EURO", set_path(full, "lineItems.0.price.currency", "EURO"), "lineItems.0.price.currency",
             "ISO 4217"),
        case("currency mixed", set_path(full, "lineItems.1.price", money(1000, "USD")),
             "lineItems.1.price.currency", "one currency"),
        case("date without offset", minimal_record(orderRecordDate="2026-11-01T10:15:00"), "orderRecordDate",
             "offset"),
        case("date unpadded", minimal_record(orderRecordDate="2026-1-5T1:2Z"), "orderRecordDate"),
        case("date mixing basic and extended", minimal_record(orderRecordDate="20261101T10:15:00+01:00"),
             "orderRecordDate", "Not a valid datetime."),
        case("date basic without offset", minimal_record(orderRecordDate="20261101T101500"), "orderRecordDate",
             "offset"),
        case("duration", set_path(full, "lineItems.0.warranty.warrantyPeriod", "2 years"),
             "lineItems.0.warranty.warrantyPeriod", "ISO 8601 duration"),
        case("country", set_path(full, "consumer.addresses.0.country", "Germany"), "consumer.addresses.0.country",
             "ISO 3166-1"),
        case("email", set_path(full, "consumer.email", "jane.doe(at)example.com"), "consumer.email"),
        case("unknown top-level", minimal_record(notes="x"), "notes", "Unknown field."),
        case("unknown nested", set_path(full, "consumer.addresses.0.state", "BE"), "consumer.addresses.0.state",
             "Unknown field."),
        case("unknown in line item", set_path(minimal, "lineItems.0.article.ean", "4000"), "lineItems.0.article.ean",
             "Unknown field."),
        case("priceBreakdown given", set_path(full, "pricing.priceBreakdown", {"total": money(1)}),
             "pricing.priceBreakdown", SYSTEM_MESSAGE),
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
            errors = result.get("errors") or []
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
    assert stored["pricing"]["priceBreakdown"]["subTotal"]["value"] == sum(range(500))


async def test_all_reasons_of_a_failed_record_are_listed(client: TestClient, auth: dict[str, str]) -> None:
    bad = full_record(version=3, lineItems=[line(0, quantity=0), line(1, price=money(1, "USD"))])
    bad["consumer"]["email"] = "nope"
    [result] = await put_records(client, [bad], auth)
    assert result["status"] == "FAILED"
    assert {(e["field"]) for e in result["errors"]} == {"version", "lineItems.0.quantity", "consumer.email"}
    assert {"field": "version", "message": SYSTEM_MESSAGE} in result["errors"]
    assert await stored_total(client, auth) == 0


async def test_errors_of_a_record_are_capped(client: TestClient, auth: dict[str, str]) -> None:
    bad = minimal_record(**{f"unknown{i}": i for i in range(1000)})
    [failed, created] = await put_records(client, [bad, minimal_record()], auth)
    assert failed["status"] == "FAILED" and created["status"] == "CREATED"
    errors = failed["errors"]
    assert len(errors) == MAX_ERRORS
    assert all(e["message"] == "Unknown field." for e in errors[:-1])
    assert errors[-1] == {"field": "", "message": f"{1000 - MAX_ERRORS + 1} more errors omitted."}


async def test_errors_of_a_request_are_capped(client: TestClient, auth: dict[str, str]) -> None:
    body = {"orderRecords": [minimal_record()], **{f"unknown{i}": i for i in range(MAX_ERRORS + 1)}}
    problem = await expect_problem(await client.put(URL, json=body, headers=auth), 400)
    assert len(problem["errors"]) == MAX_ERRORS
    assert problem["errors"][-1] == {"field": "", "message": "2 more errors omitted."}
    assert await stored_total(client, auth) == 0


async def test_exactly_the_cap_is_listed_whole(client: TestClient, auth: dict[str, str]) -> None:
    bad = minimal_record(**{f"unknown{i}": i for i in range(MAX_ERRORS)})
    [failed] = await put_records(client, [bad], auth)
    assert len(failed["errors"]) == MAX_ERRORS
    assert all(e["message"] == "Unknown field." for e in failed["errors"])


async def test_a_body_of_unknown_fields_gets_a_small_answer(client: TestClient, auth: dict[str, str]) -> None:
    records = [minimal_record(**{f"u{i}": 0 for i in range(4000)}) for _ in range(25)]
    body = json.dumps({"orderRecords": records}).encode()
    response = await client.put(URL, data=body, headers={**auth, "Content-Type": "application/json"})
    assert response.status == 200
    assert len(await response.read()) < 25 * MAX_ERRORS * 100 < len(body)


# --- idempotent retries --------------------------------------------------------------------------------------------

async def test_same_tenant_id_twice_in_one_batch(client: TestClient, auth: dict[str, str]) -> None:
    first = full_record(tenantOrderRecordId="dup-1")
    second = minimal_record(tenantOrderRecordId="dup-1", facilityRef="another-facility")
    results = await put_records(client, [first, second], auth)
    assert [r["status"] for r in results] == ["CREATED", "ALREADY_EXISTS"]
    assert results[1]["orderRecord"] == results[0]["orderRecord"]
    assert results[1]["orderRecord"]["facilityRef"] == "facility-berlin-1"
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
    assert [r["status"] for r in again] == ["ALREADY_EXISTS"] * 5
    assert [r["orderRecord"] for r in again] == [r["orderRecord"] for r in first]
    assert all(r["orderRecord"]["created"] == STAMP for r in again)
    assert await stored_total(client, auth) == 5

    # a retry that adds a record: only the new one is created
    mixed = await put_records(client, [*batch[:2], full_record(tenantOrderRecordId="retry-new")], auth)
    assert [r["status"] for r in mixed] == ["ALREADY_EXISTS", "ALREADY_EXISTS", "CREATED"]
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
        [error] = result["errors"]
        assert error["field"] == "orderRecordDate"
        assert "Retention period is over" in error["message"]
    assert await stored_total(client, auth) == 1
    assert await stored_total(client, auth, tenantOrderRecordId="expired") == 0


async def test_record_past_its_cleanup_date_is_stored_anonymized(client: TestClient, auth: dict[str, str]) -> None:
    date = at(NOW - timedelta(days=91))
    raw = full_record(orderRecordDate=date)
    raw["consumer"]["addresses"].append({"country": "FR", "lastName": "Martin", "phoneNumbers": [{"value": "1"}]})
    [result] = await put_records(client, [raw], auth)
    assert result["status"] == "CREATED"
    record = result["orderRecord"]
    assert record["anonymized"] is True
    assert record["version"] == 1
    assert record["created"] == record["lastModified"] == STAMP
    assert record["consumer"] == {"addresses": [{"addressType": "POSTAL_ADDRESS", "country": "DE"},
                                                {"country": "FR"}]}
    assert record["gdprCleanupDate"] == "2026-11-24T12:00:00.000Z"

    # nothing but the consumer's personal data (and, actorAnonymization being true by default, the actor) is touched
    expected = with_places(raw)
    del expected["consumer"], expected["origin"]["cashierId"]
    assert {k: v for k, v in record.items() if k in expected and k != "pricing"} == {
        k: v for k, v in expected.items() if k != "pricing"}
    assert record["pricing"]["priceBreakdown"]["total"] == eur(1597)
    assert await get_record(client, auth, record["id"]) == record


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
    assert "30 days" in results[2]["errors"][0]["message"]
