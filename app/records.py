"""Turns one client record into a stored record: validation, the cross-field rules and the system fields."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError

from app.domain.gdpr import anonymized_consumer, lifecycle_dates
from app.domain.instants import format_instant
from app.domain.limits import record_limit_errors
from app.domain.money import minor_unit
from app.domain.pricing import Path, dotted, monetary_values, out_of_range, price_breakdown
from app.fastload import FastLoader
from app.schemas import OrderRecordForCreation
from app.settings import GdprSettings, LimitsSettings, make_settings

SYSTEM_FIELDS = ("id", "version", "created", "lastModified", "anonymized", "gdprCleanupDate", "deletionDate")
SYSTEM_PATHS = frozenset((*SYSTEM_FIELDS, "pricing.priceBreakdown"))
SYSTEM_FIELD_MESSAGE = "Set by the service; not accepted on input."

FieldError = dict[str, str]


class RecordRejected(Exception):
    """A record that cannot be stored, with every reason as {field, message}."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors)
        self.errors = errors


def flatten_errors(messages: Any, prefix: str = "") -> list[FieldError]:
    """marshmallow's nested error dict as a flat list of dotted paths (lineItems.0.quantity)."""
    if isinstance(messages, Mapping):
        out: list[FieldError] = []
        for key, sub in messages.items():
            path = prefix if key == "_schema" else f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_errors(sub, path))
        return out
    if isinstance(messages, list | tuple):
        return [e for m in messages for e in flatten_errors(m, prefix)]
    message = str(messages)
    if message == "Unknown field." and prefix in SYSTEM_PATHS:
        message = SYSTEM_FIELD_MESSAGE
    return [{"field": prefix, "message": message}]


def schema_errors(exc: ValidationError) -> list[FieldError]:
    return flatten_errors(exc.messages)


class RecordBuilder:
    """Builds stored records; one instance per app, so the schema is constructed once."""

    def __init__(self, gdpr: GdprSettings, schema: Schema | None = None, limits: LimitsSettings | None = None) -> None:
        self.gdpr = gdpr
        self.limits = limits or make_settings().limits
        self.schema = schema or OrderRecordForCreation()
        self.loader = FastLoader(self.schema)

    def build(self, raw: Any, record_id: str, now: datetime) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise RecordRejected([{"field": "", "message": "Each order record must be a JSON object."}])
        # The size caps (app.domain.limits) come first: nothing else need walk an oversized record.
        if too_large := record_limit_errors(raw, self.limits):
            raise RecordRejected([{"field": path, "message": message} for path, message in too_large])
        try:
            data = self.loader.load(raw)
        except ValidationError as exc:
            raise RecordRejected(schema_errors(exc)) from None
        return self.complete(data, record_id, now)

    def complete(self, data: dict[str, Any], record_id: str, now: datetime) -> dict[str, Any]:
        """Cross-field rules and system fields for an already schema-valid record."""
        money = monetary_values(data)
        for _, value in money:
            if "decimalPlaces" not in value:
                value["decimalPlaces"] = minor_unit(value["currency"])
        errors = _currency_errors(money)
        order_date = datetime.fromisoformat(data["orderRecordDate"])
        try:
            cleanup, deletion = lifecycle_dates(order_date, self.gdpr.anonymize_after_days,
                                                self.gdpr.delete_after_days)
        except OverflowError:  # the year 1 in UTC underflows, the years near 9999 overflow
            errors.append({"field": "orderRecordDate", "message": (
                f"Retention period is over: more than {self.gdpr.delete_after_days} days have passed since "
                "orderRecordDate; it is not stored." if order_date.year < now.year
                else "Too far in the future to compute its retention.")})
        else:
            if deletion <= now:
                errors.append({"field": "orderRecordDate", "message":
                               f"Retention period is over: its deletionDate {format_instant(deletion)} has passed "
                               f"({self.gdpr.delete_after_days} days after orderRecordDate); it is not stored."})
        breakdown = None if errors else price_breakdown(data)
        if breakdown:
            errors.extend({"field": f"pricing.priceBreakdown.{name}", "message": "Total does not fit in 64 bits."}
                          for name in out_of_range(breakdown))
        if errors:
            raise RecordRejected(errors)
        stamp = format_instant(now)
        anonymized = cleanup <= now
        record: dict[str, Any] = {
            "id": record_id, "version": 1, "created": stamp, "lastModified": stamp, "anonymized": anonymized,
            "gdprCleanupDate": format_instant(cleanup), "deletionDate": format_instant(deletion), **data,
        }
        if breakdown:
            record["pricing"] = {**data.get("pricing", {}), "priceBreakdown": breakdown}
        if anonymized and "consumer" in record:
            record["consumer"] = anonymized_consumer(record["consumer"])
        return record


def _currency_errors(values: list[tuple[Path, dict[str, Any]]]) -> list[FieldError]:
    if not values:
        return []
    first_path, first = values[0]
    return [{"field": f"{dotted(path)}.currency", "message": f"Currency {m['currency']} differs from "
             f"{first['currency']} ({dotted(first_path)}); all monetary values of a record share one currency."}
            for path, m in values[1:] if m["currency"] != first["currency"]]
