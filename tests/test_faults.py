"""Database faults: a 503 problem (never a hang or a 500), nothing half-written, recovery without a restart."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import threading
import time
from typing import Any

import pytest
from aiohttp import web

from app.factory import create_app
from app.settings import Settings
from app.store.base import RecordFilter, Store, StoreUnavailable
from app.store.mongo import MongoStore
from app.store.sqlite import SqliteStore
from tests.conftest import put_records
from tests.factories import full_record, minimal_record


class SwitchableStore:
    """Delegates to a real store; while `down`, every call fails the way an unreachable database does."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.down = False

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if name in ("open", "close") or not callable(target):
            return target

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise StoreUnavailable("connection refused")
            return await target(*args, **kwargs)

        return call


async def test_unreachable_database_gives_503_and_the_service_recovers(
        aiohttp_client: Any, make_app: Any, store: Store, auth: dict[str, str]) -> None:
    switch = SwitchableStore(store)
    client = await aiohttp_client(make_app(store=switch))
    await put_records(client, [minimal_record(tenantOrderRecordId="before")], auth)
    switch.down = True
    for method, path, body in [("PUT", "/api/orderrecords", {"operations": [minimal_record()]}),
                               ("GET", "/api/orderrecords", None), ("GET", "/api/orderrecords/" + "a" * 24, None)]:
        response = await client.request(method, path, json=body, headers=auth)
        assert response.status == 503
        assert response.content_type == "application/json"
        assert response.headers["Retry-After"]
        [problem] = await response.json()
        assert problem["summary"] == "Service Unavailable" and "Traceback" not in problem["description"]
    assert (await client.get("/ready")).status == 503
    assert (await client.get("/health")).status == 200
    switch.down = False
    assert (await client.get("/ready")).status == 200
    await put_records(client, [minimal_record(tenantOrderRecordId="after")], auth)
    listed = await (await client.get("/api/orderrecords", headers=auth)).json()
    assert sorted(r["tenantOrderRecordId"] for r in listed["orderRecords"]) == ["after", "before"]


async def test_a_failure_inside_a_sqlite_batch_writes_nothing_of_it(
        aiohttp_client: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch, auth: dict[str, str]) -> None:
    store = SqliteStore(":memory:")
    client = await aiohttp_client(create_app(settings, store=store, sweep=False))
    import app.store.sqlite.records as sqlite_module

    real_dumps, calls = sqlite_module.orjson.dumps, {"n": 0}

    def failing_dumps(value: Any, **options: Any) -> bytes:
        if not options and threading.current_thread().name.startswith("sqlite-write"):  # the store's, not validation's
            calls["n"] += 1
            if calls["n"] == 3:
                raise sqlite3.OperationalError("disk I/O error")
        return real_dumps(value, **options)

    monkeypatch.setattr(sqlite_module.orjson, "dumps", failing_dumps)
    batch = [full_record(tenantOrderRecordId=f"t-{i}") for i in range(5)]
    response = await client.put("/api/orderrecords", json={"operations": batch}, headers=auth)
    assert response.status == 503
    monkeypatch.undo()
    assert await store.count(RecordFilter()) == 0
    results = await put_records(client, batch, auth)  # the client's retry stores all of them, once
    assert [r["status"] for r in results] == ["CREATED"] * 5


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _unreachable_mongo() -> MongoStore:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[Any] = AsyncMongoClient(
        f"mongodb://127.0.0.1:{_closed_port()}", serverSelectionTimeoutMS=300, connectTimeoutMS=300)
    return MongoStore(client, "unreachable")


async def test_startup_fails_fast_when_mongodb_is_unreachable(settings: Settings) -> None:
    store = _unreachable_mongo()
    runner = web.AppRunner(create_app(settings, store=store, sweep=False))
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        await runner.setup()
    assert time.monotonic() - started < 5
    await runner.cleanup()
    await store.client.close()


async def test_requests_get_503_within_the_driver_timeout_when_mongodb_goes_away(
        aiohttp_client: Any, settings: Settings, auth: dict[str, str]) -> None:
    store = _unreachable_mongo()

    async def skip_startup_ping() -> None:  # as if the server was up at startup and went away since
        return None

    store.open = skip_startup_ping  # type: ignore[method-assign]
    client = await aiohttp_client(create_app(settings, store=store, sweep=False))
    started = time.monotonic()
    responses = await asyncio.gather(
        client.get("/api/orderrecords", headers=auth),
        client.put("/api/orderrecords", json={"operations": [minimal_record()]}, headers=auth),
        client.get("/ready"))
    assert [r.status for r in responses] == [503, 503, 503]
    assert time.monotonic() - started < 5
