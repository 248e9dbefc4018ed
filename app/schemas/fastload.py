"""A fast path for marshmallow `load`: Python source generated from the schema's own fields and validators.

marshmallow spends most of a nested load on bookkeeping (error stores, hooks, partial handling), several
microseconds per field. For input that is valid, which a backfill almost always is, the generated function does
the same checks: it reads the rules from the schema objects (required, allow_none, defaults, unknown fields,
types, and each field's validators, calling them or, for Length, Range and OneOf, comparing with their own
bounds and choices). No rule is written here. Anything unusual (a failed check, a field kind without a generated
form, which then runs `field.deserialize`) makes `load` fall back to `schema.load`, which decides and explains. So
the fast path can only be faster, never more lenient: valid input gives an equal result (the input itself, or
copies of the parts that loading changes), invalid input the identical errors.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from marshmallow.utils import missing

from app.schemas.types import StrictBoolean, StrictInteger, StrictNumber

Loader = Callable[[Any], Any]
EXACT_TYPES: dict[type, type] = {fields.String: str, fields.Email: str, StrictInteger: int, StrictBoolean: bool}


class Invalid(Exception):
    """The fast path cannot vouch for this input; marshmallow must decide."""


class _Generator:
    """Writes one Python function per (nested) schema and per list/dict item kind, then compiles them together.

    The functions check their input in place and return it as it is when loading changes nothing (no default to
    fill, no conversion that gives another object), which for valid records is nearly always: copying every dict
    cost more than checking it. A change copies only the dict or list it is in (copy-on-write), so the input is
    never modified and `schema.load` can still read it on a fallback. The members of a returned copy keep the
    input's order (marshmallow's result has the schema's): JSON objects are unordered.
    """

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"Invalid": Invalid, "MISSING": missing, "same": _same}
        self.chunks: list[str] = []
        self.schemas: dict[int, str] = {}
        self.unchanging: dict[int, bool] = {}  # schema id -> its function always returns its input

    def const(self, value: Any) -> str:
        name = f"c{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def schema(self, schema: Schema) -> tuple[str, bool]:
        """The name of the function loading `schema`, generating it on first use, and whether it never copies."""
        if id(schema) in self.schemas:
            return self.schemas[id(schema)], self.unchanging[id(schema)]
        name = self.schemas[id(schema)] = f"load_{type(schema).__name__}_{len(self.schemas)}"
        self.unchanging[id(schema)] = False  # while its own members are generated (a schema nested in itself)
        hooks = getattr(schema, "_hooks", {"unknown": [True]})
        if (schema.unknown != RAISE or any(hooks.values()) or schema.only or schema.exclude
                or any(field.data_key not in (None, key) for key, field in schema.load_fields.items())):
            self.chunks.append(f"def {name}(v):\n    raise Invalid\n")
            self.unchanging[id(schema)] = True
            return name, True
        known = self.const(frozenset(schema.load_fields))
        body = [f"def {name}(v):", f"    if type(v) is not dict or not {known}.issuperset(v):", "        raise Invalid"]
        members = [self.member(repr(key), field) for key, field in schema.load_fields.items()]
        unchanging = all(same for _, same in members)
        if not unchanging:
            body.append("    out = None")
        for lines, _ in members:
            body += lines
        body.append("    return v" if unchanging else "    return v if out is None else out")
        self.chunks.append("\n".join(body) + "\n")
        self.unchanging[id(schema)] = unchanging
        return name, unchanging

    def member(self, key: str, field: fields.Field) -> tuple[list[str], bool]:
        """Statements loading member `key` of `v`, and whether they never change it."""
        checks, same, refuses_none = self.value(field)
        checks = ["        " + line for line in checks]
        if not same:
            checks = ["        o = x", *checks, "        if x is not o:", *self.changed(key, "x", "            ")]
        default = field.load_default
        if default is missing:
            if not field.allow_none:
                # absent (None through get()) is refused when required; null always
                head = ["    x = v.get(" + key + ")" if field.required else f"    x = v.get({key}, MISSING)",
                        "    if True:" if field.required else "    if x is not MISSING:"]
                if not refuses_none:
                    head += ["        if x is None:", "            raise Invalid"]
                return head + checks, same
            if field.required:
                return [f"    x = v.get({key}, MISSING)", "    if x is MISSING:", "        raise Invalid",
                        "    if x is not None:", *checks], same
            return [f"    x = v.get({key})", "    if x is not None:", *checks], same
        filled = f"{self.const(default)}()" if callable(default) else self.const(default)
        lines = [f"    x = v.get({key}, MISSING)", "    if x is MISSING:", *self.changed(key, filled, "        ")]
        if field.allow_none:
            lines += ["    elif x is not None:", *checks]
        else:
            lines += ["    elif x is None:", "        raise Invalid", "    else:", *checks]
        return lines, False

    @staticmethod
    def changed(key: str, value: str, indent: str) -> list[str]:
        return [f"{indent}if out is None:", f"{indent}    out = dict(v)", f"{indent}out[{key}] = {value}"]

    def value(self, field: fields.Field) -> tuple[list[str], bool, bool]:
        """Statements that check `x` (present) and leave the loaded value in `x`; whether that is always `x`
        itself; whether they refuse None."""
        kind = type(field)
        exact = EXACT_TYPES.get(kind)
        conditions: list[str] = []
        if kind is fields.Nested and not field.many:
            function, same = self.schema(field.schema)
            lines = [f"x = {function}(x)"]
        elif kind is fields.List:
            function, same = self.item(field.inner)
            lines = ["if type(x) is not list:", "    raise Invalid"]
            lines += ["for i in x:", f"    {function}(i)"] if same else [
                f"y = [{function}(i) for i in x]", "if not same(y, x):", "    x = y"]
        elif kind is fields.Dict and field.key_field is not None:
            keys, same = self.item(field.key_field)
            lines = ["if type(x) is not dict:", "    raise Invalid"]
            if field.value_field is None:
                lines += ["for k in x:", f"    {keys}(k)"] if same else [
                    "x = {" + keys + "(k): i for k, i in x.items()}"]
            else:
                values, same_values = self.item(field.value_field)
                if same and same_values:
                    lines += ["for k, i in x.items():", f"    {keys}(k)", f"    {values}(i)"]
                else:
                    same = False
                    lines += ["x = {" + keys + "(k): " + values + "(i) for k, i in x.items()}"]
        elif exact is not None:
            lines, same = [], True
            conditions.append(f"type(x) is not {exact.__name__}")
        elif kind is StrictNumber:  # an int within the field's bounds, or a finite float: kept as sent
            lines, same = [], True
            low, high = (self.const(bound) for bound in field.integer_bounds)
            conditions.append(f"(not {low} <= x <= {high} if type(x) is int else "
                              f"type(x) is not float or not {self.const(math.isfinite)}(x))")
        else:  # the field's own conversion: what field.deserialize does for a present, non-null value
            return [f"x = {self.const(field._deserialize)}(x, None, None)",
                    *self.checks(field, None)], False, False
        return lines + self.checks(field, exact, conditions), same, True

    def checks(self, field: fields.Field, exact: type | None, conditions: list[str] | None = None) -> list[str]:
        """One `if` refusing `x` unless it passes every validator of `field` (after the given conditions)."""
        conditions = list(conditions or [])
        for check in field.validators:
            conditions.append(self.condition(check, exact))
        conditions = [c for c in conditions if c]
        return [f"if {' or '.join(conditions)}:", "    raise Invalid"] if conditions else []

    def item(self, field: fields.Field) -> tuple[str, bool]:
        """A function loading one list item, dict key or dict value of this field kind, and whether it returns
        its argument itself always."""
        if type(field) is fields.Nested and not field.many and not field.validators:
            return self.schema(field.schema)
        name = f"item_{len(self.chunks)}"
        lines, same, refuses_none = self.value(field)
        head = [f"def {name}(x):"]
        if field.allow_none:
            head += ["    if x is None:", "        return None"]
        elif not refuses_none:
            head += ["    if x is None:", "        raise Invalid"]
        self.chunks.append("\n".join(head + ["    " + line for line in lines] + ["    return x"]) + "\n")
        return name, same

    def condition(self, check: Any, exact: type | None) -> str:
        """An expression true when `x` fails `check`; a validator raising ValidationError fails it too."""
        if type(check) is validate.Length and check.equal is None:
            return self.bounds("len(x)", check.min, check.max, True, True)
        if type(check) is validate.Range:
            return self.bounds("x", check.min, check.max, check.min_inclusive, check.max_inclusive)
        if (type(check) is validate.OneOf and exact in (str, int)
                and all(type(choice) is exact for choice in check.choices)):
            # for a str or int (exact types), membership of a set is the `in` of OneOf's choices
            return f"x not in {self.const(frozenset(check.choices))}"
        return f"{self.const(check)}(x) is False"

    def bounds(self, subject: str, low: Any, high: Any, low_inclusive: bool, high_inclusive: bool) -> str:
        # one chained comparison: `subject` (len(x), say) is evaluated once
        low_part = f"{self.const(low)} {'<=' if low_inclusive else '<'} " if low is not None else ""
        high_part = f" {'<=' if high_inclusive else '<'} {self.const(high)}" if high is not None else ""
        if not low_part and not high_part:
            return ""
        return f"not {low_part}{subject}{high_part}"

    def compile(self, entry: str) -> Loader:
        exec(compile("\n".join(self.chunks), f"<fastload {entry}>", "exec"), self.namespace)
        return self.namespace[entry]


def _same(loaded: list[Any], given: list[Any]) -> bool:
    return all(map(operator.is_, loaded, given))


def compile_schema(schema: Schema) -> Loader:
    """A function that loads valid input exactly as `schema.load` would, raising Invalid for anything else."""
    generator = _Generator()
    loader = generator.compile(generator.schema(schema)[0])

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
