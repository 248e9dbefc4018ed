"""Unit tests of app/domain/money.py and app/domain/pricing.py: the REFERENCE.md price breakdown rules."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.money import INT64_MAX, INT64_MIN, is_currency, minor_unit, rescale
from app.domain.pricing import dotted, monetary_values, out_of_range, price_breakdown

BREAKDOWN_KEYS = {"subTotal", "totalDiscounts", "totalTaxes", "totalFees", "totalDeposit", "total"}


def mv(value: int, currency: str = "EUR", places: int = 2) -> dict[str, Any]:
    """A MonetaryValue as the schema hands it on: decimalPlaces always present."""
    return {"value": value, "currency": currency, "decimalPlaces": places}


def item(quantity: int = 1, price: dict[str, Any] | None = None, deposit: dict[str, Any] | None = None
         ) -> dict[str, Any]:
    line: dict[str, Any] = {"article": {"tenantArticleId": "a"}, "quantity": quantity}
    if price is not None:
        line["price"] = price
    if deposit is not None:
        line["deposit"] = deposit
    return line


def values(breakdown: dict[str, Any]) -> dict[str, int]:
    return {k: m["value"] for k, m in breakdown.items()}


# --- money.py -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "places"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("KWD", 3), ("BHD", 3),
                                               ("CLF", 4), ("XAU", 0), ("XDR", 0)])
def test_minor_unit_is_the_currency_standard(code: str, places: int) -> None:
    assert is_currency(code)
    assert minor_unit(code) == places


@pytest.mark.parametrize("code", ["", "EURO", "eur", "XYZ", "EU", "€", "123"])
def test_unknown_codes_are_not_currencies(code: str) -> None:
    assert not is_currency(code)
    assert minor_unit(code) == 0


@pytest.mark.parametrize(("value", "src", "dst", "expected"), [
    (199, 2, 2, 199), (199, 2, 3, 1990), (199, 0, 4, 1990000), (-5, 1, 3, -500), (0, 0, 4, 0),
])
def test_rescale_adds_decimal_places_without_rounding(value: int, src: int, dst: int, expected: int) -> None:
    assert rescale(value, src, dst) == expected


def test_int64_bounds() -> None:
    assert INT64_MAX == 9223372036854775807
    assert INT64_MIN == -9223372036854775808


# --- monetary_values ----------------------------------------------------------------------------------------------

def test_monetary_values_yields_every_amount_with_its_path_in_order() -> None:
    record = {
        "lineItems": [item(2, mv(1), mv(2)), item(1), item(1, price=mv(3))],
        "payments": [{"amount": mv(4), "refundedAmount": mv(5)}, {"amount": mv(6)}],
        "pricing": {"discounts": [{"amount": mv(7)}], "fees": [{"amount": mv(8)}],
                    "taxes": [{"amount": mv(9)}, {"amount": mv(10), "includedInPrice": False}]},
    }
    assert [(dotted(path), m["value"]) for path, m in monetary_values(record)] == [
        ("lineItems.0.price", 1), ("lineItems.0.deposit", 2), ("lineItems.2.price", 3),
        ("payments.0.amount", 4), ("payments.0.refundedAmount", 5), ("payments.1.amount", 6),
        ("pricing.discounts.0.amount", 7), ("pricing.fees.0.amount", 8),
        ("pricing.taxes.0.amount", 9), ("pricing.taxes.1.amount", 10),
    ]


def test_monetary_values_of_an_unpriced_record_is_empty() -> None:
    assert list(monetary_values({"lineItems": [item(3)]})) == []
    assert list(monetary_values({"lineItems": [item()], "pricing": {}})) == []


# --- price_breakdown ----------------------------------------------------------------------------------------------

def test_breakdown_of_the_factory_full_record_computed_by_hand() -> None:
    # full_record(): 3 x 1.99 (+0.25 deposit each), 1 x 10.00; discount 1.00, fee 0.20,
    # VAT 2.56 included in the prices, levy 0.05 not included.
    record = {
        "lineItems": [item(3, mv(199), mv(25)), item(1, mv(1000))],
        "payments": [{"amount": mv(1522), "refundedAmount": mv(0)}],
        "pricing": {"discounts": [{"amount": mv(100)}], "fees": [{"amount": mv(20)}],
                    "taxes": [{"amount": mv(256), "includedInPrice": True},
                              {"amount": mv(5), "includedInPrice": False}]},
    }
    breakdown = price_breakdown(record)
    assert breakdown is not None
    assert set(breakdown) == BREAKDOWN_KEYS
    sub_total = 3 * 199 + 1 * 1000  # 1597
    deposit = 3 * 25  # 75
    assert values(breakdown) == {
        "subTotal": 1597, "totalDeposit": 75, "totalDiscounts": 100, "totalFees": 20, "totalTaxes": 261,
        "total": sub_total - 100 + 20 + deposit + 5,  # 1597
    }
    assert all(m["currency"] == "EUR" and m["decimalPlaces"] == 2 for m in breakdown.values())


def test_nothing_priced_and_no_pricing_gives_no_breakdown() -> None:
    assert price_breakdown({"lineItems": [item(2), item(1)]}) is None
    # payments alone do not make a breakdown: only prices, deposits or pricing do
    assert price_breakdown({"lineItems": [item()], "payments": [{"amount": mv(5)}]}) is None


@pytest.mark.parametrize("pricing", [{}, {"discounts": [], "fees": [], "taxes": []}])
def test_pricing_without_any_amount_in_the_record_gives_zero_totals_in_no_currency(pricing: dict[str, Any]) -> None:
    breakdown = price_breakdown({"lineItems": [item()], "pricing": pricing})
    assert breakdown is not None
    assert values(breakdown) == dict.fromkeys(BREAKDOWN_KEYS, 0)
    assert {(m["currency"], m["decimalPlaces"]) for m in breakdown.values()} == {("XXX", 0)}


def test_no_price_no_deposit_no_pricing_gives_no_breakdown() -> None:
    assert price_breakdown({"lineItems": [item()], "payments": [{"amount": mv(500, "JPY", 0)}]}) is None


def test_empty_pricing_gives_zero_totals_in_the_payments_currency() -> None:
    breakdown = price_breakdown({"lineItems": [item()], "payments": [{"amount": mv(500, "JPY", 0)}],
                                 "pricing": {}})
    assert breakdown is not None
    assert values(breakdown) == dict.fromkeys(BREAKDOWN_KEYS, 0)
    assert {(m["currency"], m["decimalPlaces"]) for m in breakdown.values()} == {("JPY", 0)}


def test_price_only_line_items() -> None:
    breakdown = price_breakdown({"lineItems": [item(4, mv(250)), item(1), item(2, mv(1))]})
    assert breakdown is not None
    assert values(breakdown) == {"subTotal": 1002, "totalDeposit": 0, "totalDiscounts": 0, "totalFees": 0,
                                 "totalTaxes": 0, "total": 1002}


def test_deposit_only_line_items_still_give_a_breakdown() -> None:
    breakdown = price_breakdown({"lineItems": [item(6, deposit=mv(15))]})
    assert breakdown is not None
    assert values(breakdown)["totalDeposit"] == 90
    assert values(breakdown)["subTotal"] == 0
    assert values(breakdown)["total"] == 90


def test_pricing_only_record_gives_a_breakdown_from_its_entries() -> None:
    breakdown = price_breakdown({"lineItems": [item()], "pricing": {"fees": [{"amount": mv(300)}],
                                                                    "discounts": [{"amount": mv(50)}]}})
    assert breakdown is not None
    assert values(breakdown) == {"subTotal": 0, "totalDeposit": 0, "totalDiscounts": 50, "totalFees": 300,
                                 "totalTaxes": 0, "total": 250}


def test_included_taxes_count_in_total_taxes_but_not_in_total() -> None:
    record = {"lineItems": [item(1, mv(1190))],
              "pricing": {"taxes": [{"amount": mv(190), "includedInPrice": True}]}}
    assert values(price_breakdown(record) or {}) == {"subTotal": 1190, "totalDeposit": 0, "totalDiscounts": 0,
                                                     "totalFees": 0, "totalTaxes": 190, "total": 1190}


def test_tax_without_included_in_price_counts_as_included() -> None:
    record = {"lineItems": [item(1, mv(1000))], "pricing": {"taxes": [{"amount": mv(70)}]}}
    assert values(price_breakdown(record) or {})["total"] == 1000
    assert values(price_breakdown(record) or {})["totalTaxes"] == 70


def test_excluded_taxes_are_added_to_the_total() -> None:
    record = {"lineItems": [item(2, mv(500))],
              "pricing": {"taxes": [{"amount": mv(80), "includedInPrice": False},
                                    {"amount": mv(20), "includedInPrice": False},
                                    {"amount": mv(160), "includedInPrice": True}]}}
    assert values(price_breakdown(record) or {}) == {"subTotal": 1000, "totalDeposit": 0, "totalDiscounts": 0,
                                                     "totalFees": 0, "totalTaxes": 260, "total": 1100}


def test_several_discounts_and_fees_are_summed() -> None:
    record = {"lineItems": [item(1, mv(10000))],
              "pricing": {"discounts": [{"amount": mv(100)}, {"amount": mv(250)}],
                          "fees": [{"amount": mv(5)}, {"amount": mv(7)}, {"amount": mv(1)}]}}
    assert values(price_breakdown(record) or {}) == {"subTotal": 10000, "totalDeposit": 0, "totalDiscounts": 350,
                                                     "totalFees": 13, "totalTaxes": 0, "total": 9663}


def test_negative_values_for_returned_items() -> None:
    record = {"lineItems": [item(1, mv(2000)), item(2, mv(-500), mv(-25))]}
    assert values(price_breakdown(record) or {}) == {"subTotal": 1000, "totalDeposit": -50, "totalDiscounts": 0,
                                                     "totalFees": 0, "totalTaxes": 0, "total": 950}


def test_mixed_decimal_places_are_summed_at_the_largest_precision() -> None:
    record = {"lineItems": [item(3, mv(199, places=2), mv(5, places=3))],
              "pricing": {"fees": [{"amount": mv(1, places=0)}]}}
    breakdown = price_breakdown(record)
    assert breakdown is not None
    assert {m["decimalPlaces"] for m in breakdown.values()} == {3}
    assert values(breakdown) == {"subTotal": 5970, "totalDeposit": 15, "totalDiscounts": 0, "totalFees": 1000,
                                 "totalTaxes": 0, "total": 6985}


@pytest.mark.parametrize(("currency", "places"), [("JPY", 0), ("KWD", 3)])
def test_breakdown_carries_the_record_currency(currency: str, places: int) -> None:
    breakdown = price_breakdown({"lineItems": [item(2, mv(7, currency, places))]})
    assert breakdown is not None
    assert {(m["currency"], m["decimalPlaces"]) for m in breakdown.values()} == {(currency, places)}
    assert values(breakdown)["total"] == 14


def test_breakdown_does_not_mutate_the_record() -> None:
    record = {"lineItems": [item(3, mv(199, places=2), mv(5, places=3))],
              "pricing": {"taxes": [{"amount": mv(10)}]}}
    snapshot = repr(record)
    price_breakdown(record)
    assert repr(record) == snapshot


def test_out_of_range_names_totals_beyond_64_bits() -> None:
    breakdown = price_breakdown({"lineItems": [item(2, mv(INT64_MAX))]})
    assert breakdown is not None
    assert values(breakdown)["subTotal"] == 2 * INT64_MAX  # computed exactly, then refused by the caller
    assert out_of_range(breakdown) == ["subTotal", "total"]


def test_out_of_range_accepts_the_exact_bounds() -> None:
    top = price_breakdown({"lineItems": [item(1, mv(INT64_MAX))]})
    bottom = price_breakdown({"lineItems": [item(1, mv(INT64_MIN))]})
    assert top is not None and bottom is not None
    assert out_of_range(top) == []
    assert out_of_range(bottom) == []
    below = price_breakdown({"lineItems": [item(1, mv(INT64_MIN))], "pricing": {"discounts": [{"amount": mv(1)}]}})
    assert below is not None
    assert out_of_range(below) == ["total"]
