"""Turns one client record into a stored record: validation, the cross-field rules and the system fields."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError

from app.domain.gdpr import GdprPolicy, lifecycle_dates, without_personal_data
from app.domain.instants import format_instant
from app.domain.money import minor_unit
from app.domain.pricing import Path, dotted, monetary_values, out_of_range, price_breakdown
from app.fastload import FastLoader
from app.schemas import OrderRecordForCreation
from app.settings import GdprSettings

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

    def __init__(self, gdpr: GdprSettings, schema: Schema | None = None) -> None:
        self.default_policy = gdpr.policy  # for tools and tests; the API passes the configuration in force
        self.schema = schema or OrderRecordForCreation()
        self.loader = FastLoader(self.schema)

    def build(self, raw: Any, record_id: str, now: datetime, policy: GdprPolicy | None = None) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise RecordRejected([{"field": "", "message": "Each order record must be a JSON object."}])
        try:
            data = self.loader.load(raw)
        except ValidationError as exc:
            raise RecordRejected(schema_errors(exc)) from None
        return self.complete(data, record_id, now, policy)

    def complete(self, data: dict[str, Any], record_id: str, now: datetime,
                 policy: GdprPolicy | None = None) -> dict[str, Any]:
        """Cross-field rules and system fields for an already schema-valid record, under `policy`."""
        policy = policy or self.default_policy
        kept_days = policy.retention_time + policy.deletion_time_after_retention
        money = monetary_values(data)
        for _, value in money:
            if "decimalPlaces" not in value:
                value["decimalPlaces"] = minor_unit(value["currency"])
        errors = _currency_errors(money)
        order_date = datetime.fromisoformat(data["orderRecordDate"])
        try:
            cleanup, deletion = lifecycle_dates(order_date, policy.retention_time,
                                                policy.deletion_time_after_retention)
        except OverflowError:  # the year 1 in UTC underflows, the years near 9999 overflow
            errors.append({"field": "orderRecordDate", "message": (
                f"Retention period is over: more than {kept_days} days have passed since "
                "orderRecordDate; it is not stored." if order_date.year < now.year
                else "Too far in the future to compute its retention.")})
        else:
            if deletion <= now:
                errors.append({"field": "orderRecordDate", "message":
                               f"Retention period is over: its deletionDate {format_instant(deletion)} has passed "
                               f"({kept_days} days after orderRecordDate); it is not stored."})
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
        return without_personal_data(record, policy.actor_anonymization) if anonymized else record


def _currency_errors(values: list[tuple[Path, dict[str, Any]]]) -> list[FieldError]:
    if not values:
        return []
    first_path, first = values[0]
    return [{"field": f"{dotted(path)}.currency", "message": f"Currency {m['currency']} differs from "
             f"{first['currency']} ({dotted(first_path)}); all monetary values of a record share one currency."}
            for path, m in values[1:] if m["currency"] != first["currency"]]
