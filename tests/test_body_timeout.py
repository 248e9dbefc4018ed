"""A token holder cannot hold a connection by sending its body slowly: server.body_timeout_seconds bounds it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from app.api.auth import PERMISSIONS
from app.settings import Settings
from tests.bodies import envelope
from tests.conftest import answer_status, token
from tests.factories import minimal_record

TIMEOUT = 1.0


@pytest.fixture
def store_kind() -> str:
    return "sqlite-memory"


@pytest.fixture
async def slow_client(aiohttp_client: Any, make_app: Any, settings: Settings) -> TestClient:
    return await aiohttp_client(make_app(settings=settings.replace({"server.body_timeout_seconds": TIMEOUT})))


async def drip(client: TestClient, head: bytes, body: bytes, interval: float) -> tuple[bytes, float, bool]:
    """Send `head` at once and `body` a byte per `interval`; return what came back, when it came, and whether the
    connection was closed while bytes were still unsent (a reset counts as closed)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    started = time.monotonic()
    writer.write(head)

    async def send() -> bool:
        try:
            for byte in body:
                await asyncio.sleep(interval)
                writer.write(bytes([byte]))
                await writer.drain()
        except ConnectionError:
            return True
        return False

    sending = asyncio.create_task(send())
    try:
        answer = await asyncio.wait_for(reader.read(), TIMEOUT + 8)
    except ConnectionError:
        answer = b""
    elapsed = time.monotonic() - started
    closed_early = not sending.done() or sending.result()
    sending.cancel()
    writer.close()
    return answer, elapsed, closed_early


def put_head(length: int | None) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (f"PUT /api/orderrecords HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token(*PERMISSIONS)}\r\n"
            f"Content-Type: application/json\r\n{framing}\r\n\r\n").encode()


async def test_a_stalled_body_is_answered_408_and_the_connection_closed(slow_client: TestClient) -> None:
    body = orjson.dumps(envelope([minimal_record()]))
    answer, elapsed, _ = await drip(slow_client, put_head(len(body)) + body[:10], b"", 0)
    assert answer_status(answer) == 408, (elapsed, answer[:200])
    assert b"connection: close" in answer.lower()
    assert TIMEOUT <= elapsed < TIMEOUT + 5, elapsed  # read() returned: the server closed the connection


async def test_a_body_at_one_byte_per_interval_is_cut_off(slow_client: TestClient) -> None:
    body = orjson.dumps(envelope([minimal_record()]))  # about 150 bytes: 30 s at this pace
    answer, elapsed, closed_early = await drip(slow_client, put_head(len(body)), body, 0.2)
    # Closed, not after aiohttp's 10 s of lingering. The 408 may be lost to the reset that bytes still arriving at
    # a closed socket cause: a client that keeps sending is not owed an answer.
    assert closed_early and elapsed < TIMEOUT + 5, elapsed
    assert answer == b"" or answer_status(answer) == 408, answer[:200]


async def test_a_chunked_body_is_bounded_too(slow_client: TestClient) -> None:
    answer, elapsed, closed_early = await drip(slow_client, put_head(None), b"5\r\n{\"a\":\r\n" * 20, 0.1)
    assert closed_early and elapsed < TIMEOUT + 5, elapsed
    assert answer == b"" or answer_status(answer) == 408, answer[:200]


async def test_a_body_that_pauses_within_the_bound_is_taken(slow_client: TestClient) -> None:
    body = orjson.dumps(envelope([minimal_record()]))
    reader, writer = await asyncio.open_connection(slow_client.host, slow_client.port)
    try:
        writer.write(put_head(len(body)).replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n") + body[:20])
        await asyncio.sleep(TIMEOUT / 2)
        writer.write(body[20:])
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    assert answer_status(answer) == 200, answer[:200]
