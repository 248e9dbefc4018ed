"""A record's size caps (limits.max_record_bytes, limits.max_record_values), the same whether its body is parsed
in the server process or, being large, in the helper process."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from app.domain import limits as limits_module
from app.domain.limits import OversizedRecord, body_proves_caps, count_values, measured_errors, record_limit_errors
from app.settings import Settings, SettingsError, make_settings
from tests.bodies import RECORDS_KEY, envelope, sized_record
from tests.conftest import new_store
from tests.factories import minimal_record

LIMITS = make_settings().limits
PATHS = {"inline": {"limits.offload_body_bytes": 64 * 1024 * 1024},  # every body parsed in the server process
         "helper": {"limits.offload_body_bytes": 0}}  # every body parsed in the helper process


@pytest.fixture
def store_kind() -> str:
    return "sqlite-memory"


@pytest.fixture(params=list(PATHS))
async def path_client(request: pytest.FixtureRequest, aiohttp_client: Any, make_app: Any,
                      settings: Settings) -> TestClient:
    return await aiohttp_client(make_app(settings=settings.replace(PATHS[request.param])))


def test_the_defaults_are_the_documented_caps() -> None:
    assert (LIMITS.max_record_bytes, LIMITS.max_record_values) == (4 * 1024 * 1024, 200_000)


@pytest.mark.parametrize(("value", "count"), [
    (1, 1), ("x", 1), (None, 1), ([], 1), ({}, 1), ([1, [2, {"a": None}]], 6), ({"a": {"b": [True, False]}}, 5),
])
def test_count_values_counts_every_json_value_but_keys(value: Any, count: int) -> None:
    assert count_values(value, 1000) == count


def test_count_values_stops_soon_after_the_cap() -> None:
    assert 11 <= count_values([0] * 1_000_000, 10) <= 12


def test_records_at_the_caps_pass_and_one_more_fails() -> None:
    assert record_limit_errors(sized_record(LIMITS.max_record_bytes), LIMITS) == []
    [(path, message)] = record_limit_errors(sized_record(LIMITS.max_record_bytes + 1), LIMITS)
    assert path == "" and "4,194,304" in message
    base = minimal_record(customAttributes={"n": []})
    at_cap = minimal_record(customAttributes={"n": [0] * (LIMITS.max_record_values - count_values(base, 10**9))})
    assert count_values(at_cap, 10**9) == LIMITS.max_record_values
    assert record_limit_errors(at_cap, LIMITS) == []
    at_cap["customAttributes"]["n"].append(0)
    [(_, message)] = record_limit_errors(at_cap, LIMITS)
    assert "200,000 JSON values" in message


def test_a_stand_in_carries_its_refusal() -> None:
    stand_in = OversizedRecord({"facilityRef": "f"}, [("", "too big")])
    assert stand_in == {"facilityRef": "f"}
    assert record_limit_errors(stand_in, LIMITS) == [("", "too big")]


@pytest.mark.parametrize(("dotted", "bad"), [("limits.max_record_bytes", 10), ("limits.max_record_values", 5),
                                             ("limits.offload_body_bytes", -1), ("limits.stream_page_bytes", 100),
                                             ("server.body_timeout_seconds", 0)])
def test_limit_settings_are_checked(dotted: str, bad: int) -> None:
    with pytest.raises(SettingsError, match=dotted):
        make_settings({dotted: bad})


async def put(client: TestClient, body: bytes, auth: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.put("/api/orderrecords", data=body,
                                headers={**auth, "Content-Type": "application/json"})
    assert response.status == 200, (await response.text())[:500]
    payload = await response.json()
    return next(v for v in payload.values() if isinstance(v, list))  # the per-record answers


def status(answer: dict[str, Any]) -> str:
    return str(answer["status"])


async def test_over_the_caps_fails_and_at_the_caps_is_stored(path_client: TestClient, auth: dict[str, str]) -> None:
    over_values = minimal_record(tenantOrderRecordId="values", customAttributes={"n": [[]] * 250_000})
    batch = [sized_record(LIMITS.max_record_bytes + 1, tenantOrderRecordId="bytes"), over_values,
             minimal_record(tenantOrderRecordId="small")]
    answers = await put(path_client, orjson.dumps(envelope(batch)), auth)
    assert [status(a) for a in answers] == ["FAILED", "FAILED", "CREATED"]
    assert "4,194,304" in orjson.dumps(answers[0]).decode()
    assert "200,000 JSON values" in orjson.dumps(answers[1]).decode()
    answers = await put(path_client, orjson.dumps(envelope([sized_record(LIMITS.max_record_bytes - 512)])), auth)
    assert [status(a) for a in answers] == ["CREATED"]


async def test_both_paths_answer_alike(aiohttp_client: Any, make_app: Any, settings: Settings, tmp_path: Any,
                                       auth: dict[str, str]) -> None:
    """Valid, invalid, oversized and non-object records, a 65-bit integer and a string with escapes."""
    batch: list[Any] = [
        minimal_record(tenantOrderRecordId="ok", customAttributes={"s": "a\u00e9\\\"\n\u2028", "f": 1.5e300}),
        minimal_record(tenantOrderRecordId="int65", customAttributes={"big": 12345}),
        minimal_record(tenantOrderRecordId="bad", lineItems=[]),
        minimal_record(tenantOrderRecordId="huge", customAttributes={"n": [{}] * 210_000}),
        [[1] * 300_000], "a string", None, 7,
    ]
    body = orjson.dumps(envelope(batch)).replace(b'"big":12345', b'"big":36893488147419103233')
    answers = {}
    for name, overrides in PATHS.items():
        client = await aiohttp_client(make_app(settings=settings.replace(overrides),
                                               store=new_store("sqlite-memory", tmp_path)))
        # what a parse could change: the answer but the stored record's system fields, and what was stored as sent
        got = await put(client, body, auth)
        answers[name] = [({k: v for k, v in answer.items() if k != "orderRecord"},
                          answer.get("orderRecord", {}).get("customAttributes")) for answer in got]
    assert answers["inline"] == answers["helper"]
    assert [status(a) for a, _ in answers["helper"]][:4] == ["CREATED", "FAILED", "FAILED", "FAILED"]
    assert answers["helper"][0][1] == batch[0]["customAttributes"]


@pytest.mark.parametrize("body", [b'{"a": 1, "a": 2}', b"[1, 2", b'{"x": NaN}', b"\xff\xfe", b'{"x": "\\ud800"}'],
                         ids=["duplicate-key", "truncated", "nan", "not-utf8", "lone-surrogate"])
async def test_malformed_bodies_are_400_on_both_paths(path_client: TestClient, auth: dict[str, str],
                                                      body: bytes) -> None:
    response = await path_client.put("/api/orderrecords", data=body,
                                     headers={**auth, "Content-Type": "application/json"})
    assert response.status == 400, await response.text()


async def test_the_envelope_checks_hold_on_the_helper_path(path_client: TestClient, auth: dict[str, str]) -> None:
    for body in (orjson.dumps({RECORDS_KEY: [minimal_record()] * 3000}), orjson.dumps([minimal_record()]),
                 orjson.dumps({RECORDS_KEY: {"a": [0] * 300_000}}), orjson.dumps({RECORDS_KEY: []})):
        response = await path_client.put("/api/orderrecords", data=body,
                                         headers={**auth, "Content-Type": "application/json"})
        assert response.status == 400, await response.text()


SMALL = make_settings({"limits.max_record_values": 100, "limits.max_record_bytes": 1024}).limits


@pytest.mark.parametrize("unit", [b"0,", b"[],", b"{},", b"1e15,", b"9e9,", b'"",', b"[[]],"])
def test_a_short_body_proves_its_records_within_the_caps(unit: bytes) -> None:
    """body_proves_caps at its edge, with the densest values and the floats that grow most when re-serialized."""
    for repeats in range(1, 400):
        text = b"[" + unit * repeats + b"0]"
        if not body_proves_caps(len(text), SMALL):
            break
        assert measured_errors(orjson.loads(text), SMALL) == [], text[:40]
    else:
        pytest.fail("the proof never ran out")
    nested = b"[" * 60 + b"]" * 60
    assert not body_proves_caps(len(nested) * 2, SMALL) or measured_errors(orjson.loads(nested), SMALL) == []


async def test_records_of_short_bodies_are_not_serialized_again(client: TestClient, auth: dict[str, str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    measured: list[Any] = []
    monkeypatch.setattr(limits_module, "measured_errors", lambda *args: measured.append(args) or [])
    answers = await put(client, orjson.dumps(envelope([minimal_record()])), auth)
    assert [status(a) for a in answers] == ["CREATED"] and measured == []
