"""The configuration documents: their names, their defaults from the settings, and the rules across their fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.gdpr import GdprPolicy, days_left
from app.settings import Settings

GDPR = "gdpr"
ORDER_RECORDS = "orderrecords"
NAMES = (GDPR, ORDER_RECORDS)
Document = dict[str, Any]


def defaults(settings: Settings) -> dict[str, Document]:
    """Each configuration's fields until one is stored: the server settings (config/default.toml)."""
    gdpr = settings.gdpr
    return {
        GDPR: {"retentionTime": gdpr.retention_time, "deletionTimeAfterRetention": gdpr.deletion_time_after_retention,
               "actorAnonymization": gdpr.actor_anonymization},
        ORDER_RECORDS: {"isOrderRecordsEnabled": settings.orderrecords.enabled},
    }


def unwritten(name: str, fields: Document) -> Document:
    """What GET answers before the first PUT: the defaults as version 0 (no created or lastModified yet)."""
    return {"id": name, "version": 0, **fields}


def policy_of(gdpr: Document) -> GdprPolicy:
    return GdprPolicy(gdpr["retentionTime"], gdpr["deletionTimeAfterRetention"], gdpr["actorAnonymization"])


def date_range_errors(gdpr: Document, now: datetime) -> list[dict[str, str]]:
    """Retention and deletion together must leave a record dated today a deletionDate the API can write."""
    total, limit = gdpr["retentionTime"] + gdpr["deletionTimeAfterRetention"], days_left(now)
    if total <= limit:
        return []
    field = "retentionTime" if gdpr["retentionTime"] > limit else "deletionTimeAfterRetention"
    return [{"field": field, "message": f"retentionTime + deletionTimeAfterRetention is {total} days, beyond the "
             f"date range: a record dated today would be deleted after the year 9999. At most {limit} days in all."}]
