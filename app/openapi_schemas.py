"""Response and documentation-only schemas, composed from app.schemas so the OpenAPI document cannot drift."""

from __future__ import annotations

import copy

from marshmallow import fields, validate

from app import schemas
from app.errors import MAX_ERRORS
from app.schemas import MonetaryValue, OffsetDateTime, OrderRecordForCreation, Strict, StrictBoolean, StrictInteger

RESULT_STATUSES = ("CREATED", "ALREADY_EXISTS", "FAILED")


def _instant(description: str) -> OffsetDateTime:
    return OffsetDateTime(required=True, metadata={"description": description, "example": "2026-11-25T12:00:00.000Z"})


class PriceBreakdown(Strict):
    """Totals computed by the service, in the record's currency."""

    subTotal = fields.Nested(MonetaryValue, required=True, metadata={"description": "Σ quantity × price."})
    totalDiscounts = fields.Nested(MonetaryValue, required=True)
    totalTaxes = fields.Nested(MonetaryValue, required=True)
    totalFees = fields.Nested(MonetaryValue, required=True)
    totalDeposit = fields.Nested(MonetaryValue, required=True, metadata={"description": "Σ quantity × deposit."})
    total = fields.Nested(MonetaryValue, required=True, metadata={
        "description": "subTotal − totalDiscounts + totalFees + totalDeposit + taxes not included in the price."})


class OrderRecordPricing(schemas.Pricing):
    priceBreakdown = fields.Nested(PriceBreakdown, metadata={
        "description": "Set by the service whenever a line item has a price or pricing is given."})


class OrderRecord(OrderRecordForCreation):
    """A stored order record: the fields as created plus the system fields."""

    id = fields.String(required=True, validate=schemas.FullMatch(schemas.OBJECT_ID), metadata={
        "description": "Unique identifier of the order record (an ObjectId).", "example": "6650a1f2c3d4e5f6a7b8c9d0"})
    version = StrictInteger(required=True, validate=validate.Range(1, None), metadata={
        "description": "1 at creation, +1 on every change (e.g. anonymization)."})
    created = _instant("Creation timestamp (UTC).")
    lastModified = _instant("Last modification timestamp (UTC). After anonymization: the gdprCleanupDate, the "
                            "moment it took effect (for a record created already past it: its creation).")
    anonymized = StrictBoolean(required=True, metadata={"description": "Whether consumer data has been anonymized."})
    gdprCleanupDate = _instant("When the consumer data is (or was) anonymized.")
    deletionDate = _instant("When the record will be deleted.")
    pricing = fields.Nested(OrderRecordPricing)


class OrderRecordBulkOperations(schemas.OrderRecordBulkOperations):
    """The request body as documented: at runtime the items are validated one by one, so one bad record fails alone."""

    orderRecords = fields.List(
        fields.Nested(OrderRecordForCreation), required=True,
        validate=schemas.OrderRecordBulkOperations._declared_fields["orderRecords"].validators)


class FieldError(Strict):
    field = fields.String(required=True, metadata={"description": "Dotted path of the field; empty for the whole item.",
                                                   "example": "lineItems.0.quantity"})
    message = fields.String(required=True, metadata={"example": "Must be greater than or equal to 1."})


class OrderRecordBulkOperationResult(Strict):
    status = fields.String(required=True, validate=validate.OneOf(RESULT_STATUSES), metadata={
        "description": "CREATED: stored now. ALREADY_EXISTS: a record with this tenantOrderRecordId was stored "
                       "before; nothing new is written. FAILED: not stored, see errors."})
    orderRecord = fields.Nested(OrderRecord, metadata={"description": "For CREATED and ALREADY_EXISTS."})
    errors = fields.List(fields.Nested(FieldError), validate=validate.Length(max=MAX_ERRORS), metadata={
        "description": f"For FAILED. At most {MAX_ERRORS}: beyond that the last one says how many were omitted."})


class OrderRecordBulkOperationsResponse(Strict):
    results = fields.List(fields.Nested(OrderRecordBulkOperationResult), required=True, metadata={
        "description": "One result per submitted record, in the same order."})


class OrderRecords(Strict):
    total = StrictInteger(required=True, validate=validate.Range(0, None), metadata={
        "description": "Total number of records matching the filters (not just this page).", "example": 42})
    orderRecords = fields.List(fields.Nested(OrderRecord), required=True)


def _described(schema: type[Strict], name: str, description: str) -> fields.Field:
    """The runtime field itself (same validators and default), with a description for the document."""
    documented = copy.copy(schema._declared_fields[name])
    documented.metadata = {**documented.metadata, "description": description}
    return documented


class OrderRecordsQuery(schemas.OrderRecordsQuery):
    size = _described(schemas.OrderRecordsQuery, "size", "Page size.")
    startAfterId = _described(schemas.OrderRecordsQuery, "startAfterId",
                              "The id of the last record of the previous page; this page starts after it.")
    facilityRef = _described(schemas.OrderRecordsQuery, "facilityRef", "Only records of this facility.")
    tenantOrderRecordId = _described(schemas.OrderRecordsQuery, "tenantOrderRecordId",
                                     "Only the record with this tenant-specific id.")


class OrderRecordPath(Strict):
    orderRecordId = fields.String(required=True, validate=schemas.FullMatch(schemas.OBJECT_ID), metadata={
        "description": "The record's id (24 hex characters); any other value is simply not found (404)."})


class Problem(Strict):
    """An RFC 9457 problem; `errors` lists each invalid field of a validation failure."""

    type = fields.String(required=True, metadata={"description": "A URI reference naming the kind of problem.",
                                                  "example": "urn:order-records:problem:validation"})
    title = fields.String(required=True, metadata={"example": "Bad Request"})
    status = StrictInteger(required=True, validate=validate.Range(400, 599), metadata={"example": 400})
    detail = fields.String(required=True, metadata={"example": "The request is not valid."})
    requestId = fields.String(required=True, metadata={
        "description": "Also sent as the X-Request-ID header; quote it when reporting a problem."})
    errors = fields.List(fields.Nested(FieldError), validate=validate.Length(max=MAX_ERRORS), metadata={
        "description": f"At most {MAX_ERRORS}: beyond that the last one says how many were omitted."})


class Status(Strict):
    status = fields.String(required=True, metadata={"example": "ok"})
