"""Marshmallow schemas: the one definition of every input rule, also the source of the OpenAPI document."""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any, ClassVar

import isodate
import pycountry
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from app.domain.money import INT64_MAX, INT64_MIN, is_currency

MAX_LINE_ITEMS = 500
MAX_ADDRESSES = 10
MAX_PAYMENTS = 100
MAX_PRICING_ENTRIES = 100
MAX_BATCH = 25
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 20
MAX_JSON_DEPTH = 32
PAYMENT_STATUSES = ("COMPLETED", "FAILED", "CANCELLED", "REFUNDED", "PARTIALLY_REFUNDED")
COUNTRY_CODES = frozenset(c.alpha_2 for c in pycountry.countries)
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


class StrictFloat(fields.Float):
    """A JSON number: no strings that merely look like one (booleans marshmallow refuses already)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, str):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


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


@functools.lru_cache(maxsize=1024)  # warranty periods are a handful of values (P2Y, P6M, ...) repeated endlessly
def _is_iso_duration(value: str) -> bool:
    try:
        if not value.startswith("P") or value.endswith(("P", "T")):
            return False
        isodate.parse_duration(value)
    except (ValueError, OverflowError, isodate.ISO8601Error):
        return False
    return True


def _iso_duration(value: str) -> None:
    if len(value) > 64 or not _is_iso_duration(value):  # the length first: no long string is ever cached
        raise ValidationError("Not a valid ISO 8601 duration such as P2Y or P6M.")


def _currency(value: str) -> None:
    if not is_currency(value):
        raise ValidationError("Not a valid ISO 4217 currency code.")


_EMAIL = validate.Email()


def _email(value: str) -> None:
    # The length first: marshmallow would run the e-mail regex over a megabyte-long string before rejecting it.
    if len(value) > 254:
        raise ValidationError("Longer than maximum length 254.")
    _EMAIL(value)


def _country(value: str) -> None:
    if value not in COUNTRY_CODES:
        raise ValidationError("Not a valid ISO 3166-1 alpha-2 country code.")


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
    return fields.String(required=required, validate=validate.Length(1, 256), **kwargs)


def Text(max_length: int = 1024, required: bool = False, **kwargs: Any) -> fields.String:
    return fields.String(required=required, validate=validate.Length(max=max_length), **kwargs)


def CustomAttributes() -> fields.Dict:
    return fields.Dict(keys=fields.String(validate=validate.Length(1, 256)), allow_none=True,
                       validate=_json_object, metadata={"description": "Free-form JSON object of tenant data."})


def Localized() -> fields.Dict:
    return fields.Dict(keys=fields.String(validate=validate.Length(2, 35)), values=Text(),
                       validate=validate.Length(max=100),
                       metadata={"description": "Locale (e.g. de_DE) to text.", "example": {"de_DE": "Farbe"}})


class Strict(Schema):
    class Meta:
        unknown = RAISE


class MonetaryValue(Strict):
    value = StrictInteger(required=True, metadata={"description": "Amount in the smallest currency unit."})
    currency = fields.String(required=True, validate=_currency, metadata={"example": "EUR"})
    decimalPlaces = StrictInteger(validate=validate.Range(0, 4),
                                  metadata={"description": "Defaults to the currency's standard minor unit "
                                            "(filled in by the service: EUR 2, JPY 0, KWD 3)."})


class ArticleAttribute(Strict):
    key = Ident(required=True)
    value = Text(required=True)
    category = Ident()
    priority = StrictInteger()
    type = Ident()
    keyLocalized = Localized()
    valueLocalized = Localized()


class Article(Strict):
    tenantArticleId = Ident(required=True)
    title = Text()
    attributes = fields.List(fields.Nested(ArticleAttribute), validate=validate.Length(max=100))


class Warranty(Strict):
    warrantyStartDate = OffsetDateTime(required=True)
    warrantyPeriod = fields.String(required=True, validate=_iso_duration, metadata={"example": "P2Y"})


class ReturnPolicy(Strict):
    isReturnable = StrictBoolean(required=True)
    returnWindowEndDate = OffsetDateTime()


class LineItem(Strict):
    article = fields.Nested(Article, required=True)
    quantity = StrictInteger(required=True, validate=validate.Range(1, 2**31 - 1))
    measurementUnitKey = Ident()
    price = fields.Nested(MonetaryValue, metadata={"description": "Unit price as charged (gross)."})
    deposit = fields.Nested(MonetaryValue, metadata={"description": "Deposit per unit."})
    warranty = fields.Nested(Warranty)
    returnPolicy = fields.Nested(ReturnPolicy)
    customAttributes = CustomAttributes()


class PhoneNumber(Strict):
    value = Ident(required=True)
    type = Ident()


class Address(Strict):
    addressType = Ident()
    salutation = Ident()
    firstName = Text(256)
    lastName = Text(256)
    companyName = Text(256)
    street = Text(256)
    houseNumber = Text(64)
    postalCode = Text(64)
    city = Text(256)
    country = fields.String(required=True, validate=_country, metadata={"example": "DE"})
    phoneNumbers = fields.List(fields.Nested(PhoneNumber), validate=validate.Length(max=20))
    additionalAddressInfo = Text()


class Consumer(Strict):
    consumerId = Ident()
    email = fields.String(validate=_email, metadata={"format": "email"})
    addresses = fields.List(fields.Nested(Address), validate=validate.Length(max=MAX_ADDRESSES))


class Payment(Strict):
    method = Ident(required=True)
    amount = fields.Nested(MonetaryValue, required=True)
    status = fields.String(required=True, validate=validate.OneOf(PAYMENT_STATUSES))
    refundedAmount = fields.Nested(MonetaryValue)
    transactionId = Ident()
    paidAt = OffsetDateTime()


class Origin(Strict):
    terminalId = Ident()
    cashierId = Ident()


class Discount(Strict):
    type = Ident()
    description = Text()
    amount = fields.Nested(MonetaryValue, required=True)


class Fee(Discount):
    pass


class Tax(Strict):
    type = Ident()
    rate = StrictFloat(allow_nan=False, validate=validate.Range(0, 100), metadata={"description": "Percent."})
    amount = fields.Nested(MonetaryValue, required=True)
    includedInPrice = StrictBoolean(load_default=True,
                                    metadata={"description": "The line prices already contain this tax."})


def _entries(schema: type[Schema]) -> fields.List:
    return fields.List(fields.Nested(schema), validate=validate.Length(max=MAX_PRICING_ENTRIES))


class Pricing(Strict):
    discounts = _entries(Discount)
    fees = _entries(Fee)
    taxes = _entries(Tax)


class OrderRecordForCreation(Strict):
    orderRecordDate = OffsetDateTime(required=True, metadata={"example": "2024-05-01T10:00:00+02:00"})
    facilityRef = Ident(required=True)
    lineItems = fields.List(fields.Nested(LineItem), required=True, validate=validate.Length(1, MAX_LINE_ITEMS))
    tenantOrderRecordId = Ident()
    consumer = fields.Nested(Consumer)
    payments = fields.List(fields.Nested(Payment), validate=validate.Length(max=MAX_PAYMENTS))
    origin = fields.Nested(Origin)
    pricing = fields.Nested(Pricing)
    customAttributes = CustomAttributes()


class OrderRecordBulkOperations(Strict):
    """The envelope only: each record is validated on its own so one bad record fails alone."""

    orderRecords = fields.List(fields.Raw(allow_none=True, metadata={"type": "object"}), required=True,
                               validate=validate.Length(1, MAX_BATCH))


class QueryInteger(fields.Integer):
    """A query-string integer: plain ASCII digits only (no sign, spaces, underscores or other scripts' digits)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 9:
            raise self.make_error("invalid")
        return int(value)


class OrderRecordsQuery(Strict):
    size = QueryInteger(load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(1, MAX_PAGE_SIZE))
    startAfterId = fields.String(validate=FullMatch(OBJECT_ID, error="Not a valid ObjectId (24 hex chars)."))
    facilityRef = Ident()
    tenantOrderRecordId = Ident()
