"""The error middleware: every failure is an official ApiError with a request id, never internals."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import re
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from app.settings import Settings
from app.store.base import StoreUnavailable
from app.store.sqlite import SqliteStore
from tests.conftest import expect_problem, problem_view
from tests.factories import minimal_record

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def store_kind() -> str:
    """The middleware does not depend on the store: one embedded store keeps these tests fast."""
    return "sqlite-memory"


async def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """An official ApiError answer with this status and a request id, read through problem_view."""
    body = await expect_problem(response, status)
    assert response.headers.get("X-Request-ID")
    assert "Traceback" not in await response.text()
    return problem_view(body)


def put_body(n: int = 1) -> bytes:
    return orjson.dumps({"operations": [minimal_record() for _ in range(n)]})


def json_headers(auth: dict[str, str]) -> dict[str, str]:
    return {**auth, "Content-Type": "application/json"}


# --- routing errors ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/nope", "/api", "/api/orderrecords/", "/api/orderrecords/x/y", "/health/"])
async def test_unknown_route_is_404_problem(client: TestClient, auth: dict[str, str], path: str) -> None:
    body = await assert_problem(await client.get(path, headers=auth), 404)
    assert body["title"] == "Not Found"


async def test_unknown_record_is_404_problem(client: TestClient, auth: dict[str, str]) -> None:
    for record_id in ("0123456789abcdef01234567", "not-an-object-id"):
        await assert_problem(await client.get(f"/api/orderrecords/{record_id}", headers=auth), 404)


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("DELETE", "/api/orderrecords", {"GET", "PUT"}),
    ("POST", "/api/orderrecords", {"GET", "PUT"}),
    ("PATCH", "/api/orderrecords/0123456789abcdef01234567", {"GET"}),
    ("POST", "/health", {"GET"}),
    ("PUT", "/ready", {"GET"}),
])
async def test_wrong_method_is_405_with_allow(client: TestClient, auth: dict[str, str], method: str, path: str,
                                              allowed: set[str]) -> None:
    response = await client.request(method, path, headers=auth)
    body = await assert_problem(response, 405)
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed
    for m in allowed:
        assert m in body["detail"]


# --- request body errors -------------------------------------------------------------------------------------

async def test_put_without_content_type_is_415(client: TestClient, auth: dict[str, str]) -> None:
    response = await client.put("/api/orderrecords", data=put_body(), headers=auth,
                                skip_auto_headers=["Content-Type"])
    await assert_problem(response, 415)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml",
                                          "multipart/form-data; boundary=x", "application/jsonp",
                                          "text/json"])
async def test_put_with_wrong_content_type_is_415(client: TestClient, auth: dict[str, str],
                                                  content_type: str) -> None:
    response = await client.put("/api/orderrecords", data=put_body(), headers={**auth, "Content-Type": content_type})
    body = await assert_problem(response, 415)
    assert "application/json" in body["detail"]


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "application/merge-patch+json"])
async def test_put_with_json_content_types_is_accepted(client: TestClient, auth: dict[str, str],
                                                       content_type: str) -> None:
    response = await client.put("/api/orderrecords", data=put_body(), headers={**auth, "Content-Type": content_type})
    assert response.status == 200, await response.text()
    assert response.headers.get("X-Request-ID")


@pytest.fixture
async def small_client(aiohttp_client: Any, make_app: Callable[..., web.Application],
                       settings: Settings) -> TestClient:
    return await aiohttp_client(make_app(settings=settings.replace({"server.max_body_bytes": 2048})))


async def test_body_over_max_body_bytes_is_413(small_client: TestClient, auth: dict[str, str]) -> None:
    body = orjson.dumps({"operations": [minimal_record(facilityRef="f" * 200) for _ in range(25)]})
    assert len(body) > 2048
    problem = await assert_problem(
        await small_client.put("/api/orderrecords", data=body, headers=json_headers(auth)), 413)
    assert problem["title"]
    # the limit is the setting, not aiohttp's default: a body just under it is read
    small = put_body()
    assert len(small) < 2048
    response = await small_client.put("/api/orderrecords", data=small, headers=json_headers(auth))
    assert response.status == 200, await response.text()


async def test_chunked_body_over_max_body_bytes_is_413(small_client: TestClient, auth: dict[str, str]) -> None:
    async def chunks() -> Any:
        for _ in range(10):
            yield b" " * 1000
        yield put_body()

    response = await small_client.put("/api/orderrecords", data=chunks(), headers=json_headers(auth))
    await assert_problem(response, 413)


@pytest.mark.parametrize("raw", [
    b"{", b"", b"not json", b'{"operations": [}', b'{"orderRecords": NaN}', b'{"a": Infinity}',
    b'{"a": -Infinity}', b"\xff\xfe{}", b'{"a": "\xc3\x28"}', b'{"a": "\xed\xa0\x80"}', b"[1,]", b"{'a': 1}",
], ids=["open-brace", "empty", "text", "bad-array", "nan", "infinity", "minus-infinity", "bom-bytes",
        "bad-utf8", "surrogate", "trailing-comma", "single-quotes"])
async def test_malformed_json_is_400(client: TestClient, auth: dict[str, str], raw: bytes) -> None:
    body = await assert_problem(await client.put("/api/orderrecords", data=raw, headers=json_headers(auth)), 400)
    assert body["title"] == "Bad Request"


@pytest.mark.parametrize(("encoding", "raw"), [
    ("gzip", b"\x1f\x8b\x08garbage"), ("gzip", b"not gzip at all"), ("deflate", b"not deflate"),
], ids=["gzip-bad-header", "gzip-no-magic", "deflate"])
async def test_body_not_matching_its_content_encoding_is_400(client: TestClient, auth: dict[str, str],
                                                             caplog: pytest.LogCaptureFixture,
                                                             encoding: str, raw: bytes) -> None:
    with caplog.at_level(logging.WARNING):
        response = await client.put("/api/orderrecords", data=raw,
                                    headers={**json_headers(auth), "Content-Encoding": encoding})
        body = await assert_problem(response, 400)
    assert "could not be decoded" in body["detail"]
    assert not [r for r in caplog.records if r.name.startswith("app")], caplog.text


async def test_valid_gzip_body_is_read(client: TestClient, auth: dict[str, str]) -> None:
    response = await client.put("/api/orderrecords", data=gzip.compress(put_body()),
                                headers={**json_headers(auth), "Content-Encoding": "gzip"})
    assert response.status == 200, await response.text()


@pytest.mark.parametrize("payload", [[], "x", 1, None, {"orderRecords": "x"}, {"operations": []}, {}])
async def test_wrong_json_shape_is_400_validation(client: TestClient, auth: dict[str, str], payload: Any) -> None:
    response = await client.put("/api/orderrecords", data=orjson.dumps(payload), headers=json_headers(auth))
    body = await assert_problem(response, 400)
    assert isinstance(body.get("errors"), list) and body["errors"]
    assert all({"field", "message"} <= e.keys() for e in body["errors"])


@pytest.mark.parametrize("query", ["size=0", "size=501", "size=abc", "startAfterId=zz", "size=1&size=2"])
async def test_bad_query_is_400(client: TestClient, auth: dict[str, str], query: str) -> None:
    await assert_problem(await client.get(f"/api/orderrecords?{query}", headers=auth), 400)


# --- store failures ------------------------------------------------------------------------------------------

def failing_store(error: Exception) -> SqliteStore:
    """A store that opens fine, then fails every call with `error`."""

    class Failing(SqliteStore):
        async def ping(self) -> None:
            raise error

        async def list_part(self, *args: Any, **kwargs: Any) -> Any:
            raise error

        async def get_json(self, record_id: str, now: Any) -> bytes | None:
            raise error

        async def insert_batch(self, records: list[Any], now: Any) -> list[Any]:
            raise error

    return Failing(":memory:")


def store_requests(auth: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("GET", "/api/orderrecords", {"headers": auth}),
        ("GET", "/api/orderrecords/0123456789abcdef01234567", {"headers": auth}),
        ("PUT", "/api/orderrecords", {"headers": auth, "json": {"operations": [minimal_record()]}}),
        ("GET", "/ready", {}),
    ]


async def test_unavailable_store_is_503_with_retry_after(aiohttp_client: Any, make_app: Callable[..., web.Application],
                                                         auth: dict[str, str]) -> None:
    unreachable = StoreUnavailable("connection refused by db-host-7:27017")
    client = await aiohttp_client(make_app(store=failing_store(unreachable)))
    for method, path, kwargs in store_requests(auth):
        response = await client.request(method, path, **kwargs)
        body = await assert_problem(response, 503)
        assert response.headers.get("Retry-After", "").isdigit(), path
        assert "db-host-7" not in json.dumps(body)
    health = await client.get("/health")
    assert health.status == 200


async def test_unexpected_error_is_500_without_internals(aiohttp_client: Any,
                                                         make_app: Callable[..., web.Application],
                                                         auth: dict[str, str],
                                                         caplog: pytest.LogCaptureFixture) -> None:
    client = await aiohttp_client(make_app(store=failing_store(RuntimeError("secret internals"))))
    for i, (method, path, kwargs) in enumerate(store_requests(auth)):
        request_id = f"req-{i}-abc"
        kwargs = {**kwargs, "headers": {**kwargs.get("headers", {}), "X-Request-ID": request_id}}
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            response = await client.request(method, path, **kwargs)
            text = await response.text()
            body = await assert_problem(response, 500)
        assert "secret internals" not in text
        assert "RuntimeError" not in text
        assert "secret internals" not in repr(dict(response.headers))
        assert response.headers["X-Request-ID"] == request_id
        assert request_id in body["detail"]
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors, "the failure must be logged"
        assert any(request_id in r.getMessage() for r in errors)
        assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in errors)


async def test_client_disconnecting_mid_body_is_not_an_internal_error(make_app: Callable[..., web.Application],
                                                                      auth: dict[str, str],
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    # served as web.run_app serves it: the test server would cancel the handler instead (handler_cancellation)
    runner = web.AppRunner(make_app(), handler_cancellation=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        head = (f"PUT /api/orderrecords HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Authorization: {auth['Authorization']}\r\nContent-Length: 100000\r\n\r\n").encode()
        with caplog.at_level(logging.DEBUG):
            _, writer = await asyncio.open_connection(host, port)
            writer.write(head + b'{"operations": [')
            await writer.drain()
            await asyncio.sleep(0.05)  # the handler is waiting for the rest of the body
            writer.transport.abort()
            for _ in range(100):
                if any("client disconnected" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.05)  # and whatever aiohttp logs after the handler
    finally:
        await runner.cleanup()
    assert any(r.name == "app.api.errors" and "client disconnected" in r.getMessage() and r.levelno == logging.DEBUG
               for r in caplog.records), caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


# --- request ids ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("request_id", ["abc-123", "A.b_C-9", "x" * 64, "0f8fad5b-d9cb-469f-a165-70867728950e"])
async def test_safe_request_id_is_echoed(client: TestClient, auth: dict[str, str], request_id: str) -> None:
    ok = await client.get("/api/orderrecords", headers={**auth, "X-Request-ID": request_id})
    assert ok.status == 200
    assert ok.headers["X-Request-ID"] == request_id
    failed = await client.get("/nope", headers={"X-Request-ID": request_id})
    body = await assert_problem(failed, 404)
    assert failed.headers["X-Request-ID"] == request_id
    assert body["title"] == "Not Found"
    unauthorized = await client.get("/api/orderrecords", headers={"X-Request-ID": request_id})
    await assert_problem(unauthorized, 401)
    assert unauthorized.headers["X-Request-ID"] == request_id


@pytest.mark.parametrize("request_id", ["", "has space", "x" * 65, "a/b", "<script>", "id;drop", "ü-umlaut",
                                        "tab\there"])
async def test_unsafe_request_id_is_replaced(client: TestClient, auth: dict[str, str], request_id: str) -> None:
    response = await client.get("/nope", headers={"X-Request-ID": request_id})
    body = await assert_problem(response, 404)
    assert response.headers["X-Request-ID"] != request_id
    assert HEX_ID.match(response.headers["X-Request-ID"])
    assert body["title"] == "Not Found"


async def test_every_response_gets_a_fresh_request_id(client: TestClient, auth: dict[str, str]) -> None:
    seen = set()
    for path, headers in [("/health", {}), ("/ready", {}), ("/api/orderrecords", auth), ("/nope", {}),
                          ("/api/orderrecords", {})]:
        response = await client.get(path, headers=headers)
        request_id = response.headers.get("X-Request-ID", "")
        assert HEX_ID.match(request_id), (path, request_id)
        seen.add(request_id)
    assert len(seen) == 5
