"""Turns one client record into a stored record: validation, the cross-field rules and the system fields."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError

from app.domain.currencies import minor_unit
from app.domain.gdpr import GdprPolicy, anonymized_input, lifecycle_dates
from app.domain.instants import format_instant
from app.domain.limits import record_limit_errors
from app.domain.objectids import IDS
from app.domain.totals import TotalsError, price_breakdown
from app.schemas.fastload import FastLoader
from app.schemas.records import OrderRecordForCreation
from app.settings import GdprSettings, LimitsSettings, make_settings

SYSTEM_FIELDS = ("id", "version", "created", "lastModified", "anonymized", "gdprCleanupDate", "deletionDate")
SYSTEM_PATHS = frozenset((*SYSTEM_FIELDS, "pricing.total"))
SYSTEM_FIELD_MESSAGE = "Set by the service, not accepted on input."

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
    if message == "Unknown field." and (prefix in SYSTEM_PATHS or _is_line_item_id(prefix)):
        message = SYSTEM_FIELD_MESSAGE
    return [{"field": prefix, "message": message}]


def _is_line_item_id(path: str) -> bool:
    parts = path.split(".")
    return len(parts) == 3 and parts[0] == "lineItems" and parts[2] == "id"


def schema_errors(exc: ValidationError) -> list[FieldError]:
    return flatten_errors(exc.messages)


# Where a client's MonetaryValues are (article attributes carry prices as text and are not among them).
_MONEY_ENTRIES = (("payments", ("value", "taxValue")),)
_PRICING_MONEY_ENTRIES = (("discounts", ("value",)), ("fees", ("value",)), ("taxes", ("value", "taxableValue")))


def with_decimal_places(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with decimalPlaces in every MonetaryValue (the currency's minor unit where not sent). The input is
    not changed: only the dicts and lists on the way to a filled value are copied, `data` itself when none is."""
    changes = _filled_groups(data, _MONEY_ENTRIES)
    pricing = data.get("pricing")
    if pricing and (priced := _filled_groups(pricing, _PRICING_MONEY_ENTRIES)):
        changes["pricing"] = {**pricing, **priced}
    return {**data, **changes} if changes else data


def _filled_groups(parent: dict[str, Any], groups: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for group, keys in groups:
        entries = parent.get(group)
        if not entries:
            continue
        copied: list[dict[str, Any]] | None = None
        for i, entry in enumerate(entries):
            filled: dict[str, Any] | None = None
            for key in keys:
                value = entry.get(key)
                if value is not None and "decimalPlaces" not in value:
                    filled = filled or dict(entry)
                    filled[key] = {**value, "decimalPlaces": minor_unit(value["currency"])}
            if filled is not None:
                copied = copied or list(entries)
                copied[i] = filled
        if copied is not None:
            changes[group] = copied
    return changes


def _discount_errors(data: dict[str, Any]) -> list[FieldError]:
    errors = []
    for i, discount in enumerate((data.get("pricing") or {}).get("discounts", ())):
        kind = discount.get("type")
        if kind == "PERCENTAGE" and "percentage" not in discount:
            errors.append({"field": f"pricing.discounts.{i}.percentage",
                           "message": "Required when type is PERCENTAGE."})
        if kind == "ABSOLUTE" and "value" not in discount:
            errors.append({"field": f"pricing.discounts.{i}.value", "message": "Required when type is ABSOLUTE."})
    return errors


class RecordBuilder:
    """Builds stored records; one instance per app, so the schema is constructed once."""

    def __init__(self, gdpr: GdprSettings, schema: Schema | None = None,
                 limits: LimitsSettings | None = None) -> None:
        self.default_policy = gdpr.policy  # for tools and tests; the API passes the configuration in force
        self.limits = limits or make_settings().limits
        self.schema = schema or OrderRecordForCreation()
        self.loader = FastLoader(self.schema)
        self._stamp: tuple[datetime | None, str] = (None, "")  # `now` of the last record and its text

    def build(self, raw: Any, record_id: str, now: datetime, policy: GdprPolicy | None = None) -> dict[str, Any]:
        """The record to store; RecordRejected with every problem otherwise. `raw` is not changed; the record may
        share the parts of it that it keeps as they are."""
        if not isinstance(raw, dict):
            raise RecordRejected([{"field": "", "message": "Each operation must be a JSON object (an order record)."}])
        # The size caps (app.domain.limits) come first: nothing else need walk an oversized record.
        if too_large := record_limit_errors(raw, self.limits):
            raise RecordRejected([{"field": path, "message": message} for path, message in too_large])
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
        data = with_decimal_places(data)
        errors = _discount_errors(data)
        order_date = datetime.fromisoformat(data["orderRecordDate"])
        try:
            cleanup, deletion = lifecycle_dates(order_date, policy.retention_time,
                                                policy.deletion_time_after_retention)
        except OverflowError:  # the year 1 in UTC underflows, the years near 9999 overflow
            errors.append({"field": "orderRecordDate", "message": (
                f"Retention period is over: more than {kept_days} days have passed since "
                "orderRecordDate, so it is not stored." if order_date.year < now.year
                else "Too far in the future to compute its retention.")})
        else:
            if deletion <= now:
                errors.append({"field": "orderRecordDate", "message":
                               f"Retention period is over: its deletionDate {format_instant(deletion)} has passed "
                               f"({kept_days} days after orderRecordDate), so it is not stored."})
        try:
            breakdown = price_breakdown(data)
        except TotalsError as exc:
            errors.extend({"field": path, "message": message} for path, message in exc.errors)
        if errors:
            raise RecordRejected(errors)
        anonymized = cleanup <= now
        stamped, stamp = self._stamp  # one read: another thread may build at the same time
        if stamped is not now:  # the records of one request share `now`: formatted once
            stamp = format_instant(now)
            self._stamp = (now, stamp)
        record: dict[str, Any] = {
            "id": record_id, "version": 1, "created": stamp, "lastModified": stamp, "anonymized": anonymized,
            "gdprCleanupDate": format_instant(cleanup), "deletionDate": format_instant(deletion), **data,
        }
        items = data["lineItems"]
        record["lineItems"] = [{"id": i, **item} for i, item in zip(IDS.take(len(items)), items, strict=True)]
        record["pricing"] = {**data.get("pricing", {}), "total": {"priceBreakdown": breakdown}}
        if anonymized:
            record = anonymized_input(record, policy.actor_anonymization)
        return record


def client_input(record: dict[str, Any]) -> dict[str, Any]:
    """What the client sent, as validated, of a record in API shape (built, or as a store serves it): the inverse
    of complete() but for the defaults and decimalPlaces it filled in, and the fields anonymization removed. A
    `pricing` of nothing but the totals was absent (or empty) on input."""
    view = {k: v for k, v in record.items() if k not in SYSTEM_FIELDS}
    view["lineItems"] = [{k: v for k, v in item.items() if k != "id"} for item in record["lineItems"]]
    if (pricing := record.get("pricing")) is not None:
        if len(pricing) == 1 and "total" in pricing:
            del view["pricing"]
        else:
            view["pricing"] = {k: v for k, v in pricing.items() if k != "total"}
    return view

