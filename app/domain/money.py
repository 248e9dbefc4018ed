"""ISO 4217 currencies and their standard minor units, from the maintained `iso4217` package."""

from __future__ import annotations

from functools import cache

from iso4217 import Currency

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@cache
def _minor_units() -> dict[str, int | None]:
    return {c.code: c.exponent for c in Currency}


def is_currency(code: str) -> bool:
    return code in _minor_units()


def minor_unit(code: str) -> int:
    """The currency's standard number of decimal places; 0 for codes without one (gold, SDR, ...)."""
    return _minor_units().get(code) or 0


def rescale(value: int, from_places: int, to_places: int) -> int:
    """The same amount expressed with more decimal places (to_places >= from_places)."""
    return value * 10 ** (to_places - from_places)
