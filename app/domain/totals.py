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
from decimal import Decimal
from functools import lru_cache
from typing import Any

from app.domain.currencies import INT64_MAX, INT64_MIN, is_official, minor_unit

Ratio = tuple[int, int]  # n / d exactly, d > 0

_INTEGER = re.compile(r"-?[0-9]{1,19}")
_PERCENTAGE = re.compile(r"([0-9]{1,3})(?:\.([0-9]{1,18}))?")
_BREAKDOWN = "pricing.total.priceBreakdown"
_POW10 = tuple(10**k for k in range(32))
_INTEGER_RULE = "Must be an integer string (minor units) within 64 bits."


class TotalsError(Exception):
    """A pricing attribute that does not parse, or a total beyond 64 bits: (dotted path, rule broken) each."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {rule}" for path, rule in errors))
        self.errors = errors


def _integer(text: str) -> int | None:
    # Up to 18 ASCII digits always fit 64 bits: the common case needs neither the pattern nor the range check.
    if len(text) < 19 and text.isdigit() and text.isascii():
        return int(text)
    if _INTEGER.fullmatch(text) and INT64_MIN <= (number := int(text)) <= INT64_MAX:
        return number
    return None


def _places(text: str) -> int | None:
    return int(text) if len(text) == 1 and "0" <= text <= "8" else None


def _percentage(text: str) -> Ratio | None:
    if not (match := _PERCENTAGE.fullmatch(text)):
        return None
    whole, fraction = match.group(1), match.group(2) or ""
    ratio = (int(whole + fraction), 10 ** len(fraction))
    return ratio if ratio[0] <= 100 * ratio[1] else None


# The attributes read, by category and key: a small code for the branch that reads each, and the rule a value that
# does not parse breaks.
_UNIT, _CURRENCY, _PLACES, _DISCOUNT, _PERCENT, _TAX, _SURCHARGE = range(7)
_READ: dict[str, dict[str, tuple[int, str]]] = {
    "basePrice": {"value": (_UNIT, _INTEGER_RULE), "currency": (_CURRENCY, "Must be an official currency code."),
                  "decimalPlaces": (_PLACES, "Must be an integer string from 0 to 8.")},
    "discount": {"value": (_DISCOUNT, _INTEGER_RULE),
                 "percentage": (_PERCENT, "Must be a decimal string from 0 to 100.")},
    "tax": {"value": (_TAX, _INTEGER_RULE)},
    "surcharge": {"value": (_SURCHARGE, _INTEGER_RULE)},
}

# A priced line: quantity (n, d), unit price, currency or None, decimal places or None, the sum of its discount
# values (None without any), its discount percentages, the sums of its tax and of its surcharge values.
_Line = tuple[int, int, int, str | None, int | None, int | None, list[Ratio], int, int]


def _ratio(number: int | float) -> Ratio:
    return (number, 1) if isinstance(number, int) else _float_ratio(number)


@lru_cache(maxsize=1024)  # a handful of quantities (1.5 kg...) and percentages recur in every batch
def _float_ratio(number: float) -> Ratio:
    return Decimal(str(number)).as_integer_ratio()


def _round(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half to even (denominator > 0)."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    return quotient + (twice > denominator or (twice == denominator and quotient & 1))


def _percent_of(amount: int, percentage: Ratio) -> int:
    return _round(amount * percentage[0], 100 * percentage[1])


def _parse_line(i: int, item: dict[str, Any], errors: list[tuple[str, str]]) -> _Line | None:
    """The line's prices read from its attributes; None for a free item (no basePrice value)."""
    quantity = item["quantity"]
    n, d = (quantity, 1) if isinstance(quantity, int) else _float_ratio(quantity)
    unit = currency = places = discounts = None
    percentages: list[Ratio] = []
    taxes = surcharges = 0
    for j, attribute in enumerate(item["article"]["attributes"]):
        keys = _READ.get(attribute.get("category"))
        if keys is None or (read := keys.get(attribute["key"])) is None:
            continue
        kind = read[0]
        text = attribute["value"]
        if not isinstance(text, str):
            parsed: Any = None
        elif kind == _CURRENCY:
            parsed = text if is_official(text) else None
        elif kind == _PLACES:
            parsed = _places(text)
        elif kind == _PERCENT:
            parsed = _percentage(text)
        else:
            parsed = _integer(text)
        if parsed is None:
            errors.append((f"lineItems.{i}.article.attributes.{j}.value", read[1]))
        elif kind == _UNIT:
            if unit is None:
                unit = parsed
            elif unit != parsed:
                errors.append(_conflict(i, j, attribute))
        elif kind == _CURRENCY:
            if currency is None:
                currency = parsed
            elif currency != parsed:
                errors.append(_conflict(i, j, attribute))
        elif kind == _PLACES:
            if places is None:
                places = parsed
            elif places != parsed:
                errors.append(_conflict(i, j, attribute))
        elif kind == _DISCOUNT:
            discounts = parsed if discounts is None else discounts + parsed
        elif kind == _TAX:
            taxes += parsed
        elif kind == _SURCHARGE:
            surcharges += parsed
        else:
            percentages.append(parsed)
    if unit is None:  # a free item: nothing of it is priced
        return None
    return n, d, unit, currency, places, discounts, percentages, taxes, surcharges


def _conflict(i: int, j: int, attribute: dict[str, Any]) -> tuple[str, str]:
    return (f"lineItems.{i}.article.attributes.{j}.value",
            f"Conflicts with an earlier basePrice {attribute['key']} of this line.")


def _null() -> dict[str, Any]:
    return {"subTotal": None, "totalDiscounts": {"value": None, "breakdown": {"lineItemDiscounts": None,
            "orderDiscounts": None}}, "totalLineItemSurcharges": None, "totalTaxes": None, "totalFees": None,
            "total": None}


def _scale(shift: int) -> int:
    return _POW10[shift] if 0 <= shift < len(_POW10) else 10**shift


def price_breakdown(record: dict[str, Any]) -> dict[str, Any]:
    """The OrderRecordTotals of a record (all keys always; null amounts when none or mixed currencies).

    Raises TotalsError listing every pricing attribute that does not parse, or every total beyond 64 bits.
    """
    errors: list[tuple[str, str]] = []
    lines = [line for i, item in enumerate(record["lineItems"]) if (line := _parse_line(i, item, errors))]
    if errors:
        raise TotalsError(errors)
    pricing = record.get("pricing") or {}
    order_discounts = pricing.get("discounts") or ()
    fees = [f["value"] for f in pricing.get("fees") or () if "value" in f]
    order_taxes = [t["value"] for t in pricing.get("taxes") or ()]
    order_amounts = [d["value"] for d in order_discounts if "value" in d] + fees + order_taxes
    currencies = {line[3] for line in lines}
    currencies.discard(None)
    currencies.update([m["currency"] for m in order_amounts])
    if len(currencies) != 1:
        return _null()
    (currency,) = currencies
    default_places = minor_unit(currency)
    places = max([default_places if line[4] is None else line[4] for line in lines]
                 + [m["decimalPlaces"] for m in order_amounts])

    sub_total = line_discounts = surcharges = line_taxes = 0
    for n, d, unit, _, line_places, discounts, percentages, taxes, line_surcharges in lines:
        scale = _scale(places - (default_places if line_places is None else line_places))
        subtotal = n * unit * scale if d == 1 else _round(n * unit * scale, d)
        sub_total += subtotal
        if discounts is not None:
            line_discounts += discounts * scale
        elif percentages:
            line_discounts += sum(_percent_of(subtotal, p) for p in percentages)
        surcharges += line_surcharges * scale
        line_taxes += taxes * scale
    base = sub_total - line_discounts + surcharges
    discounts = 0
    for entry in order_discounts:
        if "value" in entry:
            money = entry["value"]
            discounts += money["value"] * _scale(places - money["decimalPlaces"])
        elif "percentage" in entry:
            discounts += _percent_of(base, _ratio(entry["percentage"]))
    total_fees = sum(m["value"] * _scale(places - m["decimalPlaces"]) for m in fees)
    taxes = sum(m["value"] * _scale(places - m["decimalPlaces"]) for m in order_taxes) if order_taxes else line_taxes
    total = sub_total - line_discounts - discounts + surcharges + total_fees
    amounts = (sub_total, line_discounts + discounts, line_discounts, discounts, surcharges, taxes, total_fees, total)
    if min(amounts) < INT64_MIN or max(amounts) > INT64_MAX:
        names = ("subTotal", "totalDiscounts.value", "totalDiscounts.breakdown.lineItemDiscounts",
                 "totalDiscounts.breakdown.orderDiscounts", "totalLineItemSurcharges", "totalTaxes", "totalFees",
                 "total")
        raise TotalsError([(f"{_BREAKDOWN}.{name}.value", "Does not fit in a 64-bit integer.")
                           for name, value in zip(names, amounts, strict=True)
                           if not INT64_MIN <= value <= INT64_MAX])
    unit_of = {"currency": currency, "decimalPlaces": places}
    return {"subTotal": {"value": sub_total, **unit_of},
            "totalDiscounts": {"value": {"value": line_discounts + discounts, **unit_of},
                               "breakdown": {"lineItemDiscounts": {"value": line_discounts, **unit_of},
                                             "orderDiscounts": {"value": discounts, **unit_of}}},
            "totalLineItemSurcharges": {"value": surcharges, **unit_of}, "totalTaxes": {"value": taxes, **unit_of},
            "totalFees": {"value": total_fees, **unit_of}, "total": {"value": total, **unit_of}}
