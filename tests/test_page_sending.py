"""A whole list page reaches the socket as its headers, then its body uncopied (app/pages.py WholePage)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from aiohttp.test_utils import TestClient

from app.store.base import Store
from tests.test_streamed_pages import seed


async def test_a_page_is_written_as_headers_then_its_body_as_a_view(aiohttp_client: Any, make_app: Any,
                                                                     store: Store, auth: dict[str, str]) -> None:
    writes: list[tuple[type, int]] = []

    @web.middleware
    async def record_writes(request: web.Request, handler: Any) -> web.StreamResponse:
        transport = request.transport
        assert transport is not None
        write = transport.write

        def recorded(data: Any) -> None:
            writes.append((type(data), len(data)))
            write(data)

        transport.write = recorded  # type: ignore[method-assign]
        try:
            response = await handler(request)
            await response.prepare(request)
            await response.write_eof()
            return response
        finally:
            transport.write = write  # type: ignore[method-assign]

    app = make_app()
    app.middlewares.insert(0, record_writes)
    client: TestClient = await aiohttp_client(app)
    ids = await seed(client, store, 12)
    response = await client.get("/api/orderrecords", params={"size": "20"}, headers=auth)
    body = await response.read()

    assert [r["id"] for r in orjson.loads(body)["orderRecords"]] == ids
    assert response.headers["Content-Length"] == str(len(body))
    # before: one bytes object of headers and body joined (and, past what the socket took, sliced: a second copy)
    assert writes[0][0] is bytes and writes[0][1] < 1000
    assert writes[1:] == [(memoryview, len(body))]
