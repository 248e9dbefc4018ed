"""Response and documentation-only schemas, composed from app.schemas so the OpenAPI document cannot drift."""

from __future__ import annotations

import copy

from marshmallow import fields, validate

from app.schemas.query import MAX_PAGE_SIZE, OrderRecordsQuery
from app.schemas.records import (
    MAX_BATCH,
    MAX_LINE_ITEMS,
    OrderRecordBulkOperations,
    OrderRecordForCreation,
    OrderRecordLineItemForCreation,
    OrderRecordMonetaryValue,
    OrderRecordPricingForCreation,
)
from app.schemas.types import OBJECT_ID, FullMatch, OffsetDateTime, Strict, StrictBoolean, StrictInteger

RESULT_STATUSES = ("CREATED", "UNCHANGED", "FAILED")


def _instant(description: str) -> OffsetDateTime:
    return OffsetDateTime(required=True, metadata={"description": description, "example": "2026-11-25T12:00:00.000Z"})


def _total(description: str) -> fields.Nested:
    return fields.Nested(OrderRecordMonetaryValue, required=True, allow_none=True,
                         metadata={"description": f"{description} null when there is no amount or they mix "
                                                  "currencies."})


class OrderRecordDiscountBreakdown(Strict):
    lineItemDiscounts = _total("Discounts from line item attributes (category discount).")
    orderDiscounts = _total("Discounts of pricing.discounts.")


class OrderRecordTotalDiscounts(Strict):
    value = _total("lineItemDiscounts + orderDiscounts.")
    breakdown = fields.Nested(OrderRecordDiscountBreakdown, required=True)


class OrderRecordTotals(Strict):
    """Totals computed by the service from the article attribute prices and the order-level pricing."""

    subTotal = _total("Σ quantity × basePrice, each line rounded to the minor unit.")
    totalDiscounts = fields.Nested(OrderRecordTotalDiscounts, required=True)
    totalLineItemSurcharges = _total("Σ line surcharges (category surcharge).")
    totalTaxes = _total("Σ pricing.taxes when any, else Σ line taxes (category tax); contained in the gross prices.")
    totalFees = _total("Σ pricing.fees.")
    total = _total("subTotal − totalDiscounts + totalLineItemSurcharges + totalFees.")


class OrderRecordPricingTotal(Strict):
    priceBreakdown = fields.Nested(OrderRecordTotals, required=True)


class OrderRecordPricing(OrderRecordPricingForCreation):
    total = fields.Nested(OrderRecordPricingTotal, required=True, metadata={"description": "Set by the service."})


class OrderRecordLineItem(OrderRecordLineItemForCreation):
    id = fields.String(required=True, metadata={"description": "Unique identifier of the line item (set by the "
                                                               "service).", "example": "6650a1f2c3d4e5f6a7b8c9d1"})


class OrderRecord(OrderRecordForCreation):
    """A stored order record: the fields as created plus the system fields."""

    id = fields.String(required=True, validate=FullMatch(OBJECT_ID), metadata={
        "description": "Unique identifier of the order record (an ObjectId).", "example": "6650a1f2c3d4e5f6a7b8c9d0"})
    version = StrictInteger(required=True, validate=validate.Range(1, None), metadata={
        "description": "1 at creation, +1 on every change (e.g. anonymization)."})
    created = _instant("Creation timestamp (UTC).")
    lastModified = _instant("Last modification timestamp (UTC). After anonymization: the gdprCleanupDate, the "
                            "moment it took effect (for a record created already past it: its creation).")
    anonymized = StrictBoolean(required=True, metadata={"description": "Whether consumer data has been anonymized."})
    gdprCleanupDate = _instant("When the consumer data is (or was) anonymized.")
    deletionDate = _instant("When the record will be deleted.")
    lineItems = fields.List(fields.Nested(OrderRecordLineItem), required=True,
                            validate=validate.Length(1, MAX_LINE_ITEMS))
    pricing = fields.Nested(OrderRecordPricing, required=True)


class OrderRecordBulkOperations(OrderRecordBulkOperations):
    """The request body as documented: at runtime the items are validated one by one, so one bad record fails alone."""

    operations = fields.List(
        fields.Nested(OrderRecordForCreation), required=True,
        validate=OrderRecordBulkOperations._declared_fields["operations"].validators)


class OrderRecordBulkOperationError(Strict):
    type = fields.String(required=True, validate=validate.OneOf(("VALIDATION", "UNKNOWN")), metadata={
        "description": "VALIDATION: the record breaks a rule (or changes a stored record). UNKNOWN: this record "
                       "alone could not be stored."})
    message = fields.String(required=True, metadata={
        "description": "Every problem as `path: rule`, separated by `; `.",
        "example": "lineItems.0.quantity: Must be greater than or equal to 1."})


class OrderRecordBulkOperationResult(Strict):
    status = fields.String(required=True, validate=validate.OneOf(RESULT_STATUSES), metadata={
        "description": "CREATED: stored now. UNCHANGED: a record with this tenantOrderRecordId and the same content "
                       "is stored already; nothing is written. FAILED: not stored, see error."})
    orderRecord = fields.Nested(OrderRecord, metadata={"description": "For CREATED and UNCHANGED."})
    error = fields.Nested(OrderRecordBulkOperationError, metadata={"description": "For FAILED."})


class OrderRecordBulkOperationsSummary(Strict):
    created = StrictInteger(required=True, metadata={"example": 24})
    updated = StrictInteger(required=True, metadata={"description": "Always 0: records are immutable.", "example": 0})
    unchanged = StrictInteger(required=True, metadata={"example": 1})


class OrderRecordBulkOperationsResponse(Strict):
    summary = fields.Nested(OrderRecordBulkOperationsSummary, required=True)
    details = fields.List(fields.Nested(OrderRecordBulkOperationResult), required=True,
                          validate=validate.Length(max=MAX_BATCH),
                          metadata={"description": "One result per operation, in the same order."})


class OrderRecords(Strict):
    total = StrictInteger(required=True, validate=validate.Range(0, None), metadata={
        "description": "Total number of records matching the filters (not just this page).", "example": 42})
    orderRecords = fields.List(fields.Nested(OrderRecord), required=True,
                               validate=validate.Length(max=MAX_PAGE_SIZE))


def _described(schema: type[Strict], name: str, description: str) -> fields.Field:
    """The runtime field itself (same validators and default), with a description for the document."""
    documented = copy.copy(schema._declared_fields[name])
    documented.metadata = {**documented.metadata, "description": description}
    return documented


class OrderRecordsQuery(OrderRecordsQuery):
    size = _described(OrderRecordsQuery, "size", "Page size.")
    startAfterId = _described(OrderRecordsQuery, "startAfterId",
                              "The id of the last record of the previous page; this page starts after it.")
    facilityRef = _described(OrderRecordsQuery, "facilityRef", "Only records of this facility.")
    tenantOrderRecordId = _described(OrderRecordsQuery, "tenantOrderRecordId",
                                     "Only the record with this tenant-specific id.")


class OrderRecordPath(Strict):
    orderRecordId = fields.String(required=True, validate=FullMatch(OBJECT_ID), metadata={
        "description": "The record's id (24 hex characters); any other value is simply not found (404)."})


class ErrorInner(Strict):
    summary = fields.String(required=True, metadata={"example": "Invalid input"})
    description = fields.String(metadata={"example": "lineItems.0.quantity: Must be greater than or equal to 1."})
    version = StrictInteger(metadata={"description": "The stored version (a version conflict)."})
    requestVersion = StrictInteger(metadata={"description": "The version the request sent (a version conflict)."})


class Status(Strict):
    status = fields.String(required=True, metadata={"example": "ok"})
