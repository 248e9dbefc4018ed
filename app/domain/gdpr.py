"""GDPR lifecycle rules: cleanup and deletion dates, and what anonymization removes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from app.domain.instants import format_instant, parse_instant

KEPT_ADDRESS_FIELDS = ("country",)
REMOVED_CONSUMER_FIELDS = ("consumerId", "email")
ACTOR_FIELD = "cashierId"
LAST_INSTANT = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)  # the last one RFC 3339 can write


@dataclass(frozen=True)
class GdprPolicy:
    """The GDPR configuration in force: days to anonymization, days from it to deletion, and the actor rule."""

    retention_time: int
    deletion_time_after_retention: int
    actor_anonymization: bool


def days_left(now: datetime) -> int:
    """Whole days from `now` to the last writable instant: the most retention + deletion a record of today fits."""
    return (LAST_INSTANT - now).days


def lifecycle_dates(order_record_date: datetime, retention_time: int,
                    deletion_time_after_retention: int) -> tuple[datetime, datetime]:
    """(gdprCleanupDate, deletionDate) in UTC: the first counted from the record's date, the second from the first."""
    cleanup = order_record_date.astimezone(UTC) + _days(retention_time)
    return cleanup, cleanup + _days(deletion_time_after_retention)


@lru_cache(maxsize=64)
def _days(count: int) -> timedelta:
    # one policy's few day counts, for every record: a timedelta from keywords costs more than the sum
    return timedelta(days=count)


def anonymized_consumer(consumer: dict[str, Any]) -> dict[str, Any]:
    """The consumer without personal data: only each address's country survives."""
    kept = {k: v for k, v in consumer.items() if k not in REMOVED_CONSUMER_FIELDS and k != "addresses"}
    if "addresses" in consumer:
        kept["addresses"] = [{k: a[k] for k in KEPT_ADDRESS_FIELDS if k in a} for a in consumer["addresses"]]
    return kept


def anonymized_input(record: dict[str, Any], actor: bool = True) -> dict[str, Any]:
    """The record's fields as anonymization leaves them (the same object when it holds nothing to remove)."""
    consumer, origin = record.get("consumer"), record.get("origin")
    removes_actor = actor and origin is not None and ACTOR_FIELD in origin
    if not consumer and not removes_actor:
        return record
    result = dict(record)
    if consumer:
        result["consumer"] = anonymized_consumer(consumer)
    if removes_actor:
        result["origin"] = {k: v for k, v in origin.items() if k != ACTOR_FIELD}
    return result


def is_due(record: dict[str, Any], now: datetime) -> bool:
    """Past its gdprCleanupDate and not anonymized yet."""
    return not record["anonymized"] and parse_instant(record["gdprCleanupDate"]) <= now


def cleaned_up(record: dict[str, Any], actor_anonymization: bool) -> dict[str, Any]:
    """The record as anonymization leaves it at its gdprCleanupDate: what the sweep stores, and what every read
    returns in its place once that date has passed, so personal data is never served after it."""
    return anonymize(record, parse_instant(record["gdprCleanupDate"]), actor_anonymization)


def anonymize(record: dict[str, Any], now: datetime, actor_anonymization: bool) -> dict[str, Any]:
    """A copy of the record with personal data removed, marked anonymized, version bumped."""
    result = anonymized_input(record, actor_anonymization)
    if result is record:
        result = dict(record)
    result["anonymized"] = True
    result["version"] = record["version"] + 1
    result["lastModified"] = format_instant(now)
    return result
