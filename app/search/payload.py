"""The search body as the official document names it (OrderRecordSearchPayload and its parts), in marshmallow."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from app.schemas.types import OffsetDateTime, Strict, StrictBoolean

MAX_PAGE = 250
MAX_LIST = 25
MAX_BRANCHES = 500
DIRECTIONS = ("ASC", "DESC")


class PageSize(fields.Float):
    """A JSON number with an integral value (25 and 25.0 alike), loaded as an int."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str | bool):
            raise self.make_error("invalid")
        number = super()._deserialize(value, attr, data, **kwargs)
        if number != int(number):
            raise ValidationError("Must be a whole number.")
        return int(number)


def _text(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(max=256), **kwargs)


def _direction() -> fields.String:
    return fields.String(validate=validate.OneOf(DIRECTIONS))


class StringFilter(Strict):
    eq = _text()
    notEq = _text()
    in_ = fields.List(_text(required=True), data_key="in", validate=validate.Length(max=MAX_LIST))
    notIn = fields.List(_text(required=True), validate=validate.Length(max=MAX_LIST))

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("Give at least one of eq, notEq, in, notIn.")


class DateFilter(Strict):
    eq = OffsetDateTime()
    notEq = OffsetDateTime()
    gt = OffsetDateTime()
    gte = OffsetDateTime()
    lt = OffsetDateTime()
    lte = OffsetDateTime()
    after = fields.String(validate=validate.Length(max=256))
    before = fields.String(validate=validate.Length(max=256))

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("Give at least one of eq, notEq, gt, gte, lt, lte, after, before.")


class OrderRecordConsumerAddressesFilter(Strict):
    companyName = fields.Nested(StringFilter)
    lastName = fields.Nested(StringFilter)


class OrderRecordConsumerAddressesListFilter(Strict):
    contains = fields.Nested(OrderRecordConsumerAddressesFilter)
    exists = StrictBoolean()


class OrderRecordConsumerFilter(Strict):
    addresses = fields.Nested(OrderRecordConsumerAddressesListFilter)
    consumerId = fields.Nested(StringFilter)


class OrderRecordLineItemsArticleFilter(Strict):
    tenantArticleId = fields.Nested(StringFilter)


class OrderRecordLineItemsFilter(Strict):
    article = fields.Nested(OrderRecordLineItemsArticleFilter)


class OrderRecordLineItemsListFilter(Strict):
    contains = fields.Nested(OrderRecordLineItemsFilter)
    exists = StrictBoolean()


class OrderRecordOriginFilter(Strict):
    cashierId = fields.Nested(StringFilter)
    terminalId = fields.Nested(StringFilter)


class OrderRecordPaymentsFilter(Strict):
    receiptNumber = fields.Nested(StringFilter)
    transactionId = fields.Nested(StringFilter)


class OrderRecordPaymentsListFilter(Strict):
    contains = fields.Nested(OrderRecordPaymentsFilter)
    exists = StrictBoolean()


class OrderRecordSearchQuery(Strict):
    and_ = fields.List(fields.Nested(lambda: OrderRecordSearchQuery()), data_key="and",
                       validate=validate.Length(max=MAX_BRANCHES))
    or_ = fields.List(fields.Nested(lambda: OrderRecordSearchQuery()), data_key="or",
                      validate=validate.Length(max=MAX_BRANCHES))
    consumer = fields.Nested(OrderRecordConsumerFilter)
    facilityName = fields.Nested(StringFilter)
    lineItems = fields.Nested(OrderRecordLineItemsListFilter)
    orderRecordDate = fields.Nested(DateFilter)
    origin = fields.Nested(OrderRecordOriginFilter)
    payments = fields.Nested(OrderRecordPaymentsListFilter)
    tenantOrderRecordId = fields.Nested(StringFilter)


class OrderRecordAddressesSort(Strict):
    city = _direction()
    companyName = _direction()
    country = _direction()
    firstName = _direction()
    lastName = _direction()
    postalCode = _direction()


class OrderRecordConsumerSort(Strict):
    addresses = fields.Nested(OrderRecordAddressesSort)


class OrderRecordLineItemsSort(Strict):
    quantity = _direction()


class OrderRecordOriginSort(Strict):
    cashierId = _direction()
    terminalId = _direction()
    type = _direction()


class OrderRecordPaymentsSort(Strict):
    paymentMethod = _direction()
    receiptNumber = _direction()
    status = _direction()
    transactionId = _direction()


class OrderRecordTotalSort(Strict):
    priceBreakdownTotal = _direction()


class OrderRecordPricingSort(Strict):
    total = fields.Nested(OrderRecordTotalSort)


class OrderRecordSort(Strict):
    consumer = fields.Nested(OrderRecordConsumerSort)
    facilityCountry = _direction()
    facilityName = _direction()
    lineItems = fields.Nested(OrderRecordLineItemsSort)
    orderRecordDate = _direction()
    origin = fields.Nested(OrderRecordOriginSort)
    payments = fields.Nested(OrderRecordPaymentsSort)
    pricing = fields.Nested(OrderRecordPricingSort)
    tenantOrderRecordId = _direction()


class SearchOptions(Strict):
    withTotal = StrictBoolean()


class OrderRecordSearchPayload(Strict):
    after = fields.String(validate=validate.Length(max=4096))
    before = fields.String(validate=validate.Length(max=4096))
    last = PageSize(validate=validate.Range(1, MAX_PAGE))
    options = fields.Nested(SearchOptions)
    query = fields.Nested(OrderRecordSearchQuery, required=True)
    size = PageSize(validate=validate.Range(1, MAX_PAGE), metadata={"example": 10})
    sort = fields.List(fields.Nested(OrderRecordSort), validate=validate.Length(1, 1))
    startAfterId = fields.String(metadata={"deprecated": True})

    @validates_schema
    def _paging(self, data: dict[str, Any], **kwargs: Any) -> None:
        given = {name for name in ("after", "before", "last", "size", "startAfterId") if name in data}
        for a, b in (("size", "last"), ("after", "before"), ("after", "last"), ("before", "size"),
                     ("startAfterId", "after"), ("startAfterId", "before"), ("startAfterId", "last")):
            if {a, b} <= given:
                raise ValidationError(f"{a} cannot be used with {b}.", a)
