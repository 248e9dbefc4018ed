"""The configuration documents as marshmallow schemas: what a PUT accepts, and what the OpenAPI document shows."""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import RAISE, Schema, fields, pre_load, validate

from app.domain.currencies import INT64_MAX
from app.schemas.types import StrictBoolean, StrictInteger

# What a GET answers besides the fields a PUT sets: accepted and ignored, so a GET body can be edited and sent back.
READ_ONLY = ("id", "created", "lastModified")


class Days(fields.Number):
    """A whole number of days sent as a JSON number: 30 or 30.0, not 30.5, "30" or true; loaded as an int."""

    num_type = int
    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "Not a valid number.", "whole": "Must be a whole number of days."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("whole")
        return int(value)


def _read_only(description: str) -> dict[str, Any]:
    return {"dump_only": True, "metadata": {"description": description}}


class VersionedInput(Schema):
    class Meta:
        unknown = RAISE

    version = StrictInteger(required=True, validate=validate.Range(0, INT64_MAX), metadata={
        "description": "The stored version this change replaces (0 before the first write); answered + 1."})

    @pre_load
    def drop_read_only(self, data: Any, **_: Any) -> Any:
        return {k: v for k, v in data.items() if k not in READ_ONLY} if isinstance(data, dict) else data


class Versioned(VersionedInput):
    """The read-only members of a stored configuration (documentation: the API serializes the stored document)."""

    id = fields.String(**_read_only("The configuration's name: gdpr or orderrecords."))
    created = fields.DateTime(**_read_only("When it was first written (absent before)."))
    lastModified = fields.DateTime(**_read_only("When it was last written (absent before)."))


class GdprConfiguration(Versioned):
    """The GDPR configuration: days to anonymization, days from it to deletion, whether the actor is removed."""

    retentionTime = Days(required=True, validate=validate.Range(min=1), metadata={
        "description": "Days from orderRecordDate to gdprCleanupDate (anonymization).", "multipleOf": 1})
    deletionTimeAfterRetention = Days(validate=validate.Range(min=1), metadata={
        "description": "Days from gdprCleanupDate to deletionDate; omitted: the server's default.", "multipleOf": 1})
    actorAnonymization = StrictBoolean(metadata={
        "description": "Anonymization also removes origin.cashierId; omitted: the server's default "
        "(true unless configured otherwise)."})


class OrderRecordsConfigurationInput(VersionedInput):
    isOrderRecordsEnabled = StrictBoolean(required=True, metadata={
        "description": "While false, bulk create answers 403; reads and search keep working."})


class OrderRecordsConfiguration(Versioned, OrderRecordsConfigurationInput):
    """The order-records configuration as stored."""

    id = fields.String(required=True, **_read_only("The configuration's name: orderrecords."))
