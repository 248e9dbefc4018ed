"""The service's own timestamps: UTC, milliseconds truncated, always 24 characters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.domain.instants import format_instant


@pytest.mark.parametrize(("moment", "text"), [
    (datetime(2024, 5, 1, 10, 0, 0, 123999, tzinfo=UTC), "2024-05-01T10:00:00.123Z"),  # truncated, not rounded
    (datetime(2024, 5, 1, 10, 0, 0), "2024-05-01T10:00:00.000Z"),  # naive: taken as UTC
    (datetime(2024, 5, 1, 0, 30, tzinfo=timezone(timedelta(hours=2))), "2024-04-30T22:30:00.000Z"),
    (datetime(2024, 5, 1, 0, 30, tzinfo=timezone(timedelta(hours=-5, minutes=-30))), "2024-05-01T06:00:00.000Z"),
    (datetime(999, 1, 2, 3, 4, 5, 6000, tzinfo=UTC), "0999-01-02T03:04:05.006Z"),
    (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999Z"),
])
def test_format_instant(moment: datetime, text: str) -> None:
    assert format_instant(moment) == text
