"""Price breakdown of a record, as REFERENCE.md defines it; plain functions over validated records."""

from __future__ import annotations

from typing import Any

from app.domain.money import INT64_MAX, INT64_MIN, rescale

Money = dict[str, Any]
NO_CURRENCY = "XXX"  # ISO 4217: "the codes assigned for transactions where no currency is involved"
Path = tuple[str | int, ...]


def monetary_values(record: dict[str, Any]) -> list[tuple[Path, Money]]:
    """Every MonetaryValue of a record with its path, for the one-currency rule (paths are joined only for errors)."""
    found: list[tuple[Path, Money]] = []
    for i, item in enumerate(record.get("lineItems", ())):
        if "price" in item:
            found.append((("lineItems", i, "price"), item["price"]))
        if "deposit" in item:
            found.append((("lineItems", i, "deposit"), item["deposit"]))
    for i, payment in enumerate(record.get("payments", ())):
        found.append((("payments", i, "amount"), payment["amount"]))
        if "refundedAmount" in payment:
            found.append((("payments", i, "refundedAmount"), payment["refundedAmount"]))
    pricing = record.get("pricing") or {}
    for group in ("discounts", "fees", "taxes"):
        found.extend((("pricing", group, i, "amount"), e["amount"]) for i, e in enumerate(pricing.get(group, ())))
    return found


def dotted(path: Path) -> str:
    return ".".join(map(str, path))


def price_breakdown(record: dict[str, Any]) -> dict[str, Money] | None:
    """subTotal, totalDiscounts, totalTaxes, totalFees, totalDeposit and total; None when no line item has a price
    or deposit and no pricing is given.

    Values with different decimalPlaces are summed at the largest precision among them, so nothing is rounded.
    """
    items = record.get("lineItems", ())
    pricing = record.get("pricing")
    contributing = [m for it in items for m in (it.get("price"), it.get("deposit")) if m]
    if not contributing and pricing is None:
        return None
    contributing += [e["amount"] for group in ("discounts", "fees", "taxes") for e in (pricing or {}).get(group, ())]
    # pricing given with no amount in it: the totals are zero, in the currency of the record's payments, or, with
    # no amount anywhere in the record, in ISO 4217's code for "no currency involved"
    reference = contributing or [m for _, m in monetary_values(record)]
    currency = reference[0]["currency"] if reference else NO_CURRENCY
    places = max(m["decimalPlaces"] for m in reference) if reference else 0

    def scaled(m: Money) -> int:
        return rescale(m["value"], m["decimalPlaces"], places)

    sub_total = sum(it["quantity"] * scaled(it["price"]) for it in items if "price" in it)
    deposit = sum(it["quantity"] * scaled(it["deposit"]) for it in items if "deposit" in it)
    pricing = pricing or {}
    discounts = sum(scaled(d["amount"]) for d in pricing.get("discounts", ()))
    fees = sum(scaled(f["amount"]) for f in pricing.get("fees", ()))
    taxes = pricing.get("taxes", ())
    total_taxes = sum(scaled(t["amount"]) for t in taxes)
    added_taxes = sum(scaled(t["amount"]) for t in taxes if not t.get("includedInPrice", True))
    totals = {
        "subTotal": sub_total,
        "totalDiscounts": discounts,
        "totalTaxes": total_taxes,
        "totalFees": fees,
        "totalDeposit": deposit,
        "total": sub_total - discounts + fees + deposit + added_taxes,
    }
    return {k: {"value": v, "currency": currency, "decimalPlaces": places} for k, v in totals.items()}


def out_of_range(breakdown: dict[str, Money]) -> list[str]:
    """Names of totals that do not fit a signed 64-bit integer (what every store can hold)."""
    return [k for k, m in breakdown.items() if not INT64_MIN <= m["value"] <= INT64_MAX]
