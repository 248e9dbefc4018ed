"""The inner shapes REFERENCE.md gives, each refused when broken: string fields, localized maps, nullable objects."""

from __future__ import annotations

from typing import Any

import pytest

from app.records import RecordBuilder, RecordRejected
from app.settings import make_settings
from tests.conftest import NOW
from tests.factories import full_record, set_path

BUILDER = RecordBuilder(make_settings().gdpr)
ATTRIBUTE = "lineItems.0.article.attributes.0"

# Fields REFERENCE.md types as strings, by their path in the full test record.
STRING_FIELDS = [
    f"{ATTRIBUTE}.category", f"{ATTRIBUTE}.type", "origin.terminalId", "origin.cashierId", "consumer.consumerId",
    "payments.0.transactionId", "lineItems.0.measurementUnitKey", "lineItems.0.article.title",
    "consumer.addresses.0.phoneNumbers.0.value",
]


def errors_for(raw: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(RecordRejected) as info:
        BUILDER.build(raw, "65a1b2c3d4e5f60718293a4b", NOW)
    return info.value.errors


@pytest.mark.parametrize("path", STRING_FIELDS)
@pytest.mark.parametrize("value", [5, 1.5, True, ["x"], {"x": "y"}])
def test_string_fields_refuse_other_types(path: str, value: Any) -> None:
    assert errors_for(set_path(full_record(), path, value)) == [{"field": path, "message": "Not a valid string."}]


@pytest.mark.parametrize("name", ["keyLocalized", "valueLocalized"])
@pytest.mark.parametrize("value", ["blau", ["blau"], 5, {"de_DE": 5}, {"de_DE": None}, {"de_DE": {"x": "y"}}])
def test_localized_maps_are_locales_to_strings(name: str, value: Any) -> None:
    errors = errors_for(set_path(full_record(), f"{ATTRIBUTE}.{name}", value))
    assert errors and all(e["field"].startswith(f"{ATTRIBUTE}.{name}") for e in errors), errors


@pytest.mark.parametrize("name", ["keyLocalized", "valueLocalized"])
def test_localized_maps_keep_every_locale(name: str) -> None:
    value = {"de_DE": "blau", "en_US": "blue", "fr_FR": "bleu"}
    built = BUILDER.build(set_path(full_record(), f"{ATTRIBUTE}.{name}", value), "65a1b2c3d4e5f60718293a4b", NOW)
    assert built["lineItems"][0]["article"]["attributes"][0][name] == value


def test_custom_attributes_may_be_null() -> None:
    built = BUILDER.build(full_record(customAttributes=None), "65a1b2c3d4e5f60718293a4b", NOW)
    assert built["customAttributes"] is None


async def test_custom_attributes_null_through_the_api(client: Any, auth: dict[str, str]) -> None:
    response = await client.put("/api/orderrecords", json={"orderRecords": [full_record(customAttributes=None)]},
                                headers=auth)
    [result] = (await response.json())["results"]
    assert result["status"] == "CREATED", result
    fetched = await (await client.get(f"/api/orderrecords/{result['orderRecord']['id']}", headers=auth)).json()
    assert fetched["customAttributes"] is None
