"""The JSON body parser: its orjson fast path reads exactly what the strict parser reads, and refuses the same."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.api import jsonbody
from app.api.jsonbody import MalformedJson, parse_json

# Compact texts: the form the fast path takes. Each one is something orjson would read differently.
REFUSED_COMPACT = {
    "duplicate key": b'{"a":1,"a":2}',
    "nested duplicate key": b'{"operations":[{"facilityRef":"a","facilityRef":"b"}]}',
    "duplicate key, same value": b'{"a":1,"a":1}',
    "NaN": b"[NaN]",
    "overflowing float": b"[1e999]",
    "lone surrogate": b'["\\ud800"]',
    "BOM": b'\xef\xbb\xbf{"a":1}',
    "not UTF-8": b'["\xff"]',
}


@pytest.mark.parametrize("name", sorted(REFUSED_COMPACT))
def test_compact_bodies_are_refused_like_any_other(name: str) -> None:
    with pytest.raises(MalformedJson):
        parse_json(REFUSED_COMPACT[name])


@pytest.mark.parametrize(("body", "expected"), [
    (b"[18446744073709551616]", [2**64]),  # orjson alone: 1.8446744073709552e19
    (b"[-9223372036854775809]", [-(2**63) - 1]),
    (b"[" + b"9" * 400 + b"]", [int("9" * 400)]),
    (b"[-0]", [0]),
    (b'{"a":1.50}', {"a": 1.5}),
])
def test_numbers_stay_exact(body: bytes, expected: Any) -> None:
    value = parse_json(body)
    assert value == expected
    assert [type(v) for v in _leaves(value)] == [type(v) for v in _leaves(expected)]


def test_compact_bodies_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    body = orjson.dumps({"operations": [{"facilityRef": "é\n\u2028", "n": [1, -2.5, True, None, {}]}]})

    def refuse(_: bytes) -> Any:
        raise AssertionError("the strict parser was used")

    monkeypatch.setattr(jsonbody, "_parse_strictly", refuse)
    assert parse_json(body) == orjson.loads(body)


def test_other_layouts_take_the_strict_path() -> None:
    assert parse_json(b'{ "a" : [1, 2] }\n') == {"a": [1, 2]}
    with pytest.raises(MalformedJson, match="duplicate key 'a'"):
        parse_json(b'{"a": 1, "a": 2}')


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _compact(node: Any) -> str:
    """JSON text written by hand, so objects may repeat keys: ("obj", [(key, value), ...])."""
    if isinstance(node, tuple):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _compact(v) for k, v in node[1]) + "}"
    if isinstance(node, list):
        return "[" + ",".join(_compact(v) for v in node) + "]"
    if isinstance(node, float):
        return orjson.dumps(node).decode()
    return json.dumps(node, ensure_ascii=False)


KEYS = st.sampled_from(["a", "b", "é", "a\nb", ""])
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5))
NODES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                     | st.lists(st.tuples(KEYS, inner), max_size=4).map(lambda pairs: ("obj", pairs)), max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(NODES)
def test_the_fast_path_agrees_with_the_strict_parser(node: Any) -> None:
    body = _compact(node).encode()
    try:
        expected = jsonbody._parse_strictly(body)
    except MalformedJson:
        with pytest.raises(MalformedJson):
            parse_json(body)
        return
    assert _same(parse_json(body), expected)
