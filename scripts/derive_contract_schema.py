"""Derive tests/contract/official.schema.json and official_example.json from the official OpenAPI yaml."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from scripts.contract_examples import example_for

OUT_DIR = Path(__file__).resolve().parent.parent / "tests" / "contract"
SCHEMA_FILE, EXAMPLE_FILE = "official.schema.json", "official_example.json"
COMPONENTS = "#/components/schemas/"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# Validation keywords a structural schema keeps; everything else (prose, examples, defaults, x-*) is dropped.
KEEP = {"type", "required", "enum", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems",
        "pattern", "format", "multipleOf", "uniqueItems", "minProperties", "maxProperties"}
SUBSCHEMA_LISTS = ("allOf", "oneOf", "anyOf")


class _NoTimestamps(yaml.SafeLoader):
    """Safe loader that keeps `2026-06-17T12:00:00.000Z` a string, as JSON (and OpenAPI) see it."""


_NoTimestamps.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_openapi(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_NoTimestamps)  # a SafeLoader


def component_name(ref: str) -> str:
    if not ref.startswith(COMPONENTS):
        raise ValueError(f"only references to {COMPONENTS}* are supported, not {ref!r}")
    return ref[len(COMPONENTS):]


def _discriminator(node: dict[str, Any]) -> dict[str, Any]:
    """The discriminator as plain JSON Schema: its property is required and takes one of the mapped values."""
    disc = node["discriminator"]
    prop, mapping = disc["propertyName"], dict(disc.get("mapping") or {})
    mapped = {component_name(ref) for ref in mapping.values()}
    for sub in node.get("oneOf", []) + node.get("anyOf", []):  # implicit mapping: a member's name is its value
        if "$ref" in sub and component_name(sub["$ref"]) not in mapped:
            mapping[component_name(sub["$ref"])] = sub["$ref"]
    return {"required": [prop], "properties": {prop: {"enum": sorted(mapping)}}}


def translate(node: dict[str, Any]) -> dict[str, Any]:
    """One OpenAPI 3.0 schema object as a structural JSON Schema 2020-12 object."""
    if "$ref" in node:
        return {"$ref": "#/$defs/" + component_name(node["$ref"])}
    out: dict[str, Any] = {key: node[key] for key in KEEP if key in node}
    for key in ("exclusiveMinimum", "exclusiveMaximum"):  # 3.0: a flag on minimum/maximum; 2020-12: the bound
        if node.get(key) is True:
            bound = key.replace("exclusiveM", "m")
            out[key] = out.pop(bound)
    if "properties" in node:
        out["properties"] = {name: translate(sub) for name, sub in node["properties"].items()}
    if "items" in node:
        out["items"] = translate(node["items"])
    if "not" in node:
        out["not"] = translate(node["not"])
    for key in SUBSCHEMA_LISTS:
        if key in node:
            out[key] = [translate(sub) for sub in node[key]]
    if "discriminator" in node:
        out["allOf"] = [*out.get("allOf", []), _discriminator(node)]
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        out["additionalProperties"] = translate(extra)
    elif extra is False:
        # OpenAPI means "no properties beyond those declared here or in allOf"; in 2020-12 only
        # unevaluatedProperties sees the properties of allOf members.
        out["unevaluatedProperties" if "allOf" in out else "additionalProperties"] = False
    if node.get("nullable") is True:
        out = _nullable(out)
    return out


def _nullable(out: dict[str, Any]) -> dict[str, Any]:
    if any(key in out for key in (*SUBSCHEMA_LISTS, "$ref", "not")):
        # `allOf: [$ref X], nullable: true` (e.g. OrderRecordTotals): null, or whatever the rest accepts
        return {"anyOf": [{"type": "null"}, out]}
    if "type" not in out:
        return out  # no type: null is accepted already
    out["type"] = [out["type"], "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def operations(paths: dict[str, Any]) -> dict[str, Any]:
    """operationId -> method, templated path, request body component and the component of each status code."""
    ops: dict[str, Any] = {}
    for path, item in paths.items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            ops[op["operationId"]] = {
                "method": method.upper(),
                "path": path,
                "request": _body_component(op.get("requestBody")),
                "responses": {str(status): _body_component(resp) for status, resp in op["responses"].items()},
            }
    return ops


def _body_component(body: dict[str, Any] | None) -> str | None:
    if not body or "content" not in body:
        return None
    schema = body["content"]["application/json"]["schema"]
    return component_name(schema["$ref"])  # the official document names a component for every body


def derive(openapi: dict[str, Any], source_bytes: bytes) -> dict[str, Any]:
    schemas = openapi["components"]["schemas"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": "Generated by scripts/derive_contract_schema.py from the official fulfillmenttools Order "
                    "Records OpenAPI document; do not edit. See docs/contract.md.",
        "source": {"file": "fulfillmenttools-orderrecords.yaml",
                   "sha256": hashlib.sha256(source_bytes).hexdigest()},
        "$defs": {name: translate(schema) for name, schema in schemas.items()},
        "operations": operations(openapi["paths"]),
    }


def derive_example(openapi: dict[str, Any]) -> dict[str, Any]:
    return {"OrderRecordForCreation": example_for(openapi, "OrderRecordForCreation")}


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def derived_files(yaml_path: Path) -> dict[str, str]:
    """File name -> the exact text this script writes for the given yaml."""
    openapi = load_openapi(yaml_path)
    return {SCHEMA_FILE: dumps(derive(openapi, yaml_path.read_bytes())),
            EXAMPLE_FILE: dumps(derive_example(openapi))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("yaml", type=Path, help="the official yaml (fulfillmenttools-orderrecords.yaml)")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in derived_files(args.yaml).items():
        (args.out_dir / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out_dir / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
