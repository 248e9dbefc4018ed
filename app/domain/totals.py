"""The price breakdown of an order record (`pricing.total.priceBreakdown`, OrderRecordTotals), per REFERENCE.md.

Input: a schema-valid record in the OrderRecordForCreation shape, every MonetaryValue with `decimalPlaces` filled
and `article.attributes` present. What the rules leave open, decided here:
- A line's prices are read from its attributes by (category, key): `basePrice` `value`/`currency`/`decimalPlaces`,
  `discount` `value`/`percentage`, `tax` `value`, `surcharge` `value`. Any other key (a tax's `percentage`, a
  `currency` on a discount...) is kept as an attribute and not read: line amounts are in the base price's currency
  and decimal places. A line without a basePrice `value` contributes nothing, but its pricing attributes must
  still parse.
- Values parse strictly: `value` an ASCII integer string (a leading `-` allowed, e.g. a returned item) within 64
  bits; `currency` one of the official codes, exact; `decimalPlaces` an integer 0–8; `percentage` a plain decimal
  0–100 (`10`, `12.5`). The same basePrice key given twice with different values is an error; a line's several
  discount, tax or surcharge values are summed.
- A basePrice without `currency` is in the record's currency: the one currency of the other amounts feeding the
  totals; with none, the currency is unknown and every total is null (as for mixed currencies). A basePrice without
  `decimalPlaces` has the currency's ISO 4217 minor unit.
- Discount `value` wins over `percentage`, at line and order level; several line percentages each apply to the
  line subtotal. An order discount is read by its fields, not its free-text `type`: with a `value` it is absolute
  (e.g. the official example's COUPON), else with a `percentage` a percentage, else nothing. A fee without `value`
  adds nothing.
- Everything is computed in integers at P, the largest decimalPlaces among the amounts feeding the totals (every
  amount is rescaled to P exactly); each computed amount (quantity x unit price, a percentage) rounds half to even
  at P, exactly as rationals (a Decimal context would round 30-digit products). Every total has decimalPlaces P.
- Intermediate amounts are unbounded; each attribute integer and each total (and breakdown part) must fit 64
  bits, a total's error path being under `pricing.total.priceBreakdown`.
- Payments are never read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.domain.currencies import INT64_MAX, INT64_MIN, is_official, minor_unit

Money = dict[str, Any]
Ratio = tuple[int, int]  # n / d exactly, d > 0

_INTEGER = re.compile(r"-?[0-9]{1,19}")
_PERCENTAGE = re.compile(r"([0-9]{1,3})(?:\.([0-9]{1,18}))?")
_BREAKDOWN = "pricing.total.priceBreakdown"


class TotalsError(Exception):
    """A pricing attribute that does not parse, or a total beyond 64 bits: (dotted path, rule broken) each."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {rule}" for path, rule in errors))
        self.errors = errors


def _integer(text: str) -> int | None:
    if _INTEGER.fullmatch(text) and INT64_MIN <= (number := int(text)) <= INT64_MAX:
        return number
    return None


def _currency(text: str) -> str | None:
    return text if is_official(text) else None


def _places(text: str) -> int | None:
    return int(text) if len(text) == 1 and "0" <= text <= "8" else None


def _percentage(text: str) -> Ratio | None:
    if not (match := _PERCENTAGE.fullmatch(text)):
        return None
    whole, fraction = match.group(1), match.group(2) or ""
    ratio = (int(whole + fraction), 10 ** len(fraction))
    return ratio if ratio[0] <= 100 * ratio[1] else None


# (category, key) -> parser, the slot of _Line it fills, the rule a value that does not parse breaks
_READ: dict[tuple[str, str], tuple[Callable[[str], Any], str, str]] = {
    ("basePrice", "value"): (_integer, "unit", "Must be an integer string (minor units) within 64 bits."),
    ("basePrice", "currency"): (_currency, "currency", "Must be an official currency code."),
    ("basePrice", "decimalPlaces"): (_places, "places", "Must be an integer string from 0 to 8."),
    ("discount", "value"): (_integer, "discounts", "Must be an integer string (minor units) within 64 bits."),
    ("discount", "percentage"): (_percentage, "percentages", "Must be a decimal string from 0 to 100."),
    ("tax", "value"): (_integer, "taxes", "Must be an integer string (minor units) within 64 bits."),
    ("surcharge", "value"): (_integer, "surcharges", "Must be an integer string (minor units) within 64 bits."),
}
_SINGLE = frozenset({"unit", "currency", "places"})
_CATEGORIES = frozenset(category for category, _ in _READ)


@dataclass(slots=True)
class _Line:
    quantity: Ratio
    unit: int | None = None
    currency: str | None = None
    places: int | None = None
    discounts: list[int] = field(default_factory=list)
    percentages: list[Ratio] = field(default_factory=list)
    taxes: list[int] = field(default_factory=list)
    surcharges: list[int] = field(default_factory=list)


def _ratio(number: int | float) -> Ratio:
    return (number, 1) if isinstance(number, int) else Decimal(str(number)).as_integer_ratio()


def _round(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half to even (denominator > 0)."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    return quotient + (twice > denominator or (twice == denominator and quotient & 1))


def _percent_of(amount: int, percentage: Ratio) -> int:
    return _round(amount * percentage[0], 100 * percentage[1])


def _parse_lines(record: dict[str, Any], errors: list[tuple[str, str]]) -> list[_Line]:
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
        if line.unit is not None:  # else a free item: nothing of it is priced
            lines.append(line)
    return lines


def _null() -> dict[str, Any]:
    return {"subTotal": None, "totalDiscounts": {"value": None, "breakdown": {"lineItemDiscounts": None,
            "orderDiscounts": None}}, "totalLineItemSurcharges": None, "totalTaxes": None, "totalFees": None,
            "total": None}


def price_breakdown(record: dict[str, Any]) -> dict[str, Any]:
    """The OrderRecordTotals of a record (all keys always; null amounts when none or mixed currencies).

    Raises TotalsError listing every pricing attribute that does not parse, or every total beyond 64 bits.
    """
    errors: list[tuple[str, str]] = []
    lines = _parse_lines(record, errors)
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
        return _null()
    (currency,) = currencies
    default_places = minor_unit(currency)
    priced = [(line, line.unit or 0, default_places if line.places is None else line.places) for line in lines]
    places = max([p for _, _, p in priced] + [m["decimalPlaces"] for m in order_amounts])

    def scaled(money: Money) -> int:
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

    def money(value: int) -> Money:
        return {"value": value, "currency": currency, "decimalPlaces": places}

    return {"subTotal": money(sub_total),
            "totalDiscounts": {"value": money(line_discounts + discounts),
                               "breakdown": {"lineItemDiscounts": money(line_discounts),
                                             "orderDiscounts": money(discounts)}},
            "totalLineItemSurcharges": money(surcharges), "totalTaxes": money(taxes), "totalFees": money(total_fees),
            "total": money(total)}
