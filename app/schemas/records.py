"""The order record as a client sends it (OrderRecordForCreation and its parts), and the bulk envelope."""

from __future__ import annotations

import re

from marshmallow import Schema, fields, validate

from app.schemas.types import (
    CustomAttributes,
    FullMatch,
    Ident,
    Localized,
    OffsetDateTime,
    Strict,
    StrictBoolean,
    StrictInteger,
    StrictNumber,
    Text,
    _currency,
)

MAX_LINE_ITEMS = 500
MAX_ADDRESSES = 10
MAX_PAYMENTS = 100
MAX_PRICING_ENTRIES = 100
MAX_BATCH = 25
MAX_QUANTITY = 2**31 - 1
PAYMENT_STATUSES = ("COMPLETED", "FAILED", "CANCELLED", "REFUNDED", "PARTIALLY_REFUNDED")
ATTRIBUTE_CATEGORIES = ("descriptive", "miscellaneous", "pickingSequence", "customs", "insurance", "shop",
                        "dimensions", "carrierService", "salesPrice", "basePrice", "tax", "discount", "surcharge",
                        "subtotalBeforeDiscounts", "subtotalAfterDiscounts", "finalUnitPrice", "finalLineItemPrice")
ATTRIBUTE_TYPES = ("STRING", "NUMBER", "CURRENCY", "BOOLEAN")
# The official pattern, digits as ASCII ([0-9] for \\d, which in Python also takes other scripts' digits).
WARRANTY_PERIOD = re.compile(
    r"^-?P(?:([0-9]+W)|([0-9]+Y)?([0-9]+M)?([0-9]+D)?(?:T([0-9]+H)?([0-9]+M)?([0-9]+S)?)?)$")


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
