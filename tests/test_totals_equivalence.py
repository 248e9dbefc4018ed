"""app/domain/totals.py gives what its first, plainer implementation gave, kept here as the reference: the same
totals, or the same errors with the same paths and messages, on generated records and on the sample data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.currencies import INT64_MAX, INT64_MIN, is_official, minor_unit
from app.domain.totals import TotalsError, price_breakdown
from app.records import RecordBuilder
from app.settings import make_settings
from scripts.make_sample_data import generate_records

# ---- the reference: the implementation before it was made faster, verbatim but for names ----
_INTEGER = re.compile(r"-?[0-9]{1,19}")
_PERCENTAGE = re.compile(r"([0-9]{1,3})(?:\.([0-9]{1,18}))?")
_BREAKDOWN = "pricing.total.priceBreakdown"


def _integer(text: str) -> int | None:
    if _INTEGER.fullmatch(text) and INT64_MIN <= (number := int(text)) <= INT64_MAX:
        return number
    return None


def _percentage(text: str) -> tuple[int, int] | None:
    if not (match := _PERCENTAGE.fullmatch(text)):
        return None
    whole, fraction = match.group(1), match.group(2) or ""
    ratio = (int(whole + fraction), 10 ** len(fraction))
    return ratio if ratio[0] <= 100 * ratio[1] else None


_INT_RULE = "Must be an integer string (minor units) within 64 bits."
_READ: dict[tuple[str, str], tuple[Any, str, str]] = {
    ("basePrice", "value"): (_integer, "unit", _INT_RULE),
    ("basePrice", "currency"): (lambda t: t if is_official(t) else None, "currency",
                                "Must be an official currency code."),
    ("basePrice", "decimalPlaces"): (lambda t: int(t) if len(t) == 1 and "0" <= t <= "8" else None, "places",
                                     "Must be an integer string from 0 to 8."),
    ("discount", "value"): (_integer, "discounts", _INT_RULE),
    ("discount", "percentage"): (_percentage, "percentages", "Must be a decimal string from 0 to 100."),
    ("tax", "value"): (_integer, "taxes", _INT_RULE),
    ("surcharge", "value"): (_integer, "surcharges", _INT_RULE),
}
_SINGLE = frozenset({"unit", "currency", "places"})
_CATEGORIES = frozenset(category for category, _ in _READ)


@dataclass
class _Line:
    quantity: tuple[int, int]
    unit: int | None = None
    currency: str | None = None
    places: int | None = None
    discounts: list[int] = field(default_factory=list)
    percentages: list[tuple[int, int]] = field(default_factory=list)
    taxes: list[int] = field(default_factory=list)
    surcharges: list[int] = field(default_factory=list)


def _ratio(number: int | float) -> tuple[int, int]:
    return (number, 1) if isinstance(number, int) else Decimal(str(number)).as_integer_ratio()


def _round(numerator: int, denominator: int) -> int:
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    return quotient + (twice > denominator or (twice == denominator and quotient & 1))


def _percent_of(amount: int, percentage: tuple[int, int]) -> int:
    return _round(amount * percentage[0], 100 * percentage[1])


def reference(record: dict[str, Any]) -> dict[str, Any]:
    errors: list[tuple[str, str]] = []
    lines = []
    for i, item in enumerate(record["lineItems"]):
        line = _Line(_ratio(item["quantity"]))
        for j, attribute in enumerate(item["article"]["attributes"]):
            category = attribute.get("category")
            if category not in _CATEGORIES or (read := _READ.get((category, attribute["key"]))) is None:
                continue
            parse, slot, rule = read
            text = attribute["value"]
            parsed = parse(text) if isinstance(text, str) else None
            if parsed is None:
                errors.append((f"lineItems.{i}.article.attributes.{j}.value", rule))
            elif slot not in _SINGLE:
                getattr(line, slot).append(parsed)
            elif getattr(line, slot) not in (None, parsed):
                errors.append((f"lineItems.{i}.article.attributes.{j}.value",
                               f"Conflicts with an earlier basePrice {attribute['key']} of this line."))
            else:
                setattr(line, slot, parsed)
        if line.unit is not None:
            lines.append(line)
    if errors:
        raise TotalsError(errors)
    pricing = record.get("pricing") or {}
    order_discounts = pricing.get("discounts") or ()
    fees = [f["value"] for f in pricing.get("fees") or () if "value" in f]
    order_taxes = [t["value"] for t in pricing.get("taxes") or ()]
    order_amounts = [d["value"] for d in order_discounts if "value" in d] + fees + order_taxes
    currencies = {line.currency for line in lines if line.currency is not None}
    currencies.update(m["currency"] for m in order_amounts)
    if len(currencies) != 1:
        return {"subTotal": None, "totalDiscounts": {"value": None, "breakdown": {
                "lineItemDiscounts": None, "orderDiscounts": None}}, "totalLineItemSurcharges": None,
                "totalTaxes": None, "totalFees": None, "total": None}
    (currency,) = currencies
    default_places = minor_unit(currency)
    priced = [(line, line.unit or 0, default_places if line.places is None else line.places) for line in lines]
    places = max([p for _, _, p in priced] + [m["decimalPlaces"] for m in order_amounts])

    def scaled(money: dict[str, Any]) -> int:
        return money["value"] * 10 ** (places - money["decimalPlaces"])

    sub_total = line_discounts = surcharges = line_taxes = 0
    for line, unit, line_places in priced:
        scale = 10 ** (places - line_places)
        subtotal = _round(line.quantity[0] * unit * scale, line.quantity[1])
        sub_total += subtotal
        if line.discounts:
            line_discounts += sum(line.discounts) * scale
        else:
            line_discounts += sum(_percent_of(subtotal, p) for p in line.percentages)
        surcharges += sum(line.surcharges) * scale
        line_taxes += sum(line.taxes) * scale
    base = sub_total - line_discounts + surcharges
    discounts = sum(scaled(d["value"]) if "value" in d else _percent_of(base, _ratio(d["percentage"]))
                    for d in order_discounts if "value" in d or "percentage" in d)
    total_fees = sum(map(scaled, fees))
    taxes = sum(map(scaled, order_taxes)) if order_taxes else line_taxes
    total = sub_total - line_discounts - discounts + surcharges + total_fees
    amounts = {"subTotal": sub_total, "totalDiscounts.value": line_discounts + discounts,
               "totalDiscounts.breakdown.lineItemDiscounts": line_discounts,
               "totalDiscounts.breakdown.orderDiscounts": discounts, "totalLineItemSurcharges": surcharges,
               "totalTaxes": taxes, "totalFees": total_fees, "total": total}
    errors = [(f"{_BREAKDOWN}.{name}.value", "Does not fit in a 64-bit integer.")
              for name, value in amounts.items() if not INT64_MIN <= value <= INT64_MAX]
    if errors:
        raise TotalsError(errors)

    def money(value: int) -> dict[str, Any]:
        return {"value": value, "currency": currency, "decimalPlaces": places}

    return {"subTotal": money(sub_total),
            "totalDiscounts": {"value": money(line_discounts + discounts),
                               "breakdown": {"lineItemDiscounts": money(line_discounts),
                                             "orderDiscounts": money(discounts)}},
            "totalLineItemSurcharges": money(surcharges), "totalTaxes": money(taxes), "totalFees": money(total_fees),
            "total": money(total)}


# ---- the comparison ----
def outcome(compute: Any, record: dict[str, Any]) -> tuple[Any, ...]:
    try:
        return ("totals", compute(record))
    except TotalsError as exc:
        return ("errors", exc.errors, str(exc))


CURRENCIES = ("EUR", "JPY", "KWD", "USD", "ANG", "XAU")
TEXTS = st.one_of(
    st.integers(-(2**64), 2**64).map(str),  # within 64 bits and beyond
    st.text("0123456789-", max_size=22),  # digit strings of every length, stray minus signs
    st.decimals(0, 150, places=3, allow_nan=False, allow_infinity=False).map(str),  # percentages and beyond
    st.sampled_from(CURRENCIES),
    st.sampled_from(["", "-", "+5", " 5", "5\n", "\u0661\u0662", "\u00b2", "\uff15", "0x10", "1_000", "007", "-0",
                     "100.0", "100.1", "0.000000000000000001", "eur", "XXX", "8", "9", "10", "-1"]),
)
GOOD = {"value": st.integers(-(10**6), 10**9).map(str), "currency": st.sampled_from(CURRENCIES),
        "decimalPlaces": st.integers(0, 8).map(str),
        "percentage": st.decimals(0, 100, places=2, allow_nan=False, allow_infinity=False).map(str)}


BASE = [("basePrice", "value"), ("basePrice", "currency"), ("basePrice", "decimalPlaces")]
EXTRA = [("discount", "value"), ("discount", "percentage"), ("tax", "value"), ("surcharge", "value"),
         ("tax", "percentage"), ("discount", "currency"), ("descriptive", "value"), (None, "value"),
         ("basePrice", "other")]


@st.composite
def attribute(draw: st.DrawFn, pairs: list[tuple[str | None, str]], odd: int) -> dict[str, Any]:
    """One of `pairs`, its value one that parses but one time in `odd`."""
    category, key = draw(st.sampled_from(pairs))
    good = GOOD.get(key, TEXTS)
    found = {"key": key, "value": draw(st.one_of(TEXTS, st.integers(0, 9)) if draw(st.integers(1, odd)) == 1
                                       else good)}
    if category is not None:
        found["category"] = category
    return found


ATTRIBUTE = attribute(BASE + EXTRA, 3)
QUANTITY = st.one_of(st.integers(1, 10**6), st.sampled_from([1.0, 1.25, 0.1, 2.5, 3.2, 1e-7, 12.0]),
                     st.floats(0.001, 1e6, allow_nan=False, allow_infinity=False))


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    currency = draw(st.sampled_from(CURRENCIES))
    # mostly the record's currency, mixed at times
    usual = st.tuples(st.integers(0, 7), st.sampled_from(CURRENCIES)).map(lambda t: t[1] if t[0] == 0 else currency)

    def priced() -> st.SearchStrategy[list[dict[str, Any]]]:
        base = [st.builds(lambda v: {"category": "basePrice", "key": "value", "value": str(v)},
                          st.one_of(st.integers(-(10**6), 10**12), st.integers(2**62, INT64_MAX))),
                st.builds(lambda c: {"category": "basePrice", "key": "currency", "value": c}, usual)]
        return st.tuples(*base, st.lists(attribute(EXTRA, 40), max_size=4)).map(lambda t: [t[0], t[1], *t[2]])

    wild = st.lists(ATTRIBUTE, max_size=6)  # anything: conflicts, values that do not parse, free items
    attributes = draw(st.lists(st.one_of(priced(), priced(), priced(), wild), min_size=1, max_size=6))
    lines = [{"article": {"attributes": a}, "quantity": draw(QUANTITY)} for a in attributes]
    money = st.fixed_dictionaries({"value": st.one_of(st.integers(-(10**6), 10**9),
                                                      st.integers(INT64_MIN, INT64_MAX)),
                                   "currency": usual, "decimalPlaces": st.integers(0, 8)})
    pricing = draw(st.fixed_dictionaries({}, optional={
        "discounts": st.lists(st.fixed_dictionaries({}, optional={
            "value": money, "percentage": st.one_of(st.integers(0, 100), st.floats(0, 100))}), max_size=3),
        "fees": st.lists(st.fixed_dictionaries({}, optional={"value": money}), max_size=2),
        "taxes": st.lists(st.fixed_dictionaries({"value": money}), max_size=2)}))
    record: dict[str, Any] = {"lineItems": lines}
    if pricing or draw(st.booleans()):
        record["pricing"] = pricing
    return record


@settings(max_examples=600, deadline=None)
@given(records())
def test_generated_records_get_the_same_totals_or_the_same_errors(record: dict[str, Any]) -> None:
    assert outcome(price_breakdown, record) == outcome(reference, record)


def test_the_sample_data_gets_the_same_totals() -> None:
    builder = RecordBuilder(make_settings().gdpr)
    seen = set()
    for raw in generate_records(400, seed=7, now=datetime(2026, 6, 1, tzinfo=UTC)):
        data = builder.loader.load(raw)
        pricing = data.get("pricing") or {}
        for entry in [*pricing.get("discounts", ()), *pricing.get("fees", ()), *pricing.get("taxes", ())]:
            if "value" in entry:
                entry["value"].setdefault("decimalPlaces", minor_unit(entry["value"]["currency"]))
        result = outcome(price_breakdown, data)
        assert result == outcome(reference, data)
        seen.add(result[0])
    assert seen == {"totals"}


@pytest.mark.parametrize("text", ["9" * 18, "-" + "9" * 18, "9223372036854775807", "9223372036854775808",
                                  "-9223372036854775808", "-9223372036854775809", "0" * 19, "0" * 20,
                                  "\u0661", "\u00b2", "1 ", "+1"])
def test_integer_strings_at_the_edges(text: str) -> None:
    """The digit-string shortcut takes up to 18 ASCII digits; the rest goes by the pattern and the 64-bit range."""
    item = {"article": {"attributes": [{"category": "basePrice", "key": "value", "value": text},
                                       {"category": "basePrice", "key": "currency", "value": "EUR"}]},
            "quantity": 1}
    assert outcome(price_breakdown, {"lineItems": [item]}) == outcome(reference, {"lineItems": [item]})
