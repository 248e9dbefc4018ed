"""A fast path for marshmallow `load`: Python source generated from the schema's own fields and validators.

marshmallow spends most of a nested load on bookkeeping (error stores, hooks, partial handling), several
microseconds per field. For input that is valid, which a backfill almost always is, the generated function does
the same checks: it reads the rules from the schema objects (required, allow_none, defaults, unknown fields,
types, and each field's validators, calling them or, for Length and Range, comparing with their own bounds). No
rule is written here. Anything unusual (a failed check, a field kind without a generated form, which then runs
`field.deserialize`) makes `load` fall back to `schema.load`, which decides and explains. So the fast path can
only be faster, never more lenient: valid input gives the identical result, invalid input the identical errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from marshmallow.utils import missing

from app.schemas import StrictBoolean, StrictInteger

Loader = Callable[[Any], Any]
EXACT_TYPES: dict[type, type] = {fields.String: str, fields.Email: str, StrictInteger: int, StrictBoolean: bool}


class Invalid(Exception):
    """The fast path cannot vouch for this input; marshmallow must decide."""


class _Generator:
    """Writes one Python function per (nested) schema and per list/dict item kind, then compiles them together."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"Invalid": Invalid, "MISSING": missing}
        self.chunks: list[str] = []
        self.schemas: dict[int, str] = {}

    def const(self, value: Any) -> str:
        name = f"c{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def schema(self, schema: Schema) -> str:
        """The name of the function loading `schema`, generating it on first use."""
        if id(schema) in self.schemas:
            return self.schemas[id(schema)]
        name = self.schemas[id(schema)] = f"load_{type(schema).__name__}_{len(self.schemas)}"
        hooks = getattr(schema, "_hooks", {"unknown": [True]})
        if schema.unknown != RAISE or any(hooks.values()) or schema.only or schema.exclude:
            self.chunks.append(f"def {name}(v):\n    raise Invalid\n")
            return name
        known = self.const(frozenset(schema.load_fields))
        body = [f"def {name}(v):", f"    if type(v) is not dict or not {known}.issuperset(v):", "        raise Invalid",
                "    out = {}"]
        for key, field in schema.load_fields.items():
            if field.data_key not in (None, key):
                self.chunks.append(f"def {name}(v):\n    raise Invalid\n")
                return name
            body += self.member(repr(key), field)
        body.append("    return out")
        self.chunks.append("\n".join(body) + "\n")
        return name

    def member(self, key: str, field: fields.Field) -> list[str]:
        checks = ["    " + line for line in self.value(field)]
        if field.load_default is missing and not field.allow_none:
            # absent and null read alike through get(): null is refused, absence only when the field is required
            absent = ["    else:"] if field.required else [f"    elif {key} in v:"]
            return [f"    x = v.get({key})", "    if x is not None:", *checks, f"        out[{key}] = x", *absent,
                    "        raise Invalid"]
        lines = [f"    x = v.get({key}, MISSING)", "    if x is MISSING:"]
        if field.required:
            lines.append("        raise Invalid")
        elif field.load_default is missing:
            lines.append("        pass")
        elif callable(field.load_default):
            lines.append(f"        out[{key}] = {self.const(field.load_default)}()")
        else:
            lines.append(f"        out[{key}] = {self.const(field.load_default)}")
        lines.append("    elif x is None:")
        lines.append(f"        out[{key}] = None" if field.allow_none else "        raise Invalid")
        lines.append("    else:")
        lines += checks
        lines.append(f"        out[{key}] = x")
        return lines

    def value(self, field: fields.Field) -> list[str]:
        """Statements that check `x` (present, not None) and leave the loaded value in `x`."""
        kind = type(field)
        if kind is fields.Nested and not field.many:
            lines = [f"    x = {self.schema(field.schema)}(x)"]
        elif kind is fields.List:
            lines = ["    if type(x) is not list:", "        raise Invalid",
                     f"    x = [{self.item(field.inner)}(i) for i in x]"]
        elif kind is fields.Dict and field.key_field is not None:
            keys = self.item(field.key_field)
            lines = ["    if type(x) is not dict:", "        raise Invalid", "    for k in x:", f"        {keys}(k)"]
            if field.value_field is None:
                lines.append("    x = dict(x)")
            else:
                lines.append(f"    x = {{k: {self.item(field.value_field)}(i) for k, i in x.items()}}")
        elif kind in EXACT_TYPES:
            lines = [f"    if type(x) is not {self.const(EXACT_TYPES[kind])}:", "        raise Invalid"]
        else:  # the field's own conversion: what field.deserialize does for a present, non-null value
            lines = [f"    x = {self.const(field._deserialize)}(x, None, None)"]
        return lines + [line for check in field.validators for line in self.check(check)]

    def item(self, field: fields.Field) -> str:
        """A function loading one list item, dict key or dict value of this field kind."""
        if type(field) is fields.Nested and not field.many and not field.validators:
            return self.schema(field.schema)
        name = f"item_{len(self.chunks)}"
        lines = [f"def {name}(x):", "    if x is None:",
                 "        return None" if field.allow_none else "        raise Invalid"]
        self.chunks.append("\n".join(lines + self.value(field) + ["    return x"]) + "\n")
        return name

    def check(self, check: Any) -> list[str]:
        if type(check) is validate.Length and check.equal is None:
            return self.bounds("len(x)", check.min, check.max, True, True)
        if type(check) is validate.Range:
            return self.bounds("x", check.min, check.max, check.min_inclusive, check.max_inclusive)
        return [f"    if {self.const(check)}(x) is False:", "        raise Invalid"]

    def bounds(self, subject: str, low: Any, high: Any, low_inclusive: bool, high_inclusive: bool) -> list[str]:
        # one chained comparison: `subject` (len(x), say) is evaluated once
        low_part = f"{self.const(low)} {'<=' if low_inclusive else '<'} " if low is not None else ""
        high_part = f" {'<=' if high_inclusive else '<'} {self.const(high)}" if high is not None else ""
        if not low_part and not high_part:
            return []
        return [f"    if not {low_part}{subject}{high_part}:", "        raise Invalid"]

    def compile(self, entry: str) -> Loader:
        exec(compile("\n".join(self.chunks), f"<fastload {entry}>", "exec"), self.namespace)
        return self.namespace[entry]


def compile_schema(schema: Schema) -> Loader:
    """A function that loads valid input exactly as `schema.load` would, raising Invalid for anything else."""
    generator = _Generator()
    loader = generator.compile(generator.schema(schema))

    def load(data: Any) -> Any:
        try:
            return loader(data)
        except ValidationError:
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
