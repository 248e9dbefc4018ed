"""Unit tests of app/domain/totals.py: each rule of REFERENCE.md "Totals" and the choices its docstring states."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.totals import price_breakdown

NULL = {"subTotal": None, "totalDiscounts": {"value": None, "breakdown": {"lineItemDiscounts": None,
        "orderDiscounts": None}}, "totalLineItemSurcharges": None, "totalTaxes": None, "totalFees": None,
        "total": None}


def attr(category: str, key: str, value: str) -> dict[str, Any]:
    return {"category": category, "key": key, "value": value}


def line(unit: str | None = None, currency: str | None = "EUR", places: str | None = "2", quantity: float = 1,
         *extra: dict[str, Any]) -> dict[str, Any]:
    """A line item priced as the official examples do; None leaves that basePrice attribute out."""
    attributes = [attr("descriptive", "Größe", "S")]
    for key, value in (("value", unit), ("currency", currency), ("decimalPlaces", places)):
        if unit is not None and value is not None:
            attributes.append(attr("basePrice", key, value))
    return {"article": {"tenantArticleId": "a", "attributes": [*attributes, *extra]}, "quantity": quantity}


def mv(value: int, currency: str = "EUR", places: int = 2) -> dict[str, Any]:
    return {"value": value, "currency": currency, "decimalPlaces": places}


def record(*items: dict[str, Any], **pricing: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {"facilityRef": "f", "orderRecordDate": "2026-11-25T12:00:00Z", "lineItems": list(items)}
    if pricing:
        body["pricing"] = pricing
    return body


def values(breakdown: dict[str, Any]) -> dict[str, int]:
    """The eight amounts of a breakdown by name, after checking they share one currency and precision."""
    discounts = breakdown["totalDiscounts"]
    found = {"subTotal": breakdown["subTotal"], "totalDiscounts": discounts["value"],
             "lineItemDiscounts": discounts["breakdown"]["lineItemDiscounts"],
             "orderDiscounts": discounts["breakdown"]["orderDiscounts"],
             "totalLineItemSurcharges": breakdown["totalLineItemSurcharges"], "totalTaxes": breakdown["totalTaxes"],
             "totalFees": breakdown["totalFees"], "total": breakdown["total"]}
    assert len({(m["currency"], m["decimalPlaces"]) for m in found.values()}) == 1
    return {name: m["value"] for name, m in found.items()}


def test_a_priced_line_gives_every_total_in_its_currency_with_zeros_where_nothing_contributes() -> None:
    assert price_breakdown(record(line("2999", quantity=2))) == {
        "subTotal": mv(5998), "totalDiscounts": {"value": mv(0), "breakdown": {"lineItemDiscounts": mv(0),
                                                                                "orderDiscounts": mv(0)}},
        "totalLineItemSurcharges": mv(0), "totalTaxes": mv(0), "totalFees": mv(0), "total": mv(5998)}


def test_subtotal_sums_quantity_times_unit_price_over_lines() -> None:
    got = values(price_breakdown(record(line("2999", quantity=2), line("7999"), line("1499", quantity=3))))
    assert (got["subTotal"], got["total"]) == (18494, 18494)


@pytest.mark.parametrize(("unit", "quantity", "subtotal"), [
    ("999", 2.5, 2498),  # 2497.5: half to even rounds up to 2498
    ("1001", 2.5, 2502),  # 2502.5: half to even rounds down to 2502
    ("333", 1.5, 500),  # 499.5 → 500
    ("-1001", 2.5, -2502),  # a returned item: half to even on the negative side too
    ("1999", 1.0, 1999),  # 1.0 is 1
    ("100", 2.675, 268),  # 267.5 in decimal; binary floating point would make it 267.49999999999997 → 267
])
def test_fractional_quantities_round_half_to_even(unit: str, quantity: float, subtotal: int) -> None:
    assert values(price_breakdown(record(line(unit, quantity=quantity))))["subTotal"] == subtotal


def test_line_discount_value_wins_over_percentage_and_is_for_the_whole_line() -> None:
    got = values(price_breakdown(record(line("1000", "EUR", "2", 3, attr("discount", "percentage", "50"),
                                             attr("discount", "value", "120")))))
    assert (got["lineItemDiscounts"], got["orderDiscounts"], got["total"]) == (120, 0, 2880)


@pytest.mark.parametrize(("unit", "percentage", "discount"), [
    ("2999", "10", 300),  # 299.9
    ("1000", "12.5", 125),
    ("1010", "5", 50),  # 50.5 → 50 (even)
    ("1030", "5", 52),  # 51.5 → 52 (even)
    ("1000", "100", 1000),
    ("1000", "0", 0),
])
def test_line_percentage_discount_is_of_the_line_subtotal(unit: str, percentage: str, discount: int) -> None:
    got = values(price_breakdown(record(line(unit, "EUR", "2", 1, attr("discount", "percentage", percentage)))))
    assert got["lineItemDiscounts"] == discount


def test_several_line_discounts_taxes_and_surcharges_are_summed_and_percentages_do_not_compound() -> None:
    got = values(price_breakdown(record(line(
        "1000", "EUR", "2", 2, attr("discount", "percentage", "10"), attr("discount", "percentage", "20"),
        attr("tax", "value", "100"), attr("tax", "value", "50"), attr("surcharge", "value", "30"),
        attr("surcharge", "value", "20")))))
    assert got == {"subTotal": 2000, "totalDiscounts": 600, "lineItemDiscounts": 600, "orderDiscounts": 0,
                   "totalLineItemSurcharges": 50, "totalTaxes": 150, "totalFees": 0, "total": 1450}


def test_order_percentage_discounts_apply_to_subtotal_less_line_discounts_plus_surcharges_none_compounding() -> None:
    item = line("1000", "EUR", "2", 1, attr("discount", "value", "100"), attr("surcharge", "value", "100"))
    got = values(price_breakdown(record(item, discounts=[
        {"type": "PERCENTAGE", "percentage": 10}, {"type": "PERCENTAGE", "percentage": 20.0}])))
    # base 1000 - 100 + 100 = 1000: 100 + 200 (compounding would give 100 + 180)
    assert (got["orderDiscounts"], got["totalDiscounts"], got["total"]) == (300, 400, 700)


def test_order_percentage_rounds_half_to_even_and_accepts_fractional_percentages() -> None:
    got = values(price_breakdown(record(line("1010"), discounts=[{"type": "PERCENTAGE", "percentage": 5},
                                                                 {"type": "PERCENTAGE", "percentage": 2.5}])))
    assert got["orderDiscounts"] == 50 + 25  # 50.5 → 50, 25.25 → 25


def test_order_discount_value_wins_and_any_type_with_a_value_is_absolute() -> None:
    got = values(price_breakdown(record(line("10000"), discounts=[
        {"type": "PERCENTAGE", "percentage": 50, "value": mv(100)}, {"type": "COUPON", "value": mv(500)},
        {"type": "PROMOTION", "percentage": 1}, {"name": "neither value nor percentage"}])))
    assert (got["orderDiscounts"], got["total"]) == (100 + 500 + 100, 9300)


def test_order_taxes_are_the_whole_tax_and_line_taxes_count_only_without_them() -> None:
    items = (line("1190", "EUR", "2", 1, attr("tax", "value", "190")), line("1070", "EUR", "2", 2,
                                                                             attr("tax", "value", "140")))
    assert values(price_breakdown(record(*items)))["totalTaxes"] == 330
    with_order = values(price_breakdown(record(*items, taxes=[{"value": mv(300)}, {"value": mv(30)},
                                                              {"value": mv(0)}])))
    assert (with_order["totalTaxes"], with_order["total"]) == (330, 3330)  # gross prices: tax is not added
    assert values(price_breakdown(record(*items, taxes=[{"value": mv(999)}])))["totalTaxes"] == 999


def test_fees_and_surcharges_add_to_the_total_and_a_fee_without_value_adds_nothing() -> None:
    got = values(price_breakdown(record(line("1000", "EUR", "2", 1, attr("surcharge", "value", "199")),
                                        fees=[{"value": mv(199)}, {"value": mv(499)}, {"name": "free"}])))
    assert (got["totalLineItemSurcharges"], got["totalFees"], got["total"]) == (199, 698, 1897)


def test_mixed_decimal_places_compute_at_the_largest_exactly() -> None:
    breakdown = price_breakdown(record(line("1999", "EUR", "2", 2.5, attr("discount", "value", "1")),
                                       line("1000", "EUR", "1"), fees=[{"value": mv(1500, places=3)}]))
    assert breakdown["total"]["decimalPlaces"] == 3
    # 2.5 x 19.99 = 49.975 exactly at 3 places (at 2 it would have rounded); 100.0; fee 1.500; discount 0.01
    assert values(breakdown) == {"subTotal": 49975 + 100000, "totalDiscounts": 10, "lineItemDiscounts": 10,
                                 "orderDiscounts": 0, "totalLineItemSurcharges": 0, "totalTaxes": 0,
                                 "totalFees": 1500, "total": 151465}


def test_a_line_without_base_price_contributes_nothing() -> None:
    free = line(None, None, None, 5, attr("discount", "value", "100"), attr("tax", "value", "50"),
                attr("surcharge", "value", "70"))
    assert values(price_breakdown(record(free, line("500")))) == values(price_breakdown(record(line("500"))))
    assert price_breakdown(record(free)) == NULL


@pytest.mark.parametrize("body", [
    record(line()),
    record(line(), discounts=[{"type": "PERCENTAGE", "percentage": 10}], fees=[{"name": "no value"}]),
    record(line(None, None, None, 1, attr("basePrice", "currency", "EUR"))),  # a currency but no price
])
def test_no_amount_at_all_gives_all_six_keys_null(body: dict[str, Any]) -> None:
    assert price_breakdown(body) == NULL


@pytest.mark.parametrize("body", [
    record(line("100"), line("100", "USD")),
    record(line("100"), fees=[{"value": mv(1, "USD")}]),
    record(discounts=[{"value": mv(1)}], taxes=[{"value": mv(1, "CHF")}]),
    record(line("100", None)),  # the record's currency cannot be told
])
def test_mixed_or_unknown_currencies_give_all_six_keys_null(body: dict[str, Any]) -> None:
    assert price_breakdown(body) == NULL


def test_order_amounts_alone_give_totals_in_their_currency() -> None:
    assert values(price_breakdown(record(line(), fees=[{"value": mv(0, "JPY", 0)}]))) == dict.fromkeys(
        ["subTotal", "totalDiscounts", "lineItemDiscounts", "orderDiscounts", "totalLineItemSurcharges",
         "totalTaxes", "totalFees", "total"], 0)


def test_payments_never_feed_the_totals() -> None:
    body = record(line("1000"))
    expected = price_breakdown(body)
    body["payments"] = [{"value": mv(5, "USD"), "taxValue": mv(1, "USD")}, {"value": mv(999999)}]
    assert price_breakdown(body) == expected


def test_a_base_price_without_currency_is_in_the_records_one_currency() -> None:
    got = price_breakdown(record(line("1000", None, "2"), line("500", "CHF"), fees=[{"value": mv(100, "CHF")}]))
    assert (got["total"]["currency"], got["total"]["value"]) == ("CHF", 1600)


@pytest.mark.parametrize(("currency", "places", "total"), [("JPY", 0, 500), ("KWD", 3, 500), ("EUR", 2, 500)])
def test_a_base_price_without_decimal_places_has_the_currencys_minor_unit(currency: str, places: int,
                                                                          total: int) -> None:
    assert price_breakdown(record(line("500", currency, None)))["total"] == mv(total, currency, places)


def test_the_same_base_price_attribute_twice_is_fine_when_equal() -> None:
    item = line("1000", "EUR", "2", 1, attr("basePrice", "value", "1000"), attr("basePrice", "currency", "EUR"))
    assert values(price_breakdown(record(item)))["total"] == 1000


def test_attributes_not_read_for_prices_are_not_checked() -> None:
    item = line("1000", "EUR", "2", 1, attr("tax", "percentage", "nineteen"), attr("discount", "currency", "€"),
                attr("salesPrice", "value", "x"), attr("insurance", "insuredValue", "lots"),
                {"key": "value", "value": "no category"}, attr("descriptive", "value", "blue"))
    assert values(price_breakdown(record(item)))["total"] == 1000
