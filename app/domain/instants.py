"""One textual form for the service's own timestamps: UTC, millisecond precision (what MongoDB keeps)."""

from __future__ import annotations

from datetime import UTC, datetime


def format_instant(moment: datetime) -> str:
    """2024-05-01T10:00:00.123Z; naive datetimes (as drivers return them) are taken as UTC."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    # isoformat truncates to milliseconds and always writes 4 year digits: 23 characters, then "+00:00"
    return moment.isoformat(timespec="milliseconds")[:23] + "Z"


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def utc_now() -> datetime:
    return datetime.now(UTC)
