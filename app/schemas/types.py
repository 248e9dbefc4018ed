"""Strict field types and validators shared by every schema: integers, numbers, booleans and date-times taken
only in their JSON form, identifiers, free text, free-form attributes."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from app.domain.currencies import INT64_MAX, INT64_MIN, OFFICIAL_CURRENCIES

MAX_JSON_DEPTH = 32
OFFICIAL_CURRENCY_SET = frozenset(OFFICIAL_CURRENCIES)
# Match it with fullmatch (FullMatch below): Python's `$` also matches before a trailing newline. The anchored
# form is what the OpenAPI document shows, where `$` (ECMA-262) means the end.
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


def _iso_date_time(date_sep: str, time_sep: str, offset_sep: str) -> re.Pattern[str]:
    """An ISO 8601 calendar date-time, at least to the minute, entirely in one format (basic or extended), but for
    the offset (see ISO_DATE_TIME_FORMATS).

    The offset may be missing so that its absence gets its own message. Fields are ASCII digits ([0-9], not \\d,
    which takes any script's digits). Hour 24 (the end of the day) is refused here and not left to
    datetime.fromisoformat, whose verdict on it is not the same in every Python version. A decimal fraction only
    of seconds: fromisoformat would misread hh:mm,m (a fraction of a minute) as seconds.
    """
    return re.compile(
        rf"(?P<year>[0-9]{{4}}){date_sep}(?P<month>[0-9]{{2}}){date_sep}(?P<day>[0-9]{{2}})"
        rf"T(?P<hour>[01][0-9]|2[0-3]){time_sep}(?P<minute>[0-9]{{2}})"
        rf"(?:{time_sep}(?P<second>[0-9]{{2}})(?:[.,](?P<fraction>[0-9]{{1,9}}))?)?"
        rf"(?:(?P<utc>Z)|(?P<sign>[+-])(?P<offset_hour>[0-9]{{2}})(?:{offset_sep}(?P<offset_minute>[0-5][0-9]))?)?")


# Extended, the common one, first. Its offset may also be written ±hhmm: ISO 8601 wants ±hh:mm there, but
# strftime's %Y-%m-%dT%H:%M:%S%z and Java's "Z" pattern write +0100, and historical exports are full of them.
ISO_DATE_TIME_FORMATS = (_iso_date_time("-", ":", ":?"), _iso_date_time("", "", ""))
# The subset of the extended pattern that is RFC 3339 already (with an offset): it needs no rewriting, and
# taking it as it is spares the common case the rewriting (about three times its cost).
RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
                     r"(?:Z|[+-][0-9]{2}:[0-5][0-9])")


class FullMatch(validate.Regexp):
    """validate.Regexp on the whole value: Regexp uses re.match, which lets a trailing newline pass `$`."""

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class StrictInteger(fields.Integer):
    """An integer that is a JSON integer: no booleans, no strings, no floats, within 64 bits."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", validate.Range(INT64_MIN, INT64_MAX))
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictNumber(fields.Number):
    """A JSON number, integer or not, kept as sent (1 stays 1, 2.5 stays 2.5): no booleans, strings, NaN or inf."""

    num_type = float
    integer_bounds: ClassVar[tuple[int, int]] = (INT64_MIN, INT64_MAX)  # app.schemas.fastload reads them too

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float | int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.make_error("invalid")
        low, high = self.integer_bounds
        if isinstance(value, int) and not low <= value <= high:
            raise ValidationError("Must fit in 64 bits.")
        return value


class StrictBoolean(fields.Boolean):
    """true or false, nothing that merely looks like one."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class OffsetDateTime(fields.DateTime):
    """An ISO 8601 date-time with a UTC offset, loaded as its RFC 3339 form (a value in that form as given)."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "offset": "Must include a UTC offset, e.g. 2024-05-01T10:00:00+02:00 or ...Z."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            text = _rfc3339(value)
            # The parser the record rules use later on the stored string: it checks the calendar (month 13,
            # 29 February) and the ranges the pattern leaves open, and what passes here always parses there.
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise self.make_error("invalid", input=value, obj_type="datetime") from None
        if parsed.tzinfo is None:
            raise self.make_error("offset")
        return text


def _rfc3339(value: Any) -> str:
    """`value` in RFC 3339 extended form, digit for digit and with its own offset; ValueError if not ISO 8601."""
    if not isinstance(value, str):
        raise ValueError
    if RFC3339.fullmatch(value):
        return value
    for pattern in ISO_DATE_TIME_FORMATS:
        match = pattern.fullmatch(value)
        if match:
            return _rewritten(match)
    raise ValueError


def _rewritten(match: re.Match[str]) -> str:
    part = match.group
    fraction = f".{part('fraction')}" if part("fraction") else ""
    if part("utc"):
        offset = "Z"
    elif part("sign"):
        offset = f"{part('sign')}{part('offset_hour')}:{part('offset_minute') or '00'}"
    else:
        offset = ""
    return (f"{part('year')}-{part('month')}-{part('day')}T{part('hour')}:{part('minute')}:{part('second') or '00'}"
            f"{fraction}{offset}")


def _currency(value: str) -> None:
    if value not in OFFICIAL_CURRENCY_SET:
        raise ValidationError("Not one of the official ISO 4217 currency codes.")


def _json_object(value: dict[str, Any]) -> None:
    """Free-form attributes: any JSON, but integers within 64 bits, keys not MongoDB operators, bounded depth."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValidationError(f"Nested deeper than {MAX_JSON_DEPTH} levels.")
        if isinstance(node, dict):
            for key, child in node.items():
                if key.startswith("$") or "\x00" in key:
                    raise ValidationError(f"Key {key[:40]!r} must not start with '$' or contain NUL.")
                stack.append((child, depth + 1))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
        elif isinstance(node, int) and not isinstance(node, bool) and not INT64_MIN <= node <= INT64_MAX:
            raise ValidationError("Integers must fit in 64 bits.")


def Ident(required: bool = False, **kwargs: Any) -> fields.String:
    """An identifier, key or code: 1-256 characters (the official StringFilter's cap)."""
    return fields.String(required=required, validate=validate.Length(1, 256), **kwargs)


def Text(max_length: int = 1024, required: bool = False, min_length: int | None = None,
         **kwargs: Any) -> fields.String:
    """Free text: at most 1,024 characters."""
    return fields.String(required=required, validate=validate.Length(min_length, max_length), **kwargs)


def CustomAttributes() -> fields.Dict:
    return fields.Dict(keys=fields.String(validate=validate.Length(1, 256)), allow_none=True,
                       validate=_json_object, metadata={"description": "Free-form JSON object of tenant data."})


def Localized(description: str) -> fields.Dict:
    return fields.Dict(keys=fields.String(validate=validate.Length(1, 256)), values=Text(),
                       validate=validate.Length(max=100),
                       metadata={"description": f"{description}: locale (e.g. de_DE) to text.",
                                 "example": {"de_DE": "Farbe"}})


class Strict(Schema):
    class Meta:
        unknown = RAISE
