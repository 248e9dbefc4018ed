"""How the contract files are derived: the committed ones match the official yaml, and each translation rule holds."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from scripts.contract_examples import example_for
from scripts.derive_contract_schema import OUT_DIR, derived_files, load_openapi, translate
from scripts.derive_postman_examples import Filler, extract
from tests.contract import official_example, postman_bulk_examples, validate
from tests.contract.schemas import DOCUMENT

ROOT = Path(__file__).resolve().parent.parent
SPEC_ENV = "ORDER_RECORDS_OFFICIAL_SPEC"  # path of the official yaml, for a maintainer who has it


def official_yaml() -> Path | None:
    path = os.environ.get(SPEC_ENV, "")
    return Path(path) if path and Path(path).is_file() else None


def test_committed_files_are_what_the_official_yaml_gives() -> None:
    source = official_yaml()
    if source is None:
        pytest.skip(f"set ${SPEC_ENV} to the official yaml to re-derive")
    for name, text in derived_files(source).items():
        assert (OUT_DIR / name).read_text(encoding="utf-8") == text, f"re-derive {name}: see docs/contract.md"


def schema_objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema object in a derived schema (the keys of `properties` are names, not keywords)."""
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            children = value.values() if key == "properties" else value if isinstance(value, list) \
                else [value]
            for child in children:
                yield from schema_objects(child)


def test_derived_schema_is_structural_only() -> None:
    Draft202012Validator.check_schema(DOCUMENT)
    keywords = {key for schema in DOCUMENT["$defs"].values() for node in schema_objects(schema) for key in node}
    assert keywords <= {"type", "required", "enum", "minimum", "maximum", "minLength", "maxLength", "minItems",
                        "maxItems", "pattern", "format", "properties", "items", "additionalProperties",
                        "unevaluatedProperties", "allOf", "oneOf", "anyOf", "$ref"}, keywords


def test_nullable_becomes_null_in_json_schema() -> None:
    ref = {"$ref": "#/components/schemas/Money"}
    assert translate({"type": "string", "nullable": True}) == {"type": ["string", "null"]}
    assert translate({"type": "string", "enum": ["A"], "nullable": True}) == {"type": ["string", "null"],
                                                                              "enum": ["A", None]}
    assert translate({"allOf": [ref], "nullable": True, "type": "object", "description": "x"}) == {
        "anyOf": [{"type": "null"}, {"allOf": [{"$ref": "#/$defs/Money"}], "type": "object"}]}
    # the official totals: every one of the six keys takes null
    assert validate("OrderRecordTotals", dict.fromkeys(
        ["subTotal", "totalLineItemSurcharges", "totalTaxes", "totalFees", "total"], None) | {
        "totalDiscounts": {"value": None, "breakdown": {"lineItemDiscounts": None, "orderDiscounts": None}}}) == []


def test_closed_object_with_allof_sees_the_merged_properties() -> None:
    schema = translate({"allOf": [{"$ref": "#/components/schemas/Base"}], "additionalProperties": False,
                        "properties": {"a": {"type": "string"}}})
    assert schema["unevaluatedProperties"] is False and "additionalProperties" not in schema
    assert translate({"properties": {}, "additionalProperties": False})["additionalProperties"] is False


def test_discriminator_requires_its_property_with_a_mapped_value() -> None:
    schema = translate({"oneOf": [{"$ref": "#/components/schemas/PosOrigin"}, {"$ref": "#/components/schemas/Web"}],
                        "discriminator": {"propertyName": "type",
                                          "mapping": {"POS": "#/components/schemas/PosOrigin"}}})
    assert schema["allOf"] == [{"required": ["type"], "properties": {"type": {"enum": ["POS", "Web"]}}}]


def test_exclusive_bounds_and_prose() -> None:
    assert translate({"type": "number", "minimum": 0, "exclusiveMinimum": True, "example": 3, "title": "n",
                      "x-badges": [], "default": 1, "deprecated": True}) == {"type": "number", "exclusiveMinimum": 0}


def test_yaml_timestamps_stay_strings(tmp_path: Path) -> None:
    source = tmp_path / "a.yaml"
    source.write_text("example: 2026-06-17T12:00:00.000Z\nday: 2026-06-17\n", encoding="utf-8")
    assert load_openapi(source) == {"example": "2026-06-17T12:00:00.000Z", "day": "2026-06-17"}


def test_example_assembly_rules() -> None:
    doc = {"components": {"schemas": {
        "Thing": {"type": "object", "required": ["key", "n"], "properties": {
            "houseNumber": {"type": "string", "example": 42},  # contradicts its type: its string form
            "count": {"type": "integer", "example": "2026-06-17T12:00:00.000Z"},  # nothing sensible: left out
            "kind": {"type": "string", "enum": ["POS", "WEB"]},
            "key": {"type": "string"}, "n": {"type": "number", "minimum": 1}, "optional": {"type": "string"},
            "child": {"allOf": [{"$ref": "#/components/schemas/Thing"}]},  # recursion stops
            "tags": {"type": "array", "items": {"type": "string", "example": "t"}}}}}}}
    assert example_for(doc, "Thing") == {"houseNumber": "42", "kind": "POS", "key": "key", "n": 1, "tags": ["t"]}


def test_official_example_record_is_an_official_request() -> None:
    example = official_example()
    assert validate("OrderRecordForCreation", example, strict=True) == []
    assert example["consumer"]["addresses"][0]["houseNumber"] == "42"
    assert example["orderRecordDate"] == "2026-06-17T12:00:00.000Z"


def test_filler_gives_each_id_placeholder_its_own_value() -> None:
    filler = Filler()
    body = filler.fill({"facilityRef": "PUT-IN-YOUR-FACILITY-REF", "ids": ["{{$randomWord}}{{$randomInt}}"] * 3,
                        "at": "{{$isoTimestamp}}", "n": 3, "receipt": "REC-{{$randomInt}}{{ $randomInt }}"})
    assert body["facilityRef"] == "facility-1" and body["at"] == "2026-11-20T10:00:00.000Z" and body["n"] == 3
    assert len(set(body["ids"])) == 3 and body["receipt"] == "REC-211248"
    with pytest.raises(ValueError, match="randomColor"):
        filler.fill("{{$randomColor}}")


def test_extract_takes_the_saved_examples_of_the_bulk_request() -> None:
    raw = '{"operations": [{"tenantOrderRecordId": "{{$randomWord}}{{$randomInt}}"}]}'
    collection = {"item": [{"name": "Order Records", "item": [
        {"name": "Get Order Record", "response": [{"name": "x", "originalRequest": {"body": {"raw": "{}"}}}]},
        {"name": "Bulk Create Order Records [ALPHA]", "response": [
            {"name": name, "originalRequest": {"body": {"raw": raw}}} for name in ("one", "two")]}]}]}
    assert extract(collection) == [{"name": "one", "body": {"operations": [{"tenantOrderRecordId": "amber100"}]}},
                                   {"name": "two", "body": {"operations": [{"tenantOrderRecordId": "birch137"}]}}]


def test_committed_postman_examples() -> None:
    examples = postman_bulk_examples()
    assert [name for name, _ in examples] == [
        "minimal", "with multiple operations", "with consumer info", "with pricing (discounts, fees & taxes)",
        "with warranty and return policy", "with custom attributes", "with POS origin",
        "full-blown (all fields and constellations)"]
    text = json.dumps([body for _, body in examples])
    assert "{{" not in text and "PUT-IN-YOUR" not in text
    operations = [op for _, body in examples for op in body["operations"]]
    ids = [op["tenantOrderRecordId"] for op in operations if "tenantOrderRecordId" in op]
    assert len(ids) == len(set(ids)) == 7  # six bodies carry one; "with multiple operations" carries two
    assert sum(1 for _, body in examples if any("tenantOrderRecordId" in op for op in body["operations"])) == 6
