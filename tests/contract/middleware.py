"""An aiohttp middleware that checks every answer of the documented paths against the official components."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.payload import Payload

from tests.contract.routes import operation_for, response_component
from tests.contract.schemas import validate

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]
MAX_LISTED = 5  # problems quoted per response; the count says how many there were


def contract_middleware(failures: list[str], *, strict: bool = False) -> Middleware:
    """A middleware that appends one message to `failures` per response breaking the official contract.

    Put it outermost, before the app starts (`app.middlewares.insert(0, contract_middleware(failures))`), so that
    it sees what the client gets. It never changes a response or raises; the test asserts `failures == []`."""

    @web.middleware
    async def contract(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # aiohttp sends a raised HTTPException as the response
            check_response(request, exc, failures, strict=strict)
            raise
        except Exception as exc:
            if response_component(request.method, request.path, 500) is not None:
                failures.append(f"{request.method} {request.path}: {type(exc).__name__} escaped every middleware; "
                                "aiohttp answers it with a text/plain 500, not ApiError")
            raise
        check_response(request, response, failures, strict=strict)
        return response

    return contract


def check_response(request: web.Request, response: web.StreamResponse, failures: list[str], *,
                   strict: bool = False) -> None:
    """Append a message to `failures` if the response is not what the official document says it is."""
    method, path, status = request.method, request.path, response.status
    label = f"{method} {path} -> {status}"
    component = response_component(method, path, status)
    if component is None:
        operation_id = operation_for(method, path)
        if operation_id is not None:
            failures.append(f"{label}: {operation_id} declares no status {status}")
        return
    if not isinstance(response, web.Response):
        # A list page too large to build in memory is written to the socket as it is read (app/api/pages.py): its body
        # is gone by now. tests/test_streamed_pages.py reads such pages whole and validates them; anything else
        # streamed is a failure.
        if not (method == "GET" and path == "/api/orderrecords" and status == 200):
            failures.append(f"{label}: a streamed response; its body cannot be checked against {component}")
        return
    problems = [] if response.content_type == "application/json" else [
        f"Content-Type {response.content_type!r}, the document says application/json"]
    body = response.body
    if isinstance(body, Payload):  # a list page's pieces (app/api/pages.py), not sent yet
        body = body.decode().encode()
    try:
        if not isinstance(body, bytes | bytearray):
            raise ValueError(f"a {type(body).__name__} body")
        problems += validate(component, json.loads(body), strict=strict)
    except ValueError as exc:
        problems.append(f"the body is not JSON ({exc})")
    if problems:
        more = f" (and {len(problems) - MAX_LISTED} more)" if len(problems) > MAX_LISTED else ""
        failures.append(f"{label}: not {component}: {'; '.join(problems[:MAX_LISTED])}{more}")
