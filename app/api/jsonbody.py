"""Strict JSON request bodies: UTF-8 only, no NaN or Infinity, no duplicate keys, integers kept exact."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

_LONE_SURROGATE_HINT = re.compile(rb"\\u[dD][89a-fA-F]")


class MalformedJson(ValueError):
    """The body is not a JSON text this service accepts; the message says why, without echoing it."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise MalformedJson(f"duplicate key {duplicate[:64]!r} in one object")
    return result


def _constant(name: str) -> Any:
    raise MalformedJson(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise MalformedJson(f"number {text[:32]} is out of range")
    return value


# The standard parser, not orjson: orjson keeps the last of duplicate keys and reads integers beyond 64 bits as
# floats, silently changing what the client sent. Both must be refused instead, and that needs these hooks.
_decoder = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_constant, parse_float=_finite)


def parse_json(body: bytes) -> Any:
    """The body's value, read by orjson when that is provably exact, else by the strict parser, which explains."""
    try:
        value = orjson.loads(body)
        # orjson alone would keep the last of duplicate keys and turn integers past 64 bits into floats. A body
        # that orjson writes back byte for byte has neither (a dropped duplicate or a float's text would differ),
        # nor anything else the strict parser refuses, and that parser reads it as the same value. Compact bodies,
        # as orjson, JSON.stringify and the backfill tool write them, take this path at a quarter of the cost.
        if orjson.dumps(value) == body:
            return value
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):  # including nesting past orjson's limits
        pass
    return _parse_strictly(body)


def _parse_strictly(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedJson(f"not UTF-8 (invalid byte at position {exc.start})") from None
    try:
        value = _decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise MalformedJson(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise MalformedJson("nested too deeply") from None
    except ValueError as exc:  # MalformedJson from a hook, or an integer too long to convert
        raise MalformedJson(str(exc) if isinstance(exc, MalformedJson) else "a number is too long") from None
    if _LONE_SURROGATE_HINT.search(body):
        try:  # escaped surrogate pairs are fine; a lone one is no character and cannot be stored or returned
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedJson("a string holds an unpaired UTF-16 surrogate escape") from None
    return value
