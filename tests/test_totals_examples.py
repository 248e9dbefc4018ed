"""app/domain/totals.py on the official Postman examples (figures computed by hand) and against a decimal oracle."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.totals import price_breakdown
from tests.test_totals import attr, line, mv, record, values


def test_the_postman_example_with_pricing() -> None:
    """"Bulk Create Order Records: with pricing (discounts, fees & taxes)", its record as sent."""
    item = line("2999", "EUR", "2", 2, attr("discount", "value", "300"), attr("discount", "percentage", "10"),
                attr("tax", "value", "570"), attr("tax", "percentage", "19"), attr("surcharge", "value", "199"))
    item["article"]["attributes"][2]["type"] = "CURRENCY"
    body = record(item, discounts=[{"name": "Sommeraktion", "type": "PERCENTAGE", "percentage": 10.0,
                                    "context": "PROMOTION"},
                                   {"name": "Gutschein", "code": "SUMMER2026", "type": "COUPON", "value": mv(500),
                                    "tenantDiscountId": "disc-summer-2026"}],
                  fees=[{"name": "Verpackungsgebühr", "value": mv(199)}],
                  taxes=[{"type": "VAT", "ratePercent": 19, "value": mv(912), "scope": "DOMESTIC",
                          "taxableValue": mv(4799)}])
    body["payments"] = [{"paymentMethod": "CREDIT_CARD", "value": mv(5998), "taxValue": mv(912),
                         "status": "COMPLETED"}]
    # subTotal 2 x 29.99 = 59.98; line discount 3.00 (its value wins over its 10 %); surcharge 1.99;
    # order: 10 % of (59.98 - 3.00 + 1.99 = 58.97) = 5.897 → 5.90, coupon 5.00, so 10.90; discounts 13.90;
    # fee 1.99; taxes are the order's 9.12 (the line's 5.70 is part of them);
    # total 59.98 - 13.90 + 1.99 + 1.99 = 50.06 (the payment of 59.98 is not read)
    assert values(price_breakdown(body)) == {
        "subTotal": 5998, "totalDiscounts": 1390, "lineItemDiscounts": 300, "orderDiscounts": 1090,
        "totalLineItemSurcharges": 199, "totalTaxes": 912, "totalFees": 199, "total": 5006}
    assert price_breakdown(body)["total"] == mv(5006)


def test_the_postman_full_blown_example() -> None:
    shirt = line("2999", "EUR", "2", 2, attr("discount", "value", "600"), attr("discount", "percentage", "10"),
                 attr("tax", "value", "570"), attr("tax", "percentage", "19"), attr("surcharge", "value", "199"))
    jacket = line("7999", "EUR", "2", 1, attr("tax", "value", "1520"), attr("tax", "percentage", "19"))
    body = record(shirt, jacket, line("1499", "EUR", "2", 3),
                  discounts=[{"type": "PERCENTAGE", "percentage": 10.0}, {"type": "COUPON", "value": mv(500)}],
                  fees=[{"value": mv(199)}, {"value": mv(499)}],
                  taxes=[{"type": "VAT", "value": mv(2539)}, {"type": "ECO_TAX", "value": mv(0)}])
    # subTotal 59.98 + 79.99 + 44.97 = 184.94; line discount 6.00; surcharge 1.99;
    # order: 10 % of 180.93 = 18.093 → 18.09, + 5.00 = 23.09; discounts 29.09; fees 6.98; taxes 25.39 + 0;
    # total 184.94 - 29.09 + 1.99 + 6.98 = 164.82
    assert values(price_breakdown(body)) == {
        "subTotal": 18494, "totalDiscounts": 2909, "lineItemDiscounts": 600, "orderDiscounts": 2309,
        "totalLineItemSurcharges": 199, "totalTaxes": 2539, "totalFees": 698, "total": 16482}


amounts = st.integers(-(10**9), 10**9)
places = st.integers(0, 4)
percentages = st.decimals(0, 100, places=2)


@st.composite
def priced_lines(draw: st.DrawFn) -> dict[str, Any]:
    quantity = draw(st.integers(1, 50) | st.decimals(1, 50, places=3).map(float))
    extra = [attr(category, key, str(draw(kinds)))
             for category, key, kinds in (("discount", "value", amounts), ("discount", "percentage", percentages),
                                          ("tax", "value", amounts), ("surcharge", "value", amounts))
             if draw(st.booleans())]
    return line(str(draw(amounts)), "EUR", str(draw(places)), quantity, *extra)


def order_amounts() -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(st.builds(lambda v, p: {"value": mv(v, "EUR", p)}, amounts, places), max_size=3)


def oracle(body: dict[str, Any]) -> dict[str, int]:
    """The rules written out again over Decimal at high precision: unit prices in currency units, not integers."""
    def attrs(item: dict[str, Any], category: str, key: str) -> list[str]:
        return [a["value"] for a in item["article"]["attributes"] if (a["category"], a["key"]) == (category, key)]

    pricing = body.get("pricing", {})
    monies = [d["value"] for d in pricing.get("discounts", []) if "value" in d] + [
        f["value"] for f in pricing.get("fees", [])] + [t["value"] for t in pricing.get("taxes", [])]
    top = max([int(attrs(i, "basePrice", "decimalPlaces")[0]) for i in body["lineItems"]] +
              [m["decimalPlaces"] for m in monies])
    step = Decimal(1).scaleb(-top)
    with localcontext() as context:
        context.prec = 100
        rnd = lambda x: x.quantize(step, ROUND_HALF_EVEN)  # noqa: E731
        sub = line_disc = surch = line_tax = Decimal(0)
        for item in body["lineItems"]:
            unit_of = lambda v: Decimal(v).scaleb(-int(attrs(item, "basePrice", "decimalPlaces")[0]))  # noqa: B023, E731
            line_sub = rnd(Decimal(str(item["quantity"])) * unit_of(attrs(item, "basePrice", "value")[0]))
            sub += line_sub
            given_values = attrs(item, "discount", "value")
            line_disc += sum((unit_of(v) for v in given_values), Decimal(0)) if given_values else sum(
                (rnd(line_sub * Decimal(p) / 100) for p in attrs(item, "discount", "percentage")), Decimal(0))
            surch += sum((unit_of(v) for v in attrs(item, "surcharge", "value")), Decimal(0))
            line_tax += sum((unit_of(v) for v in attrs(item, "tax", "value")), Decimal(0))
        money = lambda m: Decimal(m["value"]).scaleb(-m["decimalPlaces"])  # noqa: E731
        order_disc = sum((money(d["value"]) if "value" in d else
                          rnd((sub - line_disc + surch) * Decimal(str(d["percentage"])) / 100)
                          for d in pricing.get("discounts", [])), Decimal(0))
        taxes = sum((money(t["value"]) for t in pricing["taxes"]), Decimal(0)) if pricing.get("taxes") else line_tax
        fees = sum((money(f["value"]) for f in pricing.get("fees", [])), Decimal(0))
        found = {"subTotal": sub, "totalDiscounts": line_disc + order_disc, "lineItemDiscounts": line_disc,
                 "orderDiscounts": order_disc, "totalLineItemSurcharges": surch, "totalTaxes": taxes,
                 "totalFees": fees, "total": sub - line_disc - order_disc + surch + fees}
        return {name: int(amount.scaleb(top)) for name, amount in found.items()}


@settings(deadline=None)
@given(items=st.lists(priced_lines(), min_size=1, max_size=4), fees=order_amounts(), taxes=order_amounts(),
       absolute=order_amounts(), relative=st.lists(percentages.map(float), max_size=2), reverse=st.booleans())
def test_totals_agree_with_the_decimal_oracle_and_the_total_identity(
        items: list[dict[str, Any]], fees: list[dict[str, Any]], taxes: list[dict[str, Any]],
        absolute: list[dict[str, Any]], relative: list[float], reverse: bool) -> None:
    discounts = absolute + [{"type": "PERCENTAGE", "percentage": p} for p in relative]
    body = record(*items, discounts=discounts, fees=fees, taxes=taxes)
    got = values(price_breakdown(body))
    assert got == oracle(body)
    assert got["total"] == (got["subTotal"] - got["totalDiscounts"] + got["totalLineItemSurcharges"]
                            + got["totalFees"])
    assert got["totalDiscounts"] == got["lineItemDiscounts"] + got["orderDiscounts"]
    if reverse:  # the order of a line's attributes does not matter
        for item in items:
            item["article"]["attributes"].reverse()
        assert values(price_breakdown(body)) == got
