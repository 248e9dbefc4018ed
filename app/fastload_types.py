"""msgspec types generated from marshmallow schemas: the part of each rule that msgspec can check in C."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import msgspec
from marshmallow import RAISE, Schema, fields, validate
from marshmallow.utils import missing

from app.schemas import StrictBoolean, StrictInteger

# Field kinds msgspec reads exactly as marshmallow loads them; any other kind is typed Any and its own
# `_deserialize` runs afterwards in Python.
NATIVE_KINDS: dict[type, type] = {fields.String: str, fields.Email: str, StrictInteger: int, StrictBoolean: bool,
                                  fields.Nested: dict, fields.List: list, fields.Dict: dict}
SCALARS = (str, int, float, bool, type(None))


class Unsupported(Exception):
    """The schema has something msgspec cannot mirror (hooks, data keys, ...): marshmallow must always decide."""


def native_kind(field: fields.Field) -> type | None:
    kind = NATIVE_KINDS.get(type(field))
    return None if kind is None or (type(field) is fields.Nested and field.many) else kind


def native_check(check: Any, field: fields.Field) -> bool:
    """Whether msgspec enforces this validator of this field itself (bounds, choices), leaving nothing to Python."""
    kind = native_kind(field)
    if type(check) is validate.Length:
        return kind in (str, list, dict) and check.equal is None
    if type(check) is validate.Range:
        return kind is int and check.min_inclusive and check.max_inclusive
    if type(check) is validate.OneOf:
        return kind is str and len(field.validators) == 1 and all(type(c) is str for c in check.choices)
    return False


def _constrained(base: Any, field: fields.Field) -> Any:
    checks = [v for v in field.validators if native_check(v, field)]
    if any(type(v) is validate.OneOf for v in checks):
        return Literal[tuple(checks[0].choices)]
    low = [v.min for v in checks if v.min is not None]
    high = [v.max for v in checks if v.max is not None]
    if not low and not high:
        return base
    if native_kind(field) is int:
        meta = msgspec.Meta(ge=max(low) if low else None, le=min(high) if high else None)
    else:
        meta = msgspec.Meta(min_length=max(low) if low else None, max_length=min(high) if high else None)
    return Annotated[base, meta]


class _Types:
    """One msgspec Struct per schema instance, built once even where schemas are nested several times."""

    def __init__(self) -> None:
        self.structs: dict[int, type[msgspec.Struct]] = {}

    def struct(self, schema: Schema) -> type[msgspec.Struct]:
        if id(schema) in self.structs:
            return self.structs[id(schema)]
        hooks = getattr(schema, "_hooks", {"unknown": [True]})
        if schema.unknown != RAISE or any(hooks.values()) or schema.only or schema.exclude:
            raise Unsupported(type(schema).__name__)
        members: list[tuple[str, Any] | tuple[str, Any, Any]] = []
        for name, field in schema.load_fields.items():
            if field.data_key not in (None, name):
                raise Unsupported(f"{type(schema).__name__}.{name}")
            kind = self.item(field)
            if field.required:
                members.append((name, kind))
            elif field.load_default is missing:
                members.append((name, Union[kind, msgspec.UnsetType], msgspec.UNSET))  # noqa: UP007
            elif callable(field.load_default):
                members.append((name, kind, msgspec.field(default_factory=field.load_default)))
            elif isinstance(field.load_default, SCALARS):
                members.append((name, kind, field.load_default))
            else:  # a shared mutable default: marshmallow hands out the same object every time
                raise Unsupported(f"{type(schema).__name__}.{name}")
        # kw_only keeps the schema's field order (required and optional mixed): to_builtins writes that order
        struct = msgspec.defstruct(type(schema).__name__, members, kw_only=True, forbid_unknown_fields=True)
        self.structs[id(schema)] = struct
        return struct

    def item(self, field: fields.Field) -> Any:
        """The msgspec type of a field's value, null included when the field allows it."""
        kind = native_kind(field)
        if kind is None:
            return Any
        if type(field) is fields.Nested:
            base: Any = self.struct(field.schema)
        elif kind is list:
            base = list[self.item(field.inner)]  # type: ignore[misc]
        elif kind is dict:
            keys = str if field.key_field is None else self.item(field.key_field)
            values = Any if field.value_field is None else self.item(field.value_field)
            base = dict[keys, values]  # type: ignore[valid-type]
        else:
            base = kind
        typed = _constrained(base, field)
        return Union[typed, None] if field.allow_none else typed  # noqa: UP007


def struct_for(schema: Schema) -> type[msgspec.Struct]:
    """The msgspec Struct mirroring `schema`; raises Unsupported when it cannot be mirrored exactly."""
    return _Types().struct(schema)
