"""Unit tests of app/domain/currencies.py: the official currency codes and their minor units."""

from __future__ import annotations

import pytest
from iso4217 import Currency

from app.domain.currencies import INT64_MAX, INT64_MIN, OFFICIAL_CURRENCIES, is_official, minor_unit


def test_the_official_enum_has_179_distinct_codes_in_the_documents_alphabetical_order() -> None:
    assert len(OFFICIAL_CURRENCIES) == 179
    assert list(OFFICIAL_CURRENCIES) == sorted(set(OFFICIAL_CURRENCIES))
    assert (OFFICIAL_CURRENCIES[0], OFFICIAL_CURRENCIES[-1]) == ("AED", "ZWL")
    assert all(len(code) == 3 and code.isascii() and code.isupper() for code in OFFICIAL_CURRENCIES)


def test_withdrawn_codes_are_still_official_and_later_codes_are_not() -> None:
    assert all(is_official(code) for code in ("ANG", "BGN", "CUC", "ZWL", "XXX", "EUR"))
    # XCG and ZWG replaced ANG and ZWL in ISO 4217 but are not in the official enum; codes are exact
    assert not any(is_official(code) for code in ("XCG", "ZWG", "HRK", "eur", "EUR ", ""))


def test_every_official_code_has_an_integer_minor_unit() -> None:
    units = {code: minor_unit(code) for code in OFFICIAL_CURRENCIES}
    assert all(type(unit) is int and 0 <= unit <= 4 for unit in units.values())


@pytest.mark.parametrize(("code", "places"), [
    ("EUR", 2), ("USD", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3), ("BHD", 3), ("CLF", 4), ("UYW", 4),
    # withdrawn from ISO 4217: their last minor unit
    ("BGN", 2), ("ANG", 2), ("CUC", 2), ("ZWL", 2),
    # no minor unit in ISO 4217 ("N.A."): whole units
    ("XAU", 0), ("XAG", 0), ("XDR", 0), ("XXX", 0), ("XTS", 0),
])
def test_minor_unit_spot_checks(code: str, places: int) -> None:
    assert minor_unit(code) == places


def test_the_library_is_the_source_where_it_lists_a_code() -> None:
    listed = {c.code: c.exponent or 0 for c in Currency}
    assert all(minor_unit(code) == listed[code] for code in OFFICIAL_CURRENCIES if code in listed)


def test_unknown_codes_have_no_minor_unit() -> None:
    with pytest.raises(KeyError):
        minor_unit("ABC")


def test_int64_bounds() -> None:
    assert (INT64_MIN, INT64_MAX) == (-9223372036854775808, 9223372036854775807)
