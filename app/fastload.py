"""A fast path for marshmallow `load`, derived from the schema's own fields and validators.

marshmallow spends most of a nested load on bookkeeping, several microseconds per field. For input that is valid,
which a backfill almost always is, this does the same checks in two steps, both read off the schema objects (no
rule is written here):
1. msgspec types generated from the fields (app/fastload_types.py) check in C what msgspec can express: required
   fields, unknown fields, null, exact JSON types, Length and Range bounds, OneOf; then turn the result back into
   dicts, in the schema's field order, with defaults filled in.
2. Python generated for the rest runs each remaining validator (currency, country, e-mail, durations, free-form
   objects) and each remaining field's own conversion (date-times, floats) where the data holds such a field.
Anything unusual (a failed check, a schema with hooks) makes `load` fall back to `schema.load`, which decides and
explains. So the fast path can only be faster, never more lenient: valid input gives the identical result, invalid
input the identical errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from marshmallow import Schema, ValidationError, fields

from app.fastload_types import Unsupported, native_check, native_kind, struct_for

Loader = Callable[[Any], Any]


class Invalid(Exception):
    """The fast path cannot vouch for this input; marshmallow must decide."""


def _needs_post(field: fields.Field) -> bool:
    """Whether anything about the field is left to Python after msgspec has checked its shape."""
    if native_kind(field) is None or not all(native_check(v, field) for v in field.validators):
        return True
    kind = type(field)
    if kind is fields.Nested:
        return any(_needs_post(f) for f in field.schema.load_fields.values())
    if kind is fields.List:
        return _needs_post(field.inner)
    if kind is fields.Dict:
        return any(_needs_post(f) for f in (field.key_field, field.value_field) if f is not None)
    return False


def _transforms(field: fields.Field) -> bool:
    """Whether finishing the field may replace its value (a conversion of its own), not only check it."""
    kind = type(field)
    if native_kind(field) is None:
        return True
    if kind is fields.List:
        return _transforms(field.inner)
    if kind is fields.Dict:
        return field.value_field is not None and _transforms(field.value_field)
    return False


def _lets_null_through(field: fields.Field) -> bool:
    return native_kind(field) is None and not field.allow_none


class _PostGenerator:
    """Writes the Python checks msgspec cannot do, only along the paths that lead to such a check."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"Invalid": Invalid}
        self.chunks: list[str] = []
        self.schemas: dict[int, str] = {}

    def const(self, value: Any) -> str:
        name = f"c{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def schema(self, schema: Schema) -> str:
        if id(schema) in self.schemas:
            return self.schemas[id(schema)]
        name = self.schemas[id(schema)] = f"post_{type(schema).__name__}_{len(self.schemas)}"
        body = [f"def {name}(o):"]
        for key, field in schema.load_fields.items():
            if _needs_post(field):
                # msgspec has refused null where the field refuses it, except for a field it only knows as Any
                body += [f"    x = o.get({key!r})", "    if x is not None:",
                         *("    " + line for line in self.value(field))]
                body += [f"        o[{key!r}] = x"] if _transforms(field) else []
                body += [f"    elif {key!r} in o:", "        raise Invalid"] if _lets_null_through(field) else []
        self.chunks.append("\n".join([*body, "    return o"]) + "\n")
        return name

    def value(self, field: fields.Field) -> list[str]:
        """Statements that finish checking `x` (present, not None), leaving the loaded value in `x`."""
        kind = type(field)
        lines: list[str] = []
        if native_kind(field) is None:  # the field's own conversion, as field.deserialize does for a value
            lines = [f"    x = {self.const(field._deserialize)}(x, None, None)"]
        elif kind is fields.Nested:
            lines = [f"    {self.schema(field.schema)}(x)"] if _needs_post(field) else []
        elif kind is fields.List and _needs_post(field.inner):
            lines = ([f"    x = [{self.item(field.inner)}(i) for i in x]"] if _transforms(field.inner)
                     else ["    for i in x:", f"        {self.item(field.inner)}(i)"])
        elif kind is fields.Dict:
            if field.key_field is not None and _needs_post(field.key_field):
                lines += ["    for k in x:", f"        {self.item(field.key_field)}(k)"]
            if field.value_field is not None and _needs_post(field.value_field):
                lines += ([f"    x = {{k: {self.item(field.value_field)}(i) for k, i in x.items()}}"]
                          if _transforms(field.value_field)
                          else ["    for i in x.values():", f"        {self.item(field.value_field)}(i)"])
        checks = [v for v in field.validators if not native_check(v, field)]
        return lines + [line for v in checks for line in (f"    if {self.const(v)}(x) is False:",
                                                           "        raise Invalid")]

    def item(self, field: fields.Field) -> str:
        """A function finishing one list item, dict key or dict value of this field kind."""
        if type(field) is fields.Nested and not field.validators and not _lets_null_through(field):
            return self.schema(field.schema)
        name = f"item_{len(self.chunks)}"
        null = ["        return None" if field.allow_none else "        raise Invalid"]
        self.chunks.append("\n".join([f"def {name}(x):", "    if x is None:", *null, *self.value(field),
                                      "    return x"]) + "\n")
        return name

    def compile(self, entry: str) -> Callable[[Any], Any]:
        exec(compile("\n".join(self.chunks), f"<fastload {entry}>", "exec"), self.namespace)
        return self.namespace[entry]


def compile_schema(schema: Schema) -> Loader:
    """A function that loads valid input exactly as `schema.load` would, raising Invalid for anything else."""
    try:
        struct = struct_for(schema)
    except Unsupported:
        def defer(data: Any) -> Any:
            raise Invalid

        return defer
    generator = _PostGenerator()
    post = generator.compile(generator.schema(schema))
    convert, to_builtins = msgspec.convert, msgspec.to_builtins

    def load(data: Any) -> Any:
        try:
            return post(to_builtins(convert(data, struct)))
        except (msgspec.ValidationError, ValidationError):
            raise Invalid from None

    return load


class FastLoader:
    """`load(data)`: the generated fast path, with `schema.load` deciding whenever the fast path cannot."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._fast = compile_schema(schema)

    def load(self, data: Any) -> Any:
        try:
            return self._fast(data)
        except Invalid:
            return self.schema.load(data)
