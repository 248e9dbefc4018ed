"""Unit tests of app/domain/totals.py: TotalsError for pricing attributes that do not parse, totals beyond 64 bits."""

from __future__ import annotations

import pytest

from app.domain.currencies import INT64_MAX, INT64_MIN
from app.domain.totals import TotalsError, price_breakdown
from tests.test_totals import attr, line, mv, record


def errors_of(body: dict) -> list[tuple[str, str]]:
    with pytest.raises(TotalsError) as caught:
        price_breakdown(body)
    assert str(caught.value) == "; ".join(f"{path}: {rule}" for path, rule in caught.value.errors)
    return caught.value.errors


@pytest.mark.parametrize(("category", "key", "value", "word"), [
    ("basePrice", "value", "29.99", "integer"),
    ("basePrice", "value", "2,999", "integer"),
    ("basePrice", "value", "+2999", "integer"),
    ("basePrice", "value", " 2999", "integer"),
    ("basePrice", "value", "1_000", "integer"),
    ("basePrice", "value", "٣", "integer"),  # a non-ASCII digit
    ("basePrice", "value", "9223372036854775808", "64 bits"),
    ("basePrice", "value", "-9223372036854775809", "64 bits"),
    ("basePrice", "value", "1" * 5000, "64 bits"),
    ("basePrice", "currency", "eur", "currency"),
    ("basePrice", "currency", "XCG", "currency"),
    ("basePrice", "decimalPlaces", "9", "0 to 8"),
    ("basePrice", "decimalPlaces", "-1", "0 to 8"),
    ("basePrice", "decimalPlaces", "2.0", "0 to 8"),
    ("discount", "value", "ten", "integer"),
    ("discount", "percentage", "101", "0 to 100"),
    ("discount", "percentage", "100.01", "0 to 100"),
    ("discount", "percentage", "-5", "0 to 100"),
    ("discount", "percentage", "10%", "0 to 100"),
    ("discount", "percentage", "NaN", "0 to 100"),
    ("tax", "value", "5.70", "integer"),
    ("surcharge", "value", "", "integer"),
])
def test_a_pricing_attribute_that_does_not_parse_names_its_path_and_rule(category: str, key: str, value: str,
                                                                          word: str) -> None:
    item = line(None, None, None, 1, attr("basePrice", "value", "1"), attr(category, key, value))
    [(path, rule)] = errors_of(record(line("5"), item))
    assert path == "lineItems.1.article.attributes.2.value"
    assert word in rule


@pytest.mark.parametrize(("key", "value"), [("value", "0"), ("value", "-9223372036854775808"),
                                            ("value", "9223372036854775807"), ("decimalPlaces", "0"),
                                            ("decimalPlaces", "8"), ("currency", "BGN")])
def test_the_bounds_of_each_rule_parse(key: str, value: str) -> None:
    defaults = {"value": "1", "currency": "EUR", "decimalPlaces": "2"} | {key: value}
    assert price_breakdown(record(line(defaults["value"], defaults["currency"], defaults["decimalPlaces"])))


def test_every_problem_of_every_line_is_listed_and_free_lines_are_checked_too() -> None:
    free = line(None, None, None, 1, attr("discount", "percentage", "x"))
    priced = line("1,00", "EUR", "2", 1, attr("surcharge", "value", "1.5"))
    assert [path for path, _ in errors_of(record(free, priced))] == [
        "lineItems.0.article.attributes.1.value", "lineItems.1.article.attributes.1.value",
        "lineItems.1.article.attributes.4.value"]


@pytest.mark.parametrize(("key", "other"), [("value", "1001"), ("currency", "USD"), ("decimalPlaces", "3")])
def test_a_base_price_attribute_given_twice_with_different_values_is_an_error(key: str, other: str) -> None:
    [(path, rule)] = errors_of(record(line("1000", "EUR", "2", 1, attr("basePrice", key, other))))
    assert path == "lineItems.0.article.attributes.4.value"
    assert "Conflicts" in rule and key in rule


def test_a_subtotal_beyond_64_bits_is_an_error_naming_the_totals() -> None:
    errors = errors_of(record(line(str(INT64_MAX), "EUR", "2", 2)))
    assert dict(errors) == {"pricing.total.priceBreakdown.subTotal.value": "Does not fit in a 64-bit integer.",
                            "pricing.total.priceBreakdown.total.value": "Does not fit in a 64-bit integer."}


def test_negative_overflow_and_overflow_from_rescaling_are_errors() -> None:
    paths = {path for path, _ in errors_of(record(line(str(INT64_MIN), "EUR", "2", 1),
                                                  line("-1", "EUR", "2", 1)))}
    assert paths == {"pricing.total.priceBreakdown.subTotal.value", "pricing.total.priceBreakdown.total.value"}
    # 10^18 at 2 places is fine alone, but a fee with 4 places makes it 10^20 at 4
    paths = {path for path, _ in errors_of(record(line(str(10**18)), fees=[{"value": mv(1, places=4)}]))}
    assert "pricing.total.priceBreakdown.subTotal.value" in paths


def test_discount_totals_beyond_64_bits_name_their_breakdown_path() -> None:
    item = line(str(INT64_MAX), "EUR", "2", 1, attr("discount", "value", str(INT64_MAX)))
    # each part fits, their sum does not
    paths = {path for path, _ in errors_of(record(item, discounts=[{"value": mv(INT64_MAX)}]))}
    assert paths == {"pricing.total.priceBreakdown.totalDiscounts.value.value"}
    paths = {path for path, _ in errors_of(record(line(str(INT64_MAX)), discounts=[{"value": mv(INT64_MAX)}] * 2))}
    assert paths == {"pricing.total.priceBreakdown.totalDiscounts.value.value",
                     "pricing.total.priceBreakdown.totalDiscounts.breakdown.orderDiscounts.value"}


def test_totals_exactly_at_the_64_bit_bounds_are_fine() -> None:
    assert price_breakdown(record(line(str(INT64_MAX))))["total"]["value"] == INT64_MAX
    assert price_breakdown(record(line(str(INT64_MIN))))["total"]["value"] == INT64_MIN
