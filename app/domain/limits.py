"""A record's size caps: bytes of JSON and number of JSON values, so no record can cost unbounded memory."""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

import orjson

from app.settings import LimitsSettings

LimitError = tuple[str, str]  # (field path, message); "" is the record itself
_VOUCHED: ContextVar[bool] = ContextVar("records_vouched_within_caps", default=False)


class OversizedRecord(dict[str, Any]):
    """Stands in for a record found over the caps before it was rebuilt in this process (app.api.pieces): only its
    top-level scalar members, so a reader of, say, its tenantOrderRecordId still finds it, and why it is refused."""

    def __init__(self, scalars: dict[str, Any], errors: list[LimitError]) -> None:
        super().__init__(scalars)
        self.errors = errors


def compact_json(value: Any) -> bytes:
    """`value` as compact JSON (UTF-8, no whitespace), which app.api.jsonbody.parse_json reads back the same."""
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


def body_proves_caps(body_bytes: int, limits: LimitsSettings) -> bool:
    """No record read from a JSON text this long can be over the caps: every value but the last takes two bytes of
    it at least (itself and a separator or closing bracket), and compact JSON is at most 4.5 times as long as the
    text it was read from (strings and integers never grow; orjson writes the float 1e15 as 1000000000000000.0)."""
    return body_bytes + 1 <= 2 * limits.max_record_values and 9 * body_bytes <= 2 * limits.max_record_bytes


def vouch_within_caps() -> None:
    """Records checked from here on, in this task (an aiohttp request's handler runs in its own) or thread, are known
    to be within the caps: their body was too short to hold more, or each was measured in the helper process.
    Serializing each again to measure it would cost about 5 % of validating it."""
    _VOUCHED.set(True)


def record_limit_errors(raw: Any, limits: LimitsSettings) -> list[LimitError]:
    """Why `raw` (a record as sent) is over the caps, or nothing."""
    if isinstance(raw, OversizedRecord):
        return list(raw.errors)
    if _VOUCHED.get() or not isinstance(raw, dict | list):
        return []
    return measured_errors(raw, limits)
