"""Assemble an example body for an official component from the document's own `example:` values.

Rules, in order, for each schema met while walking from the component:
1. its own `example:`, converted to the declared type where it contradicts it (a string field with `example: 42`
   gets "42"; an integer field whose example is not an integer falls through);
2. else, for an `enum`, its first value;
3. else objects are built property by property (optional properties only when something could be built, i.e.
   they are non-empty) and arrays hold one built item;
4. else, for a required property only, a placeholder: the property's name for a string (a fixed instant for a
   date-time), `minimum` or 1 for a number, true for a boolean. Optional properties without any of these are left
   out. `allOf` members are merged; of a `oneOf`/`anyOf` the first member is used; a recursive reference stops.
"""

from __future__ import annotations

from typing import Any

COMPONENTS = "#/components/schemas/"
FALLBACK_INSTANT = "2026-06-17T12:00:00.000Z"  # the document's own most used date-time example


def example_for(openapi: dict[str, Any], component: str) -> Any:
    return _Builder(openapi["components"]["schemas"]).build({"$ref": COMPONENTS + component}, "", True, ())


class _Builder:
    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas

    def flatten(self, node: dict[str, Any], stack: tuple[str, ...]) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The node with references resolved and allOf/oneOf/anyOf merged in (its own keys win), and the
        components expanded on the way, so that a recursive reference stops."""
        if "$ref" in node:
            name = node["$ref"].removeprefix(COMPONENTS)
            if name in stack:
                return {}, stack
            return self.flatten(self.schemas[name], (*stack, name))
        members = list(node.get("allOf", [])) + [node[key][0] for key in ("oneOf", "anyOf") if node.get(key)]
        flat: dict[str, Any] = {}
        for member in [*members, {k: v for k, v in node.items() if k not in ("allOf", "oneOf", "anyOf")}]:
            part, stack = self.flatten(member, stack) if member in members else (member, stack)
            flat = {**flat, **part, "properties": {**flat.get("properties", {}), **part.get("properties", {})},
                    "required": [*flat.get("required", []), *part.get("required", [])]}
        return flat, stack

    def build(self, node: dict[str, Any], name: str, required: bool, stack: tuple[str, ...]) -> Any:
        flat, stack = self.flatten(node, stack)
        kind = flat.get("type") or ("object" if flat.get("properties") else None)
        if "example" in flat:
            value = _as_type(flat["example"], kind)
            if value is not None:
                return value
        if flat.get("enum"):
            return flat["enum"][0]
        if kind == "object":
            wanted = set(flat.get("required", []))
            built = {key: self.build(sub, key, key in wanted, stack) for key, sub in flat.get("properties", {}).items()}
            obj = {key: value for key, value in built.items() if value is not None}
            return obj if obj or required else None
        if kind == "array":
            item = self.build(flat.get("items", {}), name, required, stack)
            return [item] if item is not None else ([] if required else None)
        return _placeholder(flat, kind, name) if required else None


def _as_type(example: Any, kind: str | None) -> Any:
    """The example as a value of the declared type, or None where no sensible conversion exists."""
    if kind == "string":
        if isinstance(example, str):
            return example
        return str(example).lower() if isinstance(example, bool) else str(example)
    if isinstance(example, bool):
        return example if kind in ("boolean", None) else None
    if kind == "integer":
        return example if isinstance(example, int) else None
    if kind == "number":
        return example if isinstance(example, int | float) else None
    expected = {"object": dict, "array": list, "boolean": bool}.get(kind or "", object)
    return example if isinstance(example, expected) else None


def _placeholder(flat: dict[str, Any], kind: str | None, name: str) -> Any:
    if kind in ("integer", "number"):
        return flat.get("minimum", 1)
    if kind == "boolean":
        return True
    if flat.get("format") == "date-time":
        return FALLBACK_INSTANT
    return name or "example"
