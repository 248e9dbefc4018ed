"""List pages: built whole in memory when they are of ordinary size, written to the socket part by part when not."""

from __future__ import annotations

import logging

from aiohttp import web

from app.keys import CLOCK, SETTINGS, STORE
from app.store.base import RecordFilter

log = logging.getLogger("app.pages")
JSON = "application/json"


def _head(total: int) -> bytes:
    return b'{"total":%d,"orderRecords":[' % total


async def page_response(request: web.Request, filters: RecordFilter, start_after: str | None,
                        size: int) -> web.StreamResponse:
    """The page as `{"total", "orderRecords"}`. Records are read until they hold `limits.stream_page_bytes`: a page
    within that (any page of ordinary records) is one body, as before; a larger one is streamed in parts of about
    that size, so what it costs in memory does not grow with its records (500 of up to 4 MiB each)."""
    store, clock = request.app[STORE], request.app[CLOCK]
    budget = request.app[SETTINGS].limits.stream_page_bytes
    total, part = await store.list_part(filters, start_after, size, clock, budget)
    if part.resume_after is None:
        # One copy of the page into the body: the records interleaved with separators, joined once.
        parts = [_head(total or 0)]
        for doc in part.docs:
            parts += (doc, b",")
        if part.docs:
            parts.pop()
        parts.append(b"]}")
        return web.Response(body=b"".join(parts), content_type=JSON)
    response = web.StreamResponse(headers={"Content-Type": JSON})
    await response.prepare(request)
    try:
        await response.write(_head(total or 0))
        sent, separator = 0, b""
        while True:
            docs = part.docs
            docs.reverse()
            while docs:  # each record is let go once written: at most one part, and the record being sent, is held
                await response.write(separator)
                await response.write(docs.pop())
                sent, separator = sent + 1, b","
            if part.resume_after is None or sent >= size:
                break
            _, part = await store.list_part(filters, part.resume_after, size - sent, clock, budget, with_total=False)
        await response.write(b"]}")
        await response.write_eof()
    except Exception as exc:  # the status line is out: all that is left is to break the body off
        if not isinstance(exc, ConnectionError):
            log.warning("a streamed page was broken off: %s", type(exc).__name__)
        if request.transport is not None:
            request.transport.abort()
    return response
