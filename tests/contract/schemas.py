"""Validators for the official components, built from the committed official.schema.json."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator

HERE = Path(__file__).resolve().parent
SCHEMA_FILE = HERE / "official.schema.json"
MAX_MESSAGE = 300  # jsonschema repeats the whole instance in some messages; a record would drown the report

DOCUMENT: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
COMPONENTS: frozenset[str] = frozenset(DOCUMENT["$defs"])
OPERATIONS: dict[str, dict[str, Any]] = DOCUMENT["operations"]

FORMAT_CHECKER = FormatChecker()  # date-time is checked by rfc3339-validator, as jsonschema documents


@FORMAT_CHECKER.checks("int64")
def _int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


def _nodes(node: Any, via_members: bool = False) -> Iterator[tuple[dict[str, Any], bool]]:
    """Every schema object with whether it is an allOf/oneOf/anyOf member (judged together with its siblings)."""
    if not isinstance(node, dict):
        return
    yield node, via_members
    for sub in node.get("properties", {}).values():
        yield from _nodes(sub)
    for key in ("items", "additionalProperties", "not"):
        yield from _nodes(node.get(key))
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in node.get(key, []):
            yield from _nodes(sub, via_members=True)


@functools.cache
def _strict_defs() -> dict[str, Any]:
    """The definitions with every declared object closed: no property beyond those the document names."""
    defs = copy.deepcopy(DOCUMENT["$defs"])
    # a component merged into one that adds properties of its own (VersionedResource into GdprConfiguration)
    # must stay open: the merging schema closes the whole
    mixins = {member["$ref"].rsplit("/", 1)[1] for schema in defs.values() for node, _ in _nodes(schema)
              if node.get("properties") for member in node.get("allOf", []) if "$ref" in member}
    for name, schema in defs.items():
        for node, via_members in _nodes(schema):
            closable = node.get("properties") and not via_members and not (node is schema and name in mixins)
            if closable and "additionalProperties" not in node and "unevaluatedProperties" not in node:
                node["unevaluatedProperties"] = False
    return defs


@functools.cache
def schema_for(component: str, *, strict: bool = False) -> Validator:
    """A jsonschema validator (draft 2020-12, formats checked) for one official component.

    `strict=True` also refuses properties the official document does not name (the document itself leaves
    objects open)."""
    if component not in COMPONENTS:
        raise KeyError(f"{component!r} is not a component of the official document")
    defs = _strict_defs() if strict else DOCUMENT["$defs"]
    schema = {"$schema": DOCUMENT["$schema"], "$defs": defs, "$ref": f"#/$defs/{component}"}
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


def _describe(error: ValidationError) -> str:
    # anyOf/oneOf report only "not valid under any of the given schemas": name the problem of the branch that
    # fits best, passing over branches of another type (the null of a nullable value is never the one meant)
    message = error.message
    while error.context:
        other_type = [e for e in error.context if e.validator == "type" and not e.relative_path]
        if len(other_type) == len(error.context):
            types = " or ".join(dict.fromkeys(repr(e.validator_value) for e in other_type))
            message = f"{error.instance!r} is not of type {types}"
            break
        error = best_match([e for e in error.context if e not in other_type])
        message = error.message
    message = message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "…"
    return f"{error.json_path}: {message}"


def validate(component: str, body: Any, *, strict: bool = False) -> list[str]:
    """Every way `body` breaks the component, as "<JSON path>: <problem>" (empty when it conforms)."""
    errors = schema_for(component, strict=strict).iter_errors(body)
    return sorted({_describe(error) for error in errors})  # allOf + oneOf of one component repeat a problem


def _data(name: str) -> Any:
    return json.loads((HERE / name).read_text(encoding="utf-8"))


def postman_bulk_examples() -> list[tuple[str, dict[str, Any]]]:
    """(name, body) of the eight official Postman "Bulk Create Order Records" examples, a fresh copy each call."""
    return [(example["name"], example["body"]) for example in _data("postman_bulk_examples.json")["examples"]]


def official_example(component: str = "OrderRecordForCreation") -> dict[str, Any]:
    """A body assembled from the official document's own `example:` values (see docs/contract.md)."""
    return _data("official_example.json")[component]
