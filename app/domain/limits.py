"""A record's size caps: bytes of JSON and number of JSON values, so no record can cost unbounded memory."""

from __future__ import annotations

import json
from typing import Any

import orjson

from app.settings import LimitsSettings

LimitError = tuple[str, str]  # (field path, message); "" is the record itself


class OversizedRecord(dict[str, Any]):
    """Stands in for a record found over the caps before it was rebuilt in this process (app.pieces): only its
    top-level scalar members, so a reader of, say, its tenantOrderRecordId still finds it, and why it is refused."""

    def __init__(self, scalars: dict[str, Any], errors: list[LimitError]) -> None:
        super().__init__(scalars)
        self.errors = errors


def compact_json(value: Any) -> bytes:
    """`value` as compact JSON (UTF-8, no whitespace), which app.jsonbody.parse_json reads back as the same value."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, which the strict parser keeps exact
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def count_values(value: Any, stop_after: int) -> int:
    """JSON values in `value`, itself included (keys are not values); stops counting once past `stop_after`."""
    count, pending = 0, [value]
    while pending and count <= stop_after:
        node = pending.pop()
        count += 1
        if isinstance(node, dict):
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return count


def limit_errors(size: int, values: int, limits: LimitsSettings) -> list[LimitError]:
    errors = []
    if size > limits.max_record_bytes:
        errors.append(("", f"The record is {size:,} bytes of JSON; at most {limits.max_record_bytes:,} are accepted."))
    if values > limits.max_record_values:
        errors.append(("", f"The record holds more than {limits.max_record_values:,} JSON values; at most "
                           f"{limits.max_record_values:,} are accepted."))
    return errors


def measured_errors(value: dict[str, Any] | list[Any], limits: LimitsSettings,
                    encoded: bytes | None = None) -> list[LimitError]:
    """Why `value` is over the caps, or nothing; `encoded` is its compact JSON when already at hand."""
    size = len(compact_json(value) if encoded is None else encoded)
    # Every value takes at least one byte of the JSON: a record of at most max_record_values bytes needs no count.
    values = count_values(value, limits.max_record_values) if size > limits.max_record_values else 0
    return limit_errors(size, values, limits)


def record_limit_errors(raw: Any, limits: LimitsSettings) -> list[LimitError]:
    """Why `raw` (a record as sent) is over the caps, or nothing."""
    if isinstance(raw, OversizedRecord):
        return list(raw.errors)
    return measured_errors(raw, limits) if isinstance(raw, dict | list) else []
