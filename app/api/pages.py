"""List pages: one body handed to the socket in pieces when of ordinary size, streamed part by part when not."""

from __future__ import annotations

import logging

from aiohttp import payload, web
from aiohttp.abc import AbstractStreamWriter

from app.keys import CLOCK, SETTINGS, STORE
from app.store.base import RecordFilter

log = logging.getLogger("app.api.pages")
JSON = "application/json"
TAIL = b"]}"


def _head(total: int) -> bytes:
    return b'{"total":%d,"orderRecords":[' % total


class PageBody(payload.Payload):
    """`{"total", "orderRecords"}` as its three pieces: the head, the records as the store joined them, the tail.

    Written piece by piece, the records (megabytes) go to the socket as they are: joined with the head into one
    buffer, they would be copied once more, and the head then once more with the HTTP headers."""

    def __init__(self, head: bytes, records: bytes) -> None:
        super().__init__((head, records, TAIL), content_type=JSON)
        self._size = len(head) + len(records) + len(TAIL)

    async def write(self, writer: AbstractStreamWriter) -> None:
        for piece in self._value:
            await writer.write(piece)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return b"".join(self._value).decode(encoding, errors)


async def page_response(request: web.Request, filters: RecordFilter, start_after: str | None,
                        size: int) -> web.StreamResponse:
    """The page as `{"total", "orderRecords"}`. Records are read until they hold `limits.stream_page_bytes`: a page
    within that (any page of ordinary records) is one body; a larger one is streamed in parts of about that size,
    so what it costs in memory does not grow with its records (500 of up to 4 MiB each)."""
    store, clock = request.app[STORE], request.app[CLOCK]
    budget = request.app[SETTINGS].limits.stream_page_bytes
    total, part = await store.list_part(filters, start_after, size, clock, budget)
    if part.resume_after is None:
        return web.Response(body=PageBody(_head(total or 0), part.records))
    response = web.StreamResponse(headers={"Content-Type": JSON})
    await response.prepare(request)
    try:
        await response.write(_head(total or 0))
        sent = 0
        while True:
            await response.write(part.records)  # one part is held at a time: the one being sent
            sent += part.count
            if part.resume_after is None or sent >= size:
                break
            _, part = await store.list_part(filters, part.resume_after, size - sent, clock, budget, with_total=False)
            if part.count:
                await response.write(b",")
        await response.write(TAIL)
        await response.write_eof()
    except Exception as exc:  # the status line is out: all that is left is to break the body off
        if not isinstance(exc, ConnectionError):
            log.warning("a streamed page was broken off: %s", type(exc).__name__)
        if request.transport is not None:
            request.transport.abort()
    return response
