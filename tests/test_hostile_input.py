"""Hostile requests: each gets the right 4xx with an ApiError body, and nothing is stored."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.factory import create_app
from app.settings import Settings
from app.store.base import RecordFilter
from app.store.sqlite import SqliteStore
from tests.conftest import error_text, expect_problem, failure, put_records
from tests.factories import full_record, minimal_record

PUT = "/api/orderrecords"
JSON_HEADERS = {"Content-Type": "application/json"}


def body_of(*records: Any) -> bytes:
    return orjson.dumps({"operations": list(records)})


def raw_body(text: str) -> bytes:
    return text.encode()


REJECTED_BODIES = {
    "deeply nested": b'{"operations": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "NaN": raw_body('{"operations": [{"x": NaN}]}'),
    "Infinity": raw_body('{"operations": [{"x": -Infinity}]}'),
    "overflowing float": raw_body('{"operations": [{"x": 1e999}]}'),
    "duplicate keys": raw_body('{"operations": [], "operations": [{"facilityRef": "x"}]}'),
    "nested duplicate keys": raw_body(json.dumps({"operations": [minimal_record()]})
                                      .replace('"facilityRef"', '"facilityRef": "a", "facilityRef"')),
    "not UTF-8": b'{"operations": [{"facilityRef": "\xff\xfe"}]}',
    "lone surrogate": raw_body('{"operations": [{"facilityRef": "\\ud800"}]}'),
    "UTF-8 BOM": b"\xef\xbb\xbf" + body_of(minimal_record()),
    "truncated": body_of(minimal_record())[:-3],
    "trailing data": body_of(minimal_record()) + b" {}",
    "empty": b"",
    "giant integer": raw_body('{"operations": [{"x": ' + "9" * 5000 + "}]}"),
}


@pytest.mark.parametrize("name", sorted(REJECTED_BODIES))
async def test_malformed_json_bodies_get_400(client: Any, auth: dict[str, str], name: str) -> None:
    response = await client.put(PUT, data=REJECTED_BODIES[name], headers={**auth, **JSON_HEADERS})
    assert "not valid JSON" in error_text(await expect_problem(response, 400)), name
    assert (await (await client.get(PUT, headers=auth)).json())["total"] == 0


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/xml"])
async def test_wrong_or_missing_content_type_gets_415(client: Any, auth: dict[str, str],
                                                      content_type: str | None) -> None:
    headers = {**auth, **({"Content-Type": content_type} if content_type else {})}
    response = await client.put(PUT, data=body_of(minimal_record()), headers=headers)
    await expect_problem(response, 415)


@pytest.mark.parametrize(("field", "record"), [
    ("facilityRef", minimal_record(facilityRef="x" * 10_000)),
    ("tenantOrderRecordId", minimal_record(tenantOrderRecordId="t" * 10_000)),
    ("lineItems.0.article.title", minimal_record(lineItems=[{"article": {"tenantArticleId": "a", "title": "x" * 10_000},
                                                            "quantity": 1}])),
    ("consumer.email", minimal_record(consumer={"email": "a" * 10_000 + "@example.com"})),
    ("lineItems.0.quantity", minimal_record(lineItems=[{"article": {"tenantArticleId": "a"}, "quantity": 2**64}])),
    ("payments.0.value.value", minimal_record(payments=[{"value": {"value": -(2**63) - 1, "currency": "EUR"}}])),
    ("customAttributes", minimal_record(customAttributes={"n": 2**64})),
    ("lineItems.0.warranty.warrantyPeriod", minimal_record(lineItems=[{
        "article": {"tenantArticleId": "a"}, "quantity": 1,
        "warranty": {"warrantyStartDate": "2026-01-01T10:00:00+01:00", "warrantyPeriod": "P" + "9" * 100_000 + "D"}}])),
    ("lineItems.0.article.attributes.0.value", minimal_record(lineItems=[{
        "article": {"tenantArticleId": "a", "attributes": [{"key": "k", "value": "v" * 100_000}]}, "quantity": 1}])),
    ("lineItems.0.article.attributes", minimal_record(lineItems=[{
        "article": {"tenantArticleId": "a", "attributes": [{"key": "k", "value": "v"}] * 10_000}, "quantity": 1}])),
    ("pricing.discounts.0.nameLocalized", minimal_record(pricing={"discounts": [{
        "name": "x", "nameLocalized": {f"l{i}": "x" for i in range(10_000)}}]})),
    ("consumer.email", minimal_record(consumer={"email": "a" * 2_000_000 + "@example.com"})),
    ("customAttributes", minimal_record(customAttributes={"$where": "sleep(1000)"})),
    ("customAttributes", minimal_record(customAttributes={"a": {"$gt": ""}})),
    ("lineItems.0.customAttributes", minimal_record(lineItems=[{"article": {"tenantArticleId": "a"}, "quantity": 1,
                                                                "customAttributes": {"$set": {"x": 1}}}])),
    ("customAttributes", minimal_record(customAttributes=json.loads('{"a":' * 40 + "1" + "}" * 40))),
])
async def test_limits_and_operator_keys_fail_the_record(client: Any, auth: dict[str, str], field: str,
                                                        record: dict[str, Any]) -> None:
    [result] = await put_records(client, [record], auth)
    assert f"{field}: " in failure(result)
    assert (await (await client.get(PUT, headers=auth)).json())["total"] == 0


async def test_a_surrogate_pair_beside_a_big_integer_fails_only_the_record(client: Any, auth: dict[str, str]) -> None:
    body = ('{"operations": [' + json.dumps(minimal_record()) + ', {"facilityRef": "\\ud83d\\ude00", '
            '"orderRecordDate": "2026-11-01T10:15:00Z", "lineItems": [{"article": {"tenantArticleId": "a"}, '
            '"quantity": ' + str(10**30) + '}]}]}')
    response = await client.put(PUT, data=body.encode(), headers={**auth, **JSON_HEADERS})
    assert response.status == 200, await response.text()
    created, failed = (await response.json())["details"]
    assert created["status"] == "CREATED"
    assert failure(failed).startswith("lineItems.0.quantity: ")


async def test_dotted_keys_in_custom_attributes_are_stored_verbatim(client: Any, auth: dict[str, str]) -> None:
    """MongoDB 5+ stores dotted field names as data; they are never read as paths because we never query them."""
    attributes = {"com.example.flag": True, "a": {"b.c": [1, {"d.e": "f"}]}}
    [result] = await put_records(client, [minimal_record(customAttributes=attributes)], auth)
    assert result["status"] == "CREATED"
    stored = await (await client.get(f"{PUT}/{result['orderRecord']['id']}", headers=auth)).json()
    assert stored["customAttributes"] == attributes


@pytest.mark.parametrize("query", ["size=1&size=2", "facilityRef=a&facilityRef=b", "size[]=1", "facilityRef[$ne]=x",
                                   "startAfterId=../../etc/passwd", "startAfterId[$gt]=", "size=1e3", "size=%00",
                                   "size=5_0", "size=%2B5", "size=%205", "size=%D9%A5", "size=0x10",
                                   "tenantOrderRecordId=" + "t" * 2_000])
async def test_hostile_query_strings_get_400(client: Any, auth: dict[str, str], query: str) -> None:
    response = await client.get(f"{PUT}?{query}", headers=auth)
    await expect_problem(response, 400)


@pytest.mark.parametrize("path", ["..%2F..%2Fetc%2Fpasswd", "%2e%2e", "%00", "a" * 5000, "6b06a5407d9adefc136f67fa%00",
                                  "$where", "6B06A5407D9ADEFC136F67FA"])
async def test_path_traversal_and_junk_ids_get_404(client: Any, auth: dict[str, str], path: str) -> None:
    response = await client.get(f"{PUT}/{path}", headers=auth)
    await expect_problem(response, 404)


async def test_the_body_limit_is_a_setting(aiohttp_client: Any, settings: Settings, auth: dict[str, str]) -> None:
    small = settings.replace({"server.max_body_bytes": 4096})
    client = await aiohttp_client(create_app(small, store=SqliteStore(":memory:"), sweep=False))
    response = await client.put(PUT, data=body_of(*[full_record(tenantOrderRecordId=str(i)) for i in range(5)]),
                                headers={**auth, **JSON_HEADERS})
    await expect_problem(response, 413)
    assert (await client.put(PUT, data=body_of(minimal_record()), headers={**auth, **JSON_HEADERS})).status == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
near_records = st.fixed_dictionaries({}, optional={
    "orderRecordDate": json_values | st.just("2026-11-01T10:00:00Z"),
    "facilityRef": json_values | st.just("f"),
    "lineItems": json_values | st.just([{"article": {"tenantArticleId": "a"}, "quantity": 1}]),
    "consumer": json_values, "payments": json_values, "pricing": json_values, "customAttributes": json_values,
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(body=json_values | st.fixed_dictionaries({"operations": st.lists(near_records | json_values, max_size=3)}))
async def test_random_json_never_yields_a_server_error(aiohttp_client: Any, settings: Settings,
                                                       auth: dict[str, str], body: Any) -> None:
    store = SqliteStore(":memory:")
    client = await aiohttp_client(create_app(settings, store=store, sweep=False))
    try:
        response = await client.put(PUT, data=json.dumps(body), headers={**auth, **JSON_HEADERS})
        assert response.status in (200, 400), await response.text()
        if response.status == 200:
            details = (await response.json())["details"]
            created = sum(d["status"] == "CREATED" for d in details)
            assert await store.count(RecordFilter()) == created
    finally:
        await client.close()
