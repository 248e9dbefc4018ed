"""One textual form for the service's own timestamps: UTC, millisecond precision (what MongoDB keeps)."""

from __future__ import annotations

from datetime import UTC, datetime


def truncate_ms(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def format_instant(moment: datetime) -> str:
    """2024-05-01T10:00:00.123Z; naive datetimes (as drivers return them) are taken as UTC."""
    return truncate_ms(moment).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def utc_now() -> datetime:
    return datetime.now(UTC)
