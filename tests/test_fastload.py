"""The compiled fast path agrees with marshmallow: same result on valid input, and never accepts what it refuses."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from app.schemas.fastload import FastLoader, Invalid, compile_schema
from app.schemas.records import OrderRecordForCreation
from app.schemas.types import OffsetDateTime, StrictBoolean, StrictInteger
from tests.factories import full_record, minimal_record
from tests.test_schemas import DATE_TIMES_ACCEPTED, DATE_TIMES_REFUSED

SCHEMA = OrderRecordForCreation()
FAST = compile_schema(SCHEMA)


def test_valid_records_load_identically_on_the_fast_path() -> None:
    for record in (full_record(), minimal_record(), full_record(customAttributes=None)):
        given = copy.deepcopy(record)
        fast = FAST(given)
        assert fast == SCHEMA.load(copy.deepcopy(record))
        assert fast is given and given == record  # nothing to fill or convert: the input itself, untouched


def test_defaults_are_filled_like_marshmallow_without_touching_the_input() -> None:
    record = full_record()
    del record["origin"]["type"]
    del record["lineItems"][1]["article"]["attributes"]
    given = copy.deepcopy(record)
    fast = FAST(given)
    assert fast == SCHEMA.load(record)
    assert fast["origin"]["type"] == "POS"
    assert fast["lineItems"][1]["article"]["attributes"] == []
    assert given == record  # copied on write: marshmallow may still read the input after a later refusal
    assert fast["lineItems"] is not given["lineItems"] and fast["lineItems"][0] is given["lineItems"][0]
    assert fast["consumer"] is given["consumer"]


def test_a_refusal_after_a_filled_default_leaves_the_input_as_sent() -> None:
    record = full_record()
    del record["lineItems"][0]["article"]["attributes"]
    record["lineItems"][1]["quantity"] = 0
    given = copy.deepcopy(record)
    with pytest.raises(Invalid):
        FAST(given)
    assert given == record


@pytest.mark.parametrize("quantity", [1, 1.0, 2.5, 2**31 - 1, 1e6])
def test_quantity_is_kept_as_sent_on_the_fast_path(quantity: float) -> None:
    record = full_record()
    record["lineItems"][0]["quantity"] = quantity
    loaded = FastLoader(SCHEMA).load(copy.deepcopy(record))["lineItems"][0]["quantity"]
    assert loaded == quantity and type(loaded) is type(quantity)


@pytest.mark.parametrize("mutate", [
    lambda r: r.update(unknown=1),
    lambda r: r.pop("facilityRef"),
    lambda r: r.update(facilityRef=None),
    lambda r: r.update(consumer=None),
    lambda r: r["lineItems"][0].update(id="x"),
    lambda r: r["pricing"].update(total={}),
    lambda r: r.update(facilityRef=""),
    lambda r: r["lineItems"][0].update(quantity=0),
    lambda r: r["lineItems"][0].update(quantity=0.5),
    lambda r: r["lineItems"][0].update(quantity=True),
    lambda r: r["lineItems"][0].update(quantity="2"),
    lambda r: r["lineItems"][0].update(quantity=float("nan")),
    lambda r: r["lineItems"][0].update(quantity=float("inf")),
    lambda r: r["lineItems"][0].update(quantity=2**63),
    lambda r: r["pricing"]["taxes"][0].update(ratePercent=-(2**63) - 1),
    lambda r: r["pricing"]["taxes"][0].update(ratePercent=float("-inf")),
    lambda r: r["pricing"]["taxes"][0].update(ratePercent=False),
    lambda r: r["payments"][0]["value"].update(currency="XYZ"),
    lambda r: r["payments"][0]["value"].update(decimalPlaces=9),
    lambda r: r["origin"].update(type="ONLINE"),
    lambda r: r["origin"].update(type=None),
    lambda r: r["lineItems"][0]["article"].update(attributes=None),
    lambda r: r["pricing"]["discounts"][0].update(percentage=101),
    lambda r: r.update(orderRecordDate="2026-11-01T10:15:00"),
    lambda r: r["lineItems"][0]["warranty"].update(warrantyPeriod="2 years"),
    lambda r: r["lineItems"][0]["warranty"].update(warrantyPeriod="P2Y\n"),
    lambda r: r.update(customAttributes={"$where": "1"}),
    lambda r: r.update(lineItems=[]),
    lambda r: r.update(payments=None),
])
def test_invalid_records_leave_the_fast_path(mutate: Any) -> None:
    record = full_record()
    mutate(record)
    with pytest.raises(Invalid):
        FAST(record)
    with pytest.raises(ValidationError):
        FastLoader(SCHEMA).load(record)


@pytest.mark.parametrize(("given", "stored"), DATE_TIMES_ACCEPTED, ids=[c[0] for c in DATE_TIMES_ACCEPTED])
def test_date_times_are_normalized_alike_on_the_fast_path(given: str, stored: str) -> None:
    record = full_record(orderRecordDate=given)
    record["lineItems"][0]["warranty"]["warrantyStartDate"] = given
    fast = FAST(copy.deepcopy(record))
    assert fast == SCHEMA.load(copy.deepcopy(record))
    assert fast["orderRecordDate"] == fast["lineItems"][0]["warranty"]["warrantyStartDate"] == stored


@pytest.mark.parametrize(("given", "message"), DATE_TIMES_REFUSED, ids=[repr(c[0]) for c in DATE_TIMES_REFUSED])
def test_refused_date_times_leave_the_fast_path(given: Any, message: str) -> None:
    record = full_record(orderRecordDate=given)
    with pytest.raises(Invalid):
        FAST(copy.deepcopy(record))
    with pytest.raises(ValidationError) as info:
        FastLoader(SCHEMA).load(record)
    assert info.value.messages == {"orderRecordDate": [message]}


def test_schemas_with_hooks_always_defer_to_marshmallow() -> None:
    class Hooked(Schema):
        name = fields.String(validate=validate.Length(1, 5))

        @post_load
        def upper(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
            return {"name": data["name"].upper()}

    loader = FastLoader(Hooked())
    assert loader.load({"name": "abc"}) == {"name": "ABC"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            found += _paths(child, (*prefix, i))
    return found


BASE = full_record()
PATHS = _paths(BASE)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PATHS), json_values, st.sampled_from(["replace", "delete", "add"]))
def test_fast_path_never_accepts_what_marshmallow_refuses(path: tuple[Any, ...], value: Any, how: str) -> None:
    record = copy.deepcopy(BASE)
    parent = record
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "replace":
        parent[last] = value
    elif how == "delete" and isinstance(parent, dict):
        del parent[last]
    elif isinstance(parent, dict):
        parent[f"{last}_extra"] = value
    else:
        parent.append(value)
    try:
        slow = SCHEMA.load(copy.deepcopy(record))
    except ValidationError:
        with pytest.raises(Invalid):
            FAST(record)
        return
    sent = copy.deepcopy(record)
    try:
        fast = FAST(record)
    except Invalid:
        return  # deferring is always allowed
    assert fast == slow
    assert record == sent


class Inner(Schema):
    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=validate.OneOf(["A", "B"]))
    n = StrictInteger(validate=validate.Range(0, 10, min_inclusive=False))  # exclusive: left to Python


class Zoo(Schema):
    """Every kind of field and validator the generators treat differently, each with a marshmallow twin to match."""

    class Meta:
        unknown = RAISE

    text = fields.String(required=True, allow_none=True, validate=validate.Length(equal=3))
    num = fields.Float(validate=validate.Range(0, 1))  # not strict: "0.5" loads as 0.5, done by the field itself
    raw = fields.Raw()
    many = fields.Nested(Inner, many=True)
    one = fields.Nested(Inner, allow_none=True)
    items = fields.List(fields.Nested(Inner), validate=validate.Length(max=2))
    maybe = fields.List(fields.Integer(allow_none=True))  # items converted by the field: "1" -> 1
    table = fields.Dict(keys=fields.String(validate=validate.Length(1, 3)), values=fields.Float())
    flag = StrictBoolean(load_default=lambda: False)
    stamp = OffsetDateTime()
    choice = fields.String(validate=[validate.OneOf(["x", "yy"]), validate.Length(max=1)])


ZOO = Zoo()
ZOO_FAST = compile_schema(ZOO)
ZOO_FIELDS = list(ZOO.load_fields)


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(st.sampled_from([*ZOO_FIELDS, "code", "n", "other"]),
                       json_values | st.sampled_from(["abc", "0.5", 0.5, "1", {"code": "A"}, [{"code": "B", "n": 3}],
                                                      {"code": "A", "n": 0}, [{"code": "B", "n": 0}], [None],
                                                      {"ab": 1}, "2024-05-01T10:00:00+02:00", "2024-05-01T10:00+02",
                                                      "20240501T100000,5Z", "2024-05-01T10:00:00+0200", "x", "yy"]),
                       max_size=8).map(lambda d: {"text": "abc", **d}))
def test_every_field_kind_matches_marshmallow(data: dict[str, Any]) -> None:
    try:
        slow = ZOO.load(copy.deepcopy(data))
    except ValidationError:
        with pytest.raises(Invalid):
            ZOO_FAST(copy.deepcopy(data))
        return
    given = copy.deepcopy(data)
    try:
        fast = ZOO_FAST(given)
    except Invalid:
        assert given == data
        return  # deferring is always allowed
    assert given == data
    assert fast == slow
    assert {k: type(v) for k, v in fast.items()} == {k: type(v) for k, v in slow.items()}


def test_the_zoo_takes_the_fast_path() -> None:
    data = {"text": None, "num": "0.5", "raw": {"any": [1]}, "many": [{"code": "A"}], "one": None,
            "items": [{"code": "B", "n": 10}], "maybe": ["1", None], "table": {"ab": 1},
            "stamp": "2024-05-01T10:00:00Z", "choice": "x"}
    assert ZOO_FAST(copy.deepcopy(data)) == ZOO.load(copy.deepcopy(data))
    assert ZOO_FAST(copy.deepcopy(data))["flag"] is False

