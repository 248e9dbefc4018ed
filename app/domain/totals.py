"""Placeholder until the totals module lands."""

from __future__ import annotations

from typing import Any


class TotalsError(Exception):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def price_breakdown(record: dict[str, Any]) -> dict[str, Any]:
    return {"subTotal": None, "totalDiscounts": {"value": None, "breakdown": {"lineItemDiscounts": None,
            "orderDiscounts": None}}, "totalLineItemSurcharges": None, "totalTaxes": None, "totalFees": None,
            "total": None}
