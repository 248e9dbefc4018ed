"""A fast path for marshmallow `load`: the schema's own fields and validators, compiled into plain closures.

marshmallow spends most of a nested load on bookkeeping (error stores, hooks, partial handling), several
microseconds per field. For input that is valid, which a backfill almost always is, these closures do the same
checks with the same validator objects and the same field code. They know nothing of the rules themselves: every
rule stays in app/schemas.py. Anything unusual (a failed check, a field kind the compiler does not special-case
behaves as `field.deserialize`) makes `load` fall back to `schema.load`, which then decides and explains. So the
fast path can only be faster, never more lenient: valid input gives the identical result, invalid input the
identical errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields
from marshmallow.utils import missing

from app.schemas import StrictBoolean, StrictInteger

Loader = Callable[[Any], Any]


class Invalid(Exception):
    """The fast path cannot vouch for this input; marshmallow must decide."""


def _run_validators(field: fields.Field, loader: Loader) -> Loader:
    validators = tuple(field.validators)
    if not validators:
        return loader

    def validated(value: Any) -> Any:
        result = loader(value)
        try:
            for check in validators:
                if check(result) is False:
                    raise Invalid
        except ValidationError:
            raise Invalid from None
        return result

    return validated


def _exact_type(kind: type) -> Loader:
    def load(value: Any) -> Any:
        if type(value) is not kind:
            raise Invalid
        return value

    return load


def _generic(field: fields.Field) -> Loader:
    def load(value: Any) -> Any:
        try:
            return field.deserialize(value)
        except ValidationError:
            raise Invalid from None

    return load


def compile_field(field: fields.Field) -> Loader:
    """A loader for one field's value (present and not None); validators included."""
    if type(field) is fields.Nested and not field.many:
        return _run_validators(field, compile_schema(field.schema))
    if type(field) is fields.List:
        inner = compile_field(field.inner)

        def load_list(value: Any) -> Any:
            if type(value) is not list:
                raise Invalid
            return [inner(item) for item in value]

        return _run_validators(field, load_list)
    if type(field) is fields.Dict and field.key_field is not None:
        key_loader = compile_field(field.key_field)
        value_loader = compile_field(field.value_field) if field.value_field is not None else None

        def load_dict(value: Any) -> Any:
            if type(value) is not dict:
                raise Invalid
            if value_loader is None:
                return {key_loader(k): v for k, v in value.items()}
            return {key_loader(k): value_loader(v) for k, v in value.items()}

        return _run_validators(field, load_dict)
    if type(field) in (fields.String, fields.Email):
        return _run_validators(field, _exact_type(str))
    if type(field) is StrictInteger:
        return _run_validators(field, _exact_type(int))
    if type(field) is StrictBoolean:
        return _run_validators(field, _exact_type(bool))
    return _generic(field)  # field.deserialize runs the field's validators itself


def compile_schema(schema: Schema) -> Loader:
    """A loader for a whole (nested) schema, or one that always defers when the schema uses hooks."""
    if schema.unknown != RAISE or any(getattr(schema, "_hooks", {"?": [1]}).values()) or schema.only or schema.exclude:
        return _always_defer
    plan = []
    for name, field in schema.load_fields.items():
        if field.data_key not in (None, name):
            return _always_defer
        plan.append((name, compile_field(field), field.required, field.allow_none, field.load_default))
    known = frozenset(name for name, *_ in plan)

    def load(value: Any) -> dict[str, Any]:
        if type(value) is not dict or not known.issuperset(value):
            raise Invalid
        out: dict[str, Any] = {}
        for name, loader, required, allow_none, default in plan:
            if name in value:
                item = value[name]
                if item is None:
                    if not allow_none:
                        raise Invalid
                    out[name] = None
                else:
                    out[name] = loader(item)
            elif required:
                raise Invalid
            elif default is not missing:
                out[name] = default() if callable(default) else default
        return out

    return load


def _always_defer(value: Any) -> Any:
    raise Invalid


class FastLoader:
    """`load(data)`: the compiled fast path, with `schema.load` deciding whenever the fast path cannot."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._fast = compile_schema(schema)

    def load(self, data: Any) -> Any:
        try:
            return self._fast(data)
        except Invalid:
            return self.schema.load(data)
