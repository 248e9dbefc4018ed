"""Opaque cursors: a position bound to the query, the sort and the resolved "now" of the first page."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

import orjson

from app.search.query import Position

VERSION = 1


class BadCursor(ValueError):
    """Garbled, or made for another query, sort or now."""


def binding(query: Any, sort: Any, now_ms: int) -> str:
    """A digest of the validated query and sort and the resolved now: what a cursor must be used with."""
    canonical = orjson.dumps([query, sort, now_ms], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()[:32]


def encode(position: Position, bound: str, now_ms: int) -> str:
    body = orjson.dumps({"v": VERSION, "b": bound, "n": now_ms, "k": position[0], "i": position[1]})
    return base64.urlsafe_b64encode(body).decode().rstrip("=")


def now_of(cursor: str) -> int:
    """The "now" a cursor was made with (checked against its binding by `decode`)."""
    return int(_fields(cursor)["n"])


def decode(cursor: str, bound: str) -> Position:
    fields = _fields(cursor)
    if fields["b"] != bound:
        raise BadCursor("made for another query, sort or time")
    return fields["k"], fields["i"]


def _fields(cursor: str) -> dict[str, Any]:
    try:
        fields = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise BadCursor("garbled") from None
    valid = (isinstance(fields, dict) and fields.get("v") == VERSION and isinstance(fields.get("b"), str)
             and isinstance(fields.get("n"), int) and not isinstance(fields.get("n"), bool)
             and isinstance(fields.get("i"), str) and len(fields["i"]) == 24
             and all(c in "0123456789abcdef" for c in fields["i"])
             and (fields.get("k") is None or isinstance(fields.get("k"), str | int | float)))
    if not valid or isinstance(fields.get("k"), bool):
        raise BadCursor("garbled")
    return fields
