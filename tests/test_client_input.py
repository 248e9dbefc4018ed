"""records.client_input recovers what the client sent from a record in API shape, so resends are compared with the
stored record itself: the same digests as those once computed from the input and stored beside the record."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from app.domain.digest import Digests, record_digests, same_input
from app.domain.gdpr import GdprPolicy, anonymized_input
from app.records import RecordBuilder, client_input, with_decimal_places
from app.settings import make_settings
from scripts.make_sample_data import generate_records
from tests.factories import full_record, minimal_record

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def content_digests(record: dict[str, Any]) -> Digests:
    return record_digests(client_input(record), record["anonymized"])


def builder() -> RecordBuilder:
    return RecordBuilder(make_settings().gdpr)


def test_a_built_record_gives_back_the_loaded_input_and_its_digests() -> None:
    build = builder()
    anonymized = 0
    for n, raw in enumerate(generate_records(300, seed=5, now=NOW)):
        loaded = with_decimal_places(build.loader.load(raw))
        built = build.build(raw, f"{n:024x}", NOW)
        served = orjson.loads(orjson.dumps(built))  # as a store serves it
        expected = anonymized_input(loaded) if built["anonymized"] else loaded
        assert client_input(built) == expected == client_input(served)
        assert content_digests(built) == record_digests(loaded, built["anonymized"]) == content_digests(served)
        anonymized += built["anonymized"]
    assert 0 < anonymized < 300


@pytest.mark.parametrize("pricing", [None, {}])
def test_a_record_without_pricing_gives_back_none(pricing: dict[str, object] | None) -> None:
    raw = minimal_record() if pricing is None else minimal_record(pricing=pricing)
    built = builder().build(raw, "0" * 24, NOW)
    assert set(built["pricing"]) == {"total"}
    assert "pricing" not in client_input(built)
    assert content_digests(built) == content_digests(builder().build(minimal_record(), "1" * 24, NOW))


def test_a_priced_record_keeps_its_pricing_without_the_totals() -> None:
    raw = minimal_record(pricing={"fees": [{"name": "Shipping", "value": {"value": 495, "currency": "EUR"}}]})
    view = client_input(builder().build(raw, "0" * 24, NOW))
    assert view["pricing"] == {"fees": [{"name": "Shipping", "value": {"value": 495, "currency": "EUR",
                                                                        "decimalPlaces": 2}}]}
    assert "id" not in view["lineItems"][0]


@pytest.mark.parametrize("actor", [True, False])
def test_an_anonymized_record_has_only_the_kept_digest_whatever_the_actor_rule(actor: bool) -> None:
    raw = full_record(orderRecordDate=(NOW - timedelta(days=100)).isoformat())
    build = builder()
    loaded = with_decimal_places(build.loader.load(raw))
    built = build.build(raw, "0" * 24, NOW, GdprPolicy(90, 3560, actor))
    assert built["anonymized"] and ("cashierId" in built["origin"]) is not actor
    assert content_digests(built) == record_digests(loaded, True)
    assert content_digests(built).content is None


def test_same_input_by_value_and_on_the_kept_fields_once_anonymized() -> None:
    build = builder()
    view = client_input(build.build(full_record(), "0" * 24, NOW))
    by_value = client_input(build.build(full_record(orderRecordDate="2026-05-01T10:15:00Z"), "1" * 24, NOW))
    same_instant = client_input(build.build(full_record(orderRecordDate="2026-05-01T12:15:00+02:00"), "2" * 24, NOW))
    assert same_input(by_value, False, same_instant, False)  # not the same JSON: decided by the digests
    other_mail = {**view, "consumer": {**view["consumer"], "email": "x@example.com"}}
    assert same_input(view, False, copy.deepcopy(view), False)
    assert not same_input(view, False, other_mail, False)
    assert same_input(view, True, other_mail, False) and same_input(view, False, other_mail, True)
    other_line = {**view, "lineItems": [{**view["lineItems"][0], "quantity": 9}, *view["lineItems"][1:]]}
    assert not same_input(view, True, other_line, True)
