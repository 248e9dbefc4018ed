"""The inner shapes REFERENCE.md gives, each refused when broken: string fields, localized maps, nullable objects."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from app.records import RecordBuilder, RecordRejected
from app.settings import make_settings
from tests.conftest import NOW
from tests.factories import full_record, minimal_record, set_path

BUILDER = RecordBuilder(make_settings().gdpr)
ATTRIBUTE = "lineItems.0.article.attributes.0"

# Fields the official schema types as strings, by their path in the full test record.
STRING_FIELDS = [
    f"{ATTRIBUTE}.category", f"{ATTRIBUTE}.type", "origin.terminalId", "origin.cashierId", "consumer.consumerId",
    "payments.0.transactionId", "payments.0.paymentMethod", "payments.0.receiptNumber",
    "lineItems.0.measurementUnitKey", "lineItems.0.article.title", "consumer.email", "consumer.addresses.0.province",
    "consumer.addresses.0.country",
    "pricing.discounts.0.type", "pricing.discounts.0.name", "pricing.discounts.0.code", "pricing.discounts.0.context",
    "pricing.discounts.0.tenantDiscountId", "pricing.fees.0.name", "pricing.taxes.0.type", "pricing.taxes.0.scope",
]
LOCALIZED = [f"{ATTRIBUTE}.keyLocalized", f"{ATTRIBUTE}.valueLocalized", "pricing.discounts.0.nameLocalized"]


def errors_for(raw: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(RecordRejected) as info:
        BUILDER.build(raw, "65a1b2c3d4e5f60718293a4b", NOW)
    return info.value.errors


@pytest.mark.parametrize("path", STRING_FIELDS)
@pytest.mark.parametrize("value", [5, 1.5, True, ["x"], {"x": "y"}])
def test_string_fields_refuse_other_types(path: str, value: Any) -> None:
    assert errors_for(set_path(full_record(), path, value)) == [{"field": path, "message": "Not a valid string."}]


@pytest.mark.parametrize("path", LOCALIZED)
@pytest.mark.parametrize("value", ["blau", ["blau"], 5, {"de_DE": 5}, {"de_DE": None}, {"de_DE": {"x": "y"}}])
def test_localized_maps_are_locales_to_strings(path: str, value: Any) -> None:
    errors = errors_for(set_path(full_record(), path, value))
    assert errors and all(e["field"].startswith(path) for e in errors), errors


@pytest.mark.parametrize("path", LOCALIZED)
def test_localized_maps_keep_every_locale(path: str) -> None:
    value = {"de_DE": "blau", "en_US": "blue", "fr_FR": "bleu", "de": "blau"}
    built = BUILDER.build(set_path(full_record(), path, value), "65a1b2c3d4e5f60718293a4b", NOW)
    node: Any = built
    for key in path.split("."):
        node = node[int(key)] if isinstance(node, list) else node[key]
    assert node == value


def test_custom_attributes_may_be_null() -> None:
    built = BUILDER.build(full_record(customAttributes=None), "65a1b2c3d4e5f60718293a4b", NOW)
    assert built["customAttributes"] is None


async def test_custom_attributes_null_through_the_api(client: Any, auth: dict[str, str]) -> None:
    record = full_record(customAttributes=None)
    record["lineItems"][0]["customAttributes"] = None
    response = await client.put("/api/orderrecords", json={"operations": [record]}, headers=auth)
    [result] = (await response.json())["details"]
    assert result["status"] == "CREATED", result
    fetched = await (await client.get(f"/api/orderrecords/{result['orderRecord']['id']}", headers=auth)).json()
    assert fetched["customAttributes"] is None
    assert fetched["lineItems"][0]["customAttributes"] is None


async def test_quantities_and_defaults_are_served_as_stored_by_every_store(client: Any, auth: dict[str, str]) -> None:
    """quantity is kept as sent (1, 1.0, 2.5 alike in JSON type), origin.type and attributes are filled in."""
    lines = [{"article": {"tenantArticleId": f"a{i}"}, "quantity": q} for i, q in enumerate([1, 1.0, 2.5])]
    record = minimal_record(lineItems=lines, origin={"terminalId": "T-1"})
    response = await client.put("/api/orderrecords", json={"operations": [record]}, headers=auth)
    [detail] = (await response.json())["details"]
    assert detail["status"] == "CREATED", detail
    text = await (await client.get(f"/api/orderrecords/{detail['orderRecord']['id']}", headers=auth)).text()
    fetched = orjson.loads(text)
    assert [(item["quantity"], type(item["quantity"])) for item in fetched["lineItems"]] == [
        (1, int), (1.0, float), (2.5, float)]
    assert '"quantity":1.0' in text.replace(" ", "")
    assert [item["article"]["attributes"] for item in fetched["lineItems"]] == [[], [], []]
    assert fetched["origin"] == {"type": "POS", "terminalId": "T-1"}
    assert fetched == detail["orderRecord"]
