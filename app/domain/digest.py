"""Content digests of a validated record: how a resend is known to be UNCHANGED, without keeping its data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from app.domain.gdpr import anonymized_input

# The key under which a built record carries its Digests to the store, which keeps them beside it, never served.
DIGESTS = "_digests"


@dataclass(frozen=True)
class Digests:
    """`content` covers the whole input and is dropped at anonymization; `kept` covers what anonymization keeps."""

    content: str | None
    kept: str


def record_digests(data: dict[str, Any], anonymized: bool) -> Digests:
    """The digests of a validated record (defaults filled in), compared by value: key order ignored, numbers by
    value (1 = 1.0), date-times by instant. A record stored anonymized has no content digest."""
    normal = _normalized(data)
    kept_view = anonymized_input(normal)
    kept_bytes = _canonical(kept_view)
    kept = _hash(kept_bytes)
    if anonymized:
        return Digests(None, kept)
    if kept_view is normal:
        return Digests(kept, kept)
    # The whole input is what anonymization keeps plus what it removes: hashing the two serializations together
    # spares a second serialization of the whole record.
    removed = {"consumer": normal.get("consumer"), "cashierId": (normal.get("origin") or {}).get("cashierId")}
    return Digests(_hash(kept_bytes + b"\n" + _canonical(removed)), kept)


def same_content(new: Digests, stored: Digests) -> bool:
    """Whether a resent record equals the stored one; on the kept fields alone once either is anonymized."""
    if new.content is not None and stored.content is not None:
        return new.content == stored.content
    return new.kept == stored.kept


def _canonical(value: Any) -> bytes:
    # Sorted keys over values with one form each: in effect RFC 8785's canonical JSON for this data, but exact for
    # integers beyond 2**53 (RFC 8785 goes through IEEE doubles).
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@lru_cache(maxsize=4096)  # a backfill repeats the same dates (warranty starts, return windows) endlessly
def _instant(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(UTC).isoformat()


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def _free_form(node: Any) -> Any:
    """customAttributes with integral floats as integers; the same object when nothing changes."""
    if isinstance(node, float):
        return _number(node)
    if isinstance(node, dict):
        changed = {k: _free_form(v) for k, v in node.items()}
        return changed if any(changed[k] is not node[k] for k in node) else node
    if isinstance(node, list):
        items = [_free_form(v) for v in node]
        return items if any(a is not b for a, b in zip(items, node, strict=True)) else node
    return node


def _normalized(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    out["orderRecordDate"] = _instant(data["orderRecordDate"])
    out["lineItems"] = [_line(item) for item in data["lineItems"]]
    if data.get("customAttributes"):
        out["customAttributes"] = _free_form(data["customAttributes"])
    pricing = data.get("pricing")
    if pricing:
        out["pricing"] = {**pricing, **{group: [_numbers(e, key) for e in pricing[group]] for group, key in
                                        (("discounts", "percentage"), ("taxes", "ratePercent")) if group in pricing}}
    return out


def _numbers(entry: dict[str, Any], key: str) -> dict[str, Any]:
    return {**entry, key: _number(entry[key])} if isinstance(entry.get(key), float) else entry


def _line(item: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if isinstance(item["quantity"], float):
        changes["quantity"] = _number(item["quantity"])
    for name, date in (("warranty", "warrantyStartDate"), ("returnPolicy", "returnWindowEndDate")):
        part = item.get(name)
        if part and date in part:
            changes[name] = {**part, date: _instant(part[date])}
    if item.get("customAttributes"):
        changes["customAttributes"] = _free_form(item["customAttributes"])
    return {**item, **changes} if changes else item
