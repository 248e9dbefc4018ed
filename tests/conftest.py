"""Shared fixtures: settings built directly, a movable clock, and one store of every kind per contract test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from app.api.auth import PERMISSIONS, issue_token
from app.factory import create_app
from app.settings import Settings, make_settings
from app.store.base import Store
from tests.contract import contract_middleware
from tests.realserver import MONGODB_URI, database_name, database_names, drop_database, left_behind

SECRET = "test-secret-that-is-long-enough-for-hs256"
STORE_KINDS = ["sqlite-memory", "sqlite-file", "mongomock", *(["mongodb"] if MONGODB_URI else [])]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class FakeClock:
    """The app's time source, moved by tests instead of sleeping."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def new_store(kind: str, tmp_path: Any) -> Store:
    if kind == "sqlite-memory":
        from app.store.sqlite import SqliteStore

        return SqliteStore(":memory:")
    if kind == "sqlite-file":
        from app.store.sqlite import SqliteStore

        return SqliteStore(str(tmp_path / f"records-{uuid.uuid4().hex}.sqlite3"))
    from app.store.mongo import MongoStore

    if kind == "mongomock":
        from mongomock_motor import AsyncMongoMockClient

        return MongoStore(AsyncMongoMockClient(), "orderrecords_test")
    from pymongo import AsyncMongoClient

    return MongoStore(AsyncMongoClient(MONGODB_URI, serverSelectionTimeoutMS=5000), database_name())


@pytest.fixture(scope="session", autouse=True)
def no_database_left_behind() -> Iterator[None]:
    """With a real server, every test that used one dropped its database (an error at the end of the run if not)."""
    if not MONGODB_URI:
        yield
        return
    before = database_names()
    yield
    assert not (left := left_behind(before)), f"databases left behind on {MONGODB_URI}: {left}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings() -> Settings:
    return make_settings({"sqlite.path": ":memory:", "jwt.secret": SECRET})


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def store(store_kind: str, tmp_path: Any) -> AsyncIterator[Store]:
    """An unopened store; the app opens and closes it. A real MongoDB test database is dropped afterwards."""
    created = new_store(store_kind, tmp_path)
    yield created
    if store_kind == "mongodb":
        await asyncio.to_thread(drop_database, created.collection.database.name)  # type: ignore[attr-defined]


@pytest.fixture
def contract_failures() -> Iterator[list[str]]:
    """Every answer of an app made by `make_app` is checked against the official schemas (tests/contract):
    a test fails at teardown if any answer of a documented operation did not match its component."""
    failures: list[str] = []
    yield failures
    assert not failures, "answers that break the official contract:\n" + "\n".join(failures)


@pytest.fixture
def make_app(settings: Settings, store: Store, clock: FakeClock,
             contract_failures: list[str]) -> Callable[..., web.Application]:
    def make(**kwargs: Any) -> web.Application:
        kwargs.setdefault("store", store)
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("sweep", False)
        app = create_app(kwargs.pop("settings", settings), **kwargs)
        app.middlewares.insert(0, contract_middleware(contract_failures, strict=True))
        return app

    return make


@pytest.fixture
async def client(aiohttp_client: Any, make_app: Callable[..., web.Application]) -> TestClient:
    return await aiohttp_client(make_app())


def token(*permissions: str, secret: str = SECRET, **kwargs: Any) -> str:
    return issue_token(secret, permissions, **kwargs)


def bearer(*permissions: str, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(*permissions, **kwargs)}"}


@pytest.fixture
def auth() -> dict[str, str]:
    """Headers carrying a token with both permissions."""
    return bearer(*PERMISSIONS)


async def put_records(client: TestClient, records: list[Any], headers: dict[str, str]) -> Any:
    """PUT a batch, assert it was answered 200 with a summary that counts its details, and return the details."""
    response = await client.put("/api/orderrecords", json={"operations": records}, headers=headers)
    assert response.status == 200, await response.text()
    body = await response.json()
    details = body["details"]
    statuses = [d["status"] for d in details]
    assert body["summary"] == {"created": statuses.count("CREATED"), "updated": 0,
                               "unchanged": statuses.count("UNCHANGED")}
    return details


def failure(detail: dict[str, Any]) -> str:
    """The message of a FAILED detail (asserting it is one, of type VALIDATION)."""
    assert detail["status"] == "FAILED", detail
    assert set(detail) == {"status", "error"}, detail
    assert detail["error"]["type"] == "VALIDATION", detail
    return detail["error"]["message"]


async def expect_problem(response: Any, status: int) -> list[dict[str, Any]]:
    """Assert an official ApiError answer with this status (a JSON array of {summary, description}); return it."""
    text = await response.text()
    assert response.status == status, text
    assert response.content_type == "application/json", text
    body = await response.json()
    assert isinstance(body, list) and body, text
    for entry in body:
        assert isinstance(entry["summary"], str) and entry["summary"], text
        assert set(entry) <= {"summary", "description", "version", "requestVersion"}, text
    return body


def problem_view(body: list[dict[str, Any]]) -> dict[str, Any]:
    """An ApiError read as its parts: `title` (the first summary), `detail` (every description joined) and
    `errors` (each description split into the field path and the rule)."""
    errors = []
    for entry in body:
        field, sep, message = entry.get("description", "").partition(": ")
        errors.append({"field": field, "message": message} if sep and " " not in field
                      else {"field": "", "message": entry.get("description", "")})
    return {"title": body[0]["summary"], "detail": " ".join(e.get("description", "") for e in body),
            "errors": errors}


def error_text(body: list[dict[str, Any]]) -> str:
    """Every entry's summary and description, for asserting what an ApiError says."""
    return " | ".join(f"{e['summary']}: {e.get('description', '')}" for e in body)


async def raw_request(client: TestClient, request: bytes) -> bytes:
    """Send bytes no HTTP client would (bad header bytes, control characters) and return the whole answer."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


def answer_status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def answer_body(answer: bytes) -> bytes:
    return answer.partition(b"\r\n\r\n")[2]
