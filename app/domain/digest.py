"""Content digests of a validated record: how a resend is known to be UNCHANGED (computed only then, never stored)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from app.domain.gdpr import anonymized_input


@dataclass(frozen=True)
class Digests:
    """`content` covers the whole input (None for an anonymized record); `kept` covers what anonymization keeps."""

    content: str | None
    kept: str


def record_digests(data: dict[str, Any], anonymized: bool) -> Digests:
    """The digests of a validated record (defaults filled in), compared by value: key order ignored, numbers by
    value (1 = 1.0), date-times by instant. An anonymized record has no content digest."""
    # Anonymization and normalization touch disjoint fields (consumer and origin.cashierId; dates and numbers), so
    # normalizing what anonymization keeps is keeping what anonymization leaves of the normal form.
    kept_view = anonymized_input(data)
    undo: list[tuple[Any, Any, Any]] = []
    try:
        _normalize(kept_view, undo)
        kept_hash = hashlib.blake2b(_canonical(kept_view), digest_size=16)
    finally:
        for container, key, value in reversed(undo):
            container[key] = value
    kept = kept_hash.hexdigest()
    if anonymized:
        return Digests(None, kept)
    if kept_view is data:
        return Digests(kept, kept)
    # The whole input is what anonymization keeps plus what it removes: hashing the two serializations together
    # spares a second serialization of the whole record, and continuing the kept hash a second hashing of it.
    removed = {"consumer": data.get("consumer"), "cashierId": (data.get("origin") or {}).get("cashierId")}
    kept_hash.update(b"\n" + _canonical(removed))
    return Digests(kept_hash.hexdigest(), kept)


def same_content(new: Digests, stored: Digests) -> bool:
    """Whether a resent record equals the stored one; on the kept fields alone once either is anonymized."""
    if new.content is not None and stored.content is not None:
        return new.content == stored.content
    return new.kept == stored.kept


def same_input(new: dict[str, Any], new_anonymized: bool, stored: dict[str, Any], stored_anonymized: bool) -> bool:
    """Whether two validated inputs (records.client_input) are the same content, as same_content judges their
    digests: on what anonymization keeps once either is anonymized."""
    if new_anonymized or stored_anonymized:
        new, stored, new_anonymized, stored_anonymized = anonymized_input(new), anonymized_input(stored), True, True
    # The same canonical JSON is the same normal form: a resend of the very input (the usual one) is known without
    # normalizing and hashing both, which costs twice as much.
    if _canonical(new) == _canonical(stored):
        return True
    return same_content(record_digests(new, new_anonymized), record_digests(stored, stored_anonymized))


def _canonical(value: Any) -> bytes:
    # Sorted keys over values with one form each: in effect RFC 8785's canonical JSON for this data, but exact for
    # integers beyond 2**53 (RFC 8785 goes through IEEE doubles).
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


@lru_cache(maxsize=4096)  # a backfill repeats the same dates (warranty starts, return windows) endlessly
def _instant(text: str) -> datetime | None:
    """The date-time as a UTC datetime, which orjson writes as datetime.isoformat() does; None when `text` is that
    form already."""
    instant = datetime.fromisoformat(text).astimezone(UTC)
    return None if text.endswith("+00:00") and instant.isoformat() == text else instant


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


# The normal form is written over the record in place, each value replaced recorded in `undo` for the caller to put
# back once it is serialized: a few values of a record need rewriting (date-times not in UTC, integral floats), and
# copying every dict on the way to them cost more than serializing the record.


def _normalize(record: dict[str, Any], undo: list[tuple[Any, Any, Any]]) -> None:
    """Rewrites the record's date-times as UTC instants and its integral floats (quantity, discount percentage,
    tax rate, anything in customAttributes) as integers, in place."""
    _set_instant(record, "orderRecordDate", undo)
    for item in record["lineItems"]:
        quantity = item["quantity"]
        if isinstance(quantity, float) and (number := _number(quantity)) is not quantity:
            undo.append((item, "quantity", quantity))
            item["quantity"] = number
        warranty = item.get("warranty")
        if warranty and "warrantyStartDate" in warranty:
            _set_instant(warranty, "warrantyStartDate", undo)
        policy = item.get("returnPolicy")
        if policy and "returnWindowEndDate" in policy:
            _set_instant(policy, "returnWindowEndDate", undo)
        if item.get("customAttributes"):
            _free_form(item, "customAttributes", undo)
    if record.get("customAttributes"):
        _free_form(record, "customAttributes", undo)
    pricing = record.get("pricing")
    if pricing:
        for group, key in (("discounts", "percentage"), ("taxes", "ratePercent")):
            if group in pricing:
                for entry in pricing[group]:
                    value = entry.get(key)
                    if isinstance(value, float) and (number := _number(value)) is not value:
                        undo.append((entry, key, value))
                        entry[key] = number


def _set_instant(container: dict[str, Any], key: str, undo: list[tuple[Any, Any, Any]]) -> None:
    text = container[key]
    if (instant := _instant(text)) is not None:
        undo.append((container, key, text))
        container[key] = instant


def _free_form(container: dict[str, Any] | list[Any], key: Any, undo: list[tuple[Any, Any, Any]]) -> None:
    """container[key] with every integral float in it, however deep, an integer."""
    node = container[key]
    if isinstance(node, float):
        if (number := _number(node)) is not node:
            undo.append((container, key, node))
            container[key] = number
    elif isinstance(node, dict):
        for inner, value in node.items():  # values replaced, never keys: the iteration stays valid
            if isinstance(value, float | dict | list):
                _free_form(node, inner, undo)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, float | dict | list):
                _free_form(node, i, undo)
