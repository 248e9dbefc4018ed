"""Marshmallow schemas: the one definition of every input rule, also the source of the OpenAPI document."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from app.domain.currencies import INT64_MAX, INT64_MIN, OFFICIAL_CURRENCIES

MAX_LINE_ITEMS = 500
MAX_ADDRESSES = 10
MAX_PAYMENTS = 100
MAX_PRICING_ENTRIES = 100
MAX_BATCH = 25
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 20
MAX_JSON_DEPTH = 32
MAX_QUANTITY = 2**31 - 1
PAYMENT_STATUSES = ("COMPLETED", "FAILED", "CANCELLED", "REFUNDED", "PARTIALLY_REFUNDED")
ATTRIBUTE_CATEGORIES = ("descriptive", "miscellaneous", "pickingSequence", "customs", "insurance", "shop",
                        "dimensions", "carrierService", "salesPrice", "basePrice", "tax", "discount", "surcharge",
                        "subtotalBeforeDiscounts", "subtotalAfterDiscounts", "finalUnitPrice", "finalLineItemPrice")
ATTRIBUTE_TYPES = ("STRING", "NUMBER", "CURRENCY", "BOOLEAN")
OFFICIAL_CURRENCY_SET = frozenset(OFFICIAL_CURRENCIES)
# The official pattern, digits as ASCII ([0-9] for \\d, which in Python also takes other scripts' digits).
WARRANTY_PERIOD = re.compile(
    r"^-?P(?:([0-9]+W)|([0-9]+Y)?([0-9]+M)?([0-9]+D)?(?:T([0-9]+H)?([0-9]+M)?([0-9]+S)?)?)$")
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
    integer_bounds: ClassVar[tuple[int, int]] = (INT64_MIN, INT64_MAX)  # app.fastload reads them too

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


class OrderRecordMonetaryValue(Strict):
    value = StrictInteger(required=True, metadata={"description": "Amount in the smallest currency unit.",
                                                   "example": 1999})
    currency = fields.String(required=True, validate=_currency, metadata={"example": "EUR"})
    decimalPlaces = StrictInteger(validate=validate.Range(0, 8),
                                  metadata={"description": "Defaults to the currency's standard minor unit "
                                            "(filled in by the service: EUR 2, JPY 0, KWD 3).", "example": 2})


class OrderRecordArticleAttributeItem(Strict):
    key = Ident(required=True)
    value = Text(required=True, min_length=1)
    category = fields.String(validate=validate.OneOf(ATTRIBUTE_CATEGORIES), metadata={
        "description": "basePrice (keys value, currency, decimalPlaces), discount, tax and surcharge attributes "
                       "feed the totals."})
    priority = StrictInteger()
    type = fields.String(validate=validate.OneOf(ATTRIBUTE_TYPES))
    keyLocalized = Localized("Localized key")
    valueLocalized = Localized("Localized value")


class OrderRecordLineItemArticle(Strict):
    tenantArticleId = Ident(required=True, metadata={"example": "MY_ARTICLE_ID"})
    title = Text()
    attributes = fields.List(fields.Nested(OrderRecordArticleAttributeItem), validate=validate.Length(max=100),
                             load_default=list, metadata={"description": "May be left out: stored as []."})


class OrderRecordLineItemWarranty(Strict):
    warrantyStartDate = OffsetDateTime()
    warrantyPeriod = fields.String(validate=[validate.Length(max=256), FullMatch(WARRANTY_PERIOD)],
                                   metadata={"example": "P2Y"})


class OrderRecordLineItemReturnPolicy(Strict):
    isReturnable = StrictBoolean()
    returnWindowEndDate = OffsetDateTime()


class OrderRecordLineItemForCreation(Strict):
    article = fields.Nested(OrderRecordLineItemArticle, required=True)
    quantity = StrictNumber(required=True, validate=validate.Range(1, MAX_QUANTITY), metadata={"example": 1})
    measurementUnitKey = Ident()
    warranty = fields.Nested(OrderRecordLineItemWarranty)
    returnPolicy = fields.Nested(OrderRecordLineItemReturnPolicy)
    customAttributes = CustomAttributes()


class OrderRecordAddress(Strict):
    firstName = Text()
    lastName = Text()
    companyName = Text()
    street = Text()
    houseNumber = Text()
    postalCode = Text()
    city = Text()
    province = Text()
    country = Text(metadata={"example": "DE"})
    additionalAddressInfo = Text()


class OrderRecordConsumer(Strict):
    consumerId = Ident()
    email = Text()
    addresses = fields.List(fields.Nested(OrderRecordAddress), validate=validate.Length(max=MAX_ADDRESSES))


class OrderRecordPayment(Strict):
    value = fields.Nested(OrderRecordMonetaryValue, required=True)
    taxValue = fields.Nested(OrderRecordMonetaryValue)
    paymentMethod = Ident()
    status = fields.String(validate=validate.OneOf(PAYMENT_STATUSES))
    transactionId = Ident()
    receiptNumber = Ident()


class OrderRecordPosOrigin(Strict):
    type = fields.String(load_default="POS", validate=validate.OneOf(("POS",)),
                         metadata={"description": "May be left out: stored as POS."})
    terminalId = Ident()
    cashierId = Ident()


class OrderRecordDiscount(Strict):
    type = Ident(metadata={"description": "PERCENTAGE needs percentage (0-100), ABSOLUTE needs value."})
    value = fields.Nested(OrderRecordMonetaryValue)
    percentage = StrictNumber(validate=validate.Range(0, 100))
    name = Text()
    nameLocalized = Localized("Localized name")
    code = Ident()
    context = Ident()
    tenantDiscountId = Ident()


class OrderRecordFee(Strict):
    name = Text()
    value = fields.Nested(OrderRecordMonetaryValue)


class OrderRecordTax(Strict):
    value = fields.Nested(OrderRecordMonetaryValue, required=True)
    taxableValue = fields.Nested(OrderRecordMonetaryValue)
    ratePercent = StrictNumber()
    type = Ident()
    scope = Ident()


def _entries(schema: type[Schema]) -> fields.List:
    return fields.List(fields.Nested(schema), validate=validate.Length(max=MAX_PRICING_ENTRIES))


class OrderRecordPricingForCreation(Strict):
    discounts = _entries(OrderRecordDiscount)
    fees = _entries(OrderRecordFee)
    taxes = _entries(OrderRecordTax)


class OrderRecordForCreation(Strict):
    orderRecordDate = OffsetDateTime(required=True, metadata={"example": "2026-06-17T12:00:00.000Z"})
    facilityRef = Ident(required=True)
    lineItems = fields.List(fields.Nested(OrderRecordLineItemForCreation), required=True,
                            validate=validate.Length(1, MAX_LINE_ITEMS))
    tenantOrderRecordId = Ident(metadata={"example": "MY_ORDERRECORD_ID"})
    consumer = fields.Nested(OrderRecordConsumer)
    payments = fields.List(fields.Nested(OrderRecordPayment), validate=validate.Length(max=MAX_PAYMENTS))
    origin = fields.Nested(OrderRecordPosOrigin)
    pricing = fields.Nested(OrderRecordPricingForCreation)
    customAttributes = CustomAttributes()


class OrderRecordBulkOperations(Strict):
    """The envelope only: each record is validated on its own so one bad record fails alone."""

    operations = fields.List(fields.Raw(allow_none=True, metadata={"type": "object"}), required=True,
                             validate=validate.Length(1, MAX_BATCH))


QUERY_NUMBER = re.compile(r"[0-9]{1,9}(?:\.0{1,9})?")


class QueryInteger(fields.Integer):
    """A query-string number that is integral: ASCII digits, optionally `.0` (the official type is a number, so
    25 and 25.0 alike); no sign, exponent, spaces or other scripts' digits."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str) or QUERY_NUMBER.fullmatch(value) is None:
            raise self.make_error("invalid")
        return int(value.partition(".")[0])


class OrderRecordsQuery(Strict):
    size = QueryInteger(load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(1, MAX_PAGE_SIZE))
    startAfterId = fields.String(validate=FullMatch(OBJECT_ID, error="Not a valid ObjectId (24 hex chars)."))
    facilityRef = Ident()
    tenantOrderRecordId = Ident()
