"""GDPR lifecycle rules: cleanup and deletion dates, and what anonymization removes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.instants import format_instant, parse_instant

KEPT_ADDRESS_FIELDS = ("addressType", "country")
REMOVED_CONSUMER_FIELDS = ("consumerId", "email")
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
    cleanup = order_record_date.astimezone(UTC) + timedelta(days=retention_time)
    return cleanup, cleanup + timedelta(days=deletion_time_after_retention)


def anonymized_consumer(consumer: dict[str, Any]) -> dict[str, Any]:
    """The consumer without personal data: only each address's country and addressType survive."""
    kept = {k: v for k, v in consumer.items() if k not in REMOVED_CONSUMER_FIELDS and k != "addresses"}
    if "addresses" in consumer:
        kept["addresses"] = [{k: a[k] for k in KEPT_ADDRESS_FIELDS if k in a} for a in consumer["addresses"]]
    return kept


def is_due(record: dict[str, Any], now: datetime) -> bool:
    """Past its gdprCleanupDate and not anonymized yet."""
    return not record["anonymized"] and parse_instant(record["gdprCleanupDate"]) <= now


def without_personal_data(record: dict[str, Any], actor_anonymization: bool) -> dict[str, Any]:
    """A copy without the consumer's personal data and, with `actor_anonymization`, without origin.cashierId."""
    result = dict(record)
    if "consumer" in result:
        result["consumer"] = anonymized_consumer(result["consumer"])
    if actor_anonymization and isinstance(result.get("origin"), dict) and "cashierId" in result["origin"]:
        result["origin"] = {k: v for k, v in result["origin"].items() if k != "cashierId"}
    return result


def cleaned_up(record: dict[str, Any], actor_anonymization: bool) -> dict[str, Any]:
    """The record as anonymization leaves it at its gdprCleanupDate: what the sweep stores, and what every read
    returns in its place once that date has passed, so personal data is never served after it."""
    return anonymize(record, parse_instant(record["gdprCleanupDate"]), actor_anonymization)


def anonymize(record: dict[str, Any], now: datetime, actor_anonymization: bool) -> dict[str, Any]:
    """A copy of the record with personal data removed, marked anonymized, version bumped."""
    result = without_personal_data(record, actor_anonymization)
    result["anonymized"] = True
    result["version"] = record["version"] + 1
    result["lastModified"] = format_instant(now)
    return result
