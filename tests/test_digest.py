"""app/domain/digest.py: digests stored by earlier versions keep matching (fixed digests, and its former
implementation kept here as the reference on generated records), and computing them leaves the record as it was."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.digest import Digests, record_digests
from app.domain.gdpr import anonymized_input
from app.records import RecordBuilder
from app.settings import make_settings
from scripts.make_sample_data import generate_records


# ---- the reference: the implementation before it was made faster, verbatim but for names ----
def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _instant(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(UTC).isoformat()


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def _free_form(node: Any) -> Any:
    if isinstance(node, float):
        return _number(node)
    if isinstance(node, dict):
        changed = {k: _free_form(v) for k, v in node.items()}
        return changed if any(changed[k] is not node[k] for k in node) else node
    if isinstance(node, list):
        items = [_free_form(v) for v in node]
        return items if any(a is not b for a, b in zip(items, node, strict=True)) else node
    return node


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


def reference(data: dict[str, Any], anonymized: bool) -> Digests:
    normal = _normalized(data)
    kept_view = anonymized_input(normal)
    kept_bytes = _canonical(kept_view)
    kept = _hash(kept_bytes)
    if anonymized:
        return Digests(None, kept)
    if kept_view is normal:
        return Digests(kept, kept)
    removed = {"consumer": normal.get("consumer"), "cashierId": (normal.get("origin") or {}).get("cashierId")}
    return Digests(_hash(kept_bytes + b"\n" + _canonical(removed)), kept)


# ---- digests stored by earlier versions ----
def line(quantity: float, **extra: Any) -> dict[str, Any]:
    return {"article": {"tenantArticleId": "A-1", "title": "Shirt", "attributes": [
        {"category": "basePrice", "key": "value", "value": "2999"}]}, "quantity": quantity, **extra}


def full() -> dict[str, Any]:
    """Every kind of value the normal form rewrites, and personal data."""
    return {
        "tenantOrderRecordId": "r-1", "orderRecordDate": "2026-03-29T01:30:00+02:00", "facilityRef": "store-1",
        "lineItems": [line(2, warranty={"warrantyStartDate": "2026-03-29T01:30:00+02:00", "warrantyPeriod": "P2Y"}),
                      line(1.0, returnPolicy={"isReturnable": True,
                                              "returnWindowEndDate": "2026-04-28T23:59:59.5-05:00"},
                           customAttributes={"weights": [1.0, 2.5, {"deep": -0.0}], "big": 1e20})],
        "customAttributes": {"channel": "STORE", "seed": 3.0},
        "pricing": {"discounts": [{"type": "PERCENTAGE", "percentage": 10.0}],
                    "taxes": [{"type": "VAT", "ratePercent": 19.0,
                               "value": {"value": 912, "currency": "EUR", "decimalPlaces": 2}}]},
        "payments": [], "origin": {"type": "POS", "terminalId": "T1", "cashierId": "C7"},
        "consumer": {"consumerId": "c-1", "email": "a@example.com",
                     "addresses": [{"city": "Köln", "country": "DE"}]}}


def without_personal_data() -> dict[str, Any]:
    record = full()
    del record["consumer"]
    record["origin"] = {"type": "POS", "terminalId": "T1"}
    return record


def in_utc() -> dict[str, Any]:
    """Nothing to rewrite."""
    record = without_personal_data()
    record["orderRecordDate"] = "2026-03-28T23:30:00+00:00"
    record["lineItems"] = [line(3)]
    del record["pricing"], record["customAttributes"]
    return record


@pytest.mark.parametrize(("make", "content", "kept"), [
    (full, "4b77e7c5c87146e8765c651d8b912ec2", "39d2d5f0d7d940682aaa8961d9c07b3b"),
    (without_personal_data, "3b2c5f4fcdd7fce0240515b786051564", "3b2c5f4fcdd7fce0240515b786051564"),
    (in_utc, "0da8247d198d5e09d936366caa26b0b5", "0da8247d198d5e09d936366caa26b0b5"),
])
def test_digests_are_those_stored_by_earlier_versions(make: Any, content: str, kept: str) -> None:
    assert record_digests(make(), False) == Digests(content, kept)
    assert record_digests(make(), True) == Digests(None, kept)


# ---- the same digests as the reference, the record left as it was ----
def outcome(compute: Any, record: dict[str, Any], anonymized: bool) -> Any:
    try:
        return compute(record, anonymized)
    except (ValueError, OverflowError) as exc:  # a date-time the loader would have refused, or beyond year 9999
        return type(exc)


@st.composite
def date_times(draw: st.DrawFn) -> str:
    """Date-times as the loader passes them on: RFC 3339, with or without a fraction, with Z or an offset."""
    when = draw(st.one_of(st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59)),
                          st.sampled_from([datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59),
                                           datetime(2026, 3, 29, 0, 30), datetime(2026, 12, 31, 23, 30)])))
    text = (f"{when.year:04d}-{when.month:02d}-{when.day:02d}T{when.hour:02d}:{when.minute:02d}:"
            f"{when.second:02d}")
    text += draw(st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=9).map(lambda f: "." + f),
                           st.just(".000000"), st.just(".5")))
    minutes = draw(st.one_of(st.just(0), st.integers(-23 * 60 - 59, 23 * 60 + 59), st.sampled_from([60, 120, -300])))
    if minutes == 0 and draw(st.booleans()):
        return text + draw(st.sampled_from(["Z", "-00:00"]))
    return text + f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


FLOATS = st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                   st.sampled_from([1.0, -0.0, 0.0, 2.5, 1e20, 2.0**63, -(2.0**63), 9.2e18, 19.0]))
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), FLOATS, st.text(max_size=4)),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=3), children,
                                                                               max_size=3)),
    max_leaves=8)
NUMBER = st.one_of(st.integers(0, 100), FLOATS)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    items = []
    for _ in range(draw(st.integers(1, 4))):
        item: dict[str, Any] = line(draw(st.one_of(st.integers(1, 10**6), FLOATS)))
        if draw(st.booleans()):
            item["warranty"] = {"warrantyPeriod": "P1Y", **draw(st.fixed_dictionaries(
                {}, optional={"warrantyStartDate": date_times()}))}
        if draw(st.booleans()):
            item["returnPolicy"] = {"isReturnable": True, **draw(st.fixed_dictionaries(
                {}, optional={"returnWindowEndDate": date_times()}))}
        if draw(st.booleans()):
            item["customAttributes"] = draw(JSON)
        items.append(item)
    record: dict[str, Any] = {"orderRecordDate": draw(date_times()), "facilityRef": "f", "lineItems": items}
    if draw(st.booleans()):
        record["customAttributes"] = draw(JSON)
    if draw(st.booleans()):
        record["pricing"] = draw(st.fixed_dictionaries({}, optional={
            "discounts": st.lists(st.fixed_dictionaries({}, optional={"percentage": NUMBER}), max_size=2),
            "taxes": st.lists(st.fixed_dictionaries({"value": st.just({"value": 1, "currency": "EUR"})},
                                                    optional={"ratePercent": NUMBER}), max_size=2)}))
    if draw(st.booleans()):
        record["consumer"] = {"email": "a@example.com", "addresses": [{"city": "X", "country": "DE"}]}
    record["origin"] = draw(st.sampled_from([{"type": "POS"}, {"type": "POS", "cashierId": "C1"}]))
    return record


@settings(max_examples=400, deadline=None)
@given(records(), st.booleans())
def test_generated_records_get_the_reference_digests_and_are_left_as_they_were(record: dict[str, Any],
                                                                              anonymized: bool) -> None:
    expected = outcome(reference, copy.deepcopy(record), anonymized)
    before = orjson.dumps(record)  # tells 1.0 from 1, a string from a datetime, and key order
    assert outcome(record_digests, record, anonymized) == expected
    assert orjson.dumps(record) == before


def test_the_sample_data_gets_the_reference_digests() -> None:
    builder = RecordBuilder(make_settings().gdpr)
    for raw in generate_records(300, seed=11, now=datetime(2026, 6, 1, tzinfo=UTC)):
        data = builder.loader.load(raw)
        before = orjson.dumps(data)
        for anonymized in (False, True):
            assert record_digests(data, anonymized) == reference(copy.deepcopy(data), anonymized)
        assert orjson.dumps(data) == before


def test_a_date_time_that_does_not_parse_midway_leaves_the_record_as_it_was() -> None:
    record = full()
    record["lineItems"][1]["returnPolicy"]["returnWindowEndDate"] = "not a date"
    before = orjson.dumps(record)
    with pytest.raises(ValueError):
        record_digests(record, False)
    assert orjson.dumps(record) == before


@pytest.mark.parametrize("when", [datetime(1, 1, 1), datetime(999, 12, 31, 23, 59, 59, 999999), datetime(2026, 3, 29),
                                  datetime(2026, 3, 29, 1, 2, 3, 4), datetime(2026, 3, 29, 1, 2, 3, 500000),
                                  datetime(9999, 12, 31, 23, 59, 59, 999999)])
def test_orjson_writes_a_utc_datetime_as_isoformat_does(when: datetime) -> None:
    """The digests hand orjson UTC datetimes for the isoformat() strings they once hashed."""
    for zone in (UTC, timezone(timedelta(0))):
        instant = when.replace(tzinfo=zone)
        assert orjson.dumps(instant) == orjson.dumps(instant.isoformat())
