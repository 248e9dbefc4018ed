"""Relative dates of DateFilter.after/before: a signed ISO 8601 duration added to "now" in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import isodate

# Whole years, months, weeks, days, hours, minutes; seconds may have a fraction. isodate alone would take "P1.5M".
DURATION = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?")
PAST_SIGNS = ("-", "\u2212", "\u2013")


class BadDuration(ValueError):
    """Not a duration of the form [-]PnYnMnWnDTnHnMnS."""


def resolve(text: str, now: datetime) -> datetime:
    """now + the duration: calendar arithmetic in UTC, a month step clamped to the month's last day."""
    past = text[:1] in PAST_SIGNS
    body = text[1:] if past or text.startswith("+") else text
    if not DURATION.fullmatch(body):
        raise BadDuration(text)
    try:
        duration = isodate.parse_duration(body)
        return now.astimezone(UTC) - duration if past else now.astimezone(UTC) + duration
    except (isodate.ISO8601Error, OverflowError, ValueError):
        raise BadDuration(text) from None
