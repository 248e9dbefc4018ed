"""Request bodies without stalling the event loop: read within a time bound; a large one parsed in a helper process
and its records built on a thread of their own, one at a time. Bodies of ordinary size go the usual way."""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from aiohttp import web

from app.api.errors import Handler, Problem
from app.api.jsonbody import parse_json
from app.api.pieces import cut_body, rebuild
from app.domain.limits import body_proves_caps, vouch_within_caps
from app.settings import Settings

T = TypeVar("T")
# What a large body became (the value parsed, the records built from it), kept for release().
LARGE_BODY = web.RequestKey("large_body", list)
NO_FULL_COLLECTIONS = 2**31 - 1  # gc's third threshold, in collections of the middle generation: never reached


def _vouched(fn: Callable[..., T], *args: Any) -> T:
    vouch_within_caps()  # for this large-body thread, which only ever works on rebuilt, measured records
    return fn(*args)


def release(kept: list[Any]) -> None:
    """Drops what a large request left, a record (or a line item) at a time: freed at once, millions of nodes would
    hold the GIL as long as building them did."""
    while kept:
        value = kept.pop()
        members = list(value.values()) if isinstance(value, dict) else [value]
        if isinstance(value, dict):
            value.clear()
        del value
        while members:
            member = members.pop()
            if isinstance(member, list):
                while member:
                    member.pop()


class Offload:
    """The helper process (started on first use) and the thread that large bodies are worked on."""

    def __init__(self, settings: Settings) -> None:
        self.limits = settings.limits
        self.body_timeout = settings.server.body_timeout_seconds
        # One thread: large bodies are worked on one after another, so at most one of them is being turned into
        # Python objects at a time, however many arrive together.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="large-body")
        self._helper: ProcessPoolExecutor | None = None
        self._in_flight = 0
        self._thresholds = gc.get_threshold()

    def _helper_pool(self) -> ProcessPoolExecutor:
        if self._helper is None:
            # spawn: a fork of this process would copy its threads' locks (SQLite's, the executors') mid-use
            self._helper = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        return self._helper

    async def read(self, request: web.Request) -> bytes:
        try:
            async with asyncio.timeout(self.body_timeout):
                return await request.read()
        except TimeoutError:
            # Otherwise aiohttp would go on reading (and dropping) the rest for up to 10 s before closing.
            request.content.set_exception(TimeoutError())
            raise Problem(408, "Request Timeout", f"The request body did not arrive within {self.body_timeout:g} s.",
                          headers={"Connection": "close"}) from None

    async def parse(self, request: web.Request, body: bytes) -> Any:
        if len(body) <= self.limits.offload_body_bytes:
            if body_proves_caps(len(body), self.limits):
                vouch_within_caps()  # for the rest of this request's task
            return parse_json(body)
        kept = self._begin(request)
        loop = asyncio.get_running_loop()
        try:
            cut = await loop.run_in_executor(self._helper_pool(), cut_body, body, self.limits)
        except BrokenProcessPool:  # the helper died (killed, out of memory): a new one for the next request
            self._helper = None
            raise Problem(503, "Service Unavailable", "The request could not be processed; retry later.",
                          headers={"Retry-After": "5"}) from None
        kept.append(value := await loop.run_in_executor(self._thread, rebuild, cut))
        return value

    async def run(self, request: web.Request, fn: Callable[..., T], *args: Any) -> T:
        kept = request.get(LARGE_BODY)
        if kept is None:
            return fn(*args)
        # every record rebuilt from the helper's pieces was measured there (one over the caps is a stand-in)
        result = await asyncio.get_running_loop().run_in_executor(self._thread, _vouched, fn, *args)
        kept.append(result)
        return result

    def _begin(self, request: web.Request) -> list[Any]:
        # A large body may become millions of objects (8 MiB of "[]," is 2.8 million lists) that live until its
        # request ends. Each full collection meanwhile walks all of them, holding the GIL for up to a second (seen
        # in the middle of rebuilding one). Young generations are still collected; full collections wait until
        # no large body is in flight, when its objects are gone and such a walk is short again.
        if self._in_flight == 0:
            self._thresholds = gc.get_threshold()
            gc.set_threshold(*self._thresholds[:2], NO_FULL_COLLECTIONS)
        self._in_flight += 1
        kept: list[Any] = []
        request[LARGE_BODY] = kept
        return kept

    def end(self, request: web.Request) -> None:
        """The request is over: what its body became is released on the large-body thread."""
        kept = request.get(LARGE_BODY)
        if kept is None:
            return
        del request[LARGE_BODY]
        try:
            done = asyncio.get_running_loop().run_in_executor(self._thread, release, kept)
        except RuntimeError:  # shutting down: the thread is gone
            self._ended()
        else:
            done.add_done_callback(lambda _: self._ended())

    def _ended(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            gc.set_threshold(*self._thresholds)

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)
        if self._helper is not None:
            self._helper.shutdown(wait=False, cancel_futures=True)


OFFLOAD = web.AppKey("offload", Offload)


@web.middleware
async def large_body_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Tells Offload when a request whose body it parsed is over (the handler holds nothing of it any more)."""
    try:
        return await handler(request)
    finally:
        request.app[OFFLOAD].end(request)


async def offload_ctx(app: web.Application) -> AsyncIterator[None]:
    yield
    app[OFFLOAD].close()


async def read_body(request: web.Request) -> bytes:
    """The whole body, within server.body_timeout_seconds (else 408, and the connection is closed)."""
    return await request.app[OFFLOAD].read(request)


async def parse_body(request: web.Request, body: bytes) -> Any:
    """parse_json(body); for a body over limits.offload_body_bytes, without holding the event loop."""
    return await request.app[OFFLOAD].parse(request, body)


async def off_loop(request: web.Request, fn: Callable[..., T], *args: Any) -> T:
    """fn(*args): at once for a request of ordinary size, on the large-body thread for one parsed by parse_body."""
    return await request.app[OFFLOAD].run(request, fn, *args)
