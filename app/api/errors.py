"""The one error shape (the official `ApiError`: a JSON array of {summary, description}) and the middleware that
turns every failure into it."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from aiohttp import web

from app.store.base import StoreUnavailable

log = logging.getLogger("app.api.errors")
REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Errors listed per record and per request: a body of 100,000 unknown fields must not get an answer 4x its size.
MAX_ERRORS = 100


class Problem(Exception):
    """A failure with its HTTP status, told to the client as an ApiError: `title` becomes each entry's summary;
    `detail` the description, or, for a validation failure, one entry per field error ("path: rule"). `fields`
    adds members to the entry (a version conflict's version and requestVersion)."""

    def __init__(self, status: int, title: str, detail: str, *, kind: str = "about:blank",
                 errors: list[dict[str, str]] | None = None, headers: Mapping[str, str] | None = None,
                 fields: Mapping[str, int] | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.kind = status, title, detail, kind
        self.errors = errors
        self.headers = dict(headers or {})
        self.fields = dict(fields or {})


def capped(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """At most MAX_ERRORS entries, the last one saying how many were left out."""
    if len(errors) <= MAX_ERRORS:
        return errors
    omitted = len(errors) - (MAX_ERRORS - 1)
    return [*errors[:MAX_ERRORS - 1], {"field": "", "message": f"{omitted} more errors omitted."}]


def validation_problem(errors: list[dict[str, str]], detail: str = "The request is not valid.") -> Problem:
    return Problem(400, "Invalid input", detail, kind="urn:order-records:problem:validation", errors=capped(errors))


def described(error: dict[str, str]) -> str:
    """A field error as the official messages put it: `lineItems.0.quantity: Must be at least 1.`"""
    return f"{error['field']}: {error['message']}" if error["field"] else error["message"]


def api_error(problem: Problem) -> list[dict[str, Any]]:
    if problem.errors:
        return [{"summary": problem.title, "description": described(e)} for e in problem.errors]
    return [{"summary": problem.title, "description": problem.detail, **problem.fields}]


def problem_response(problem: Problem, request_id: str) -> web.Response:
    return web.Response(body=orjson.dumps(api_error(problem)), status=problem.status, content_type="application/json",
                        headers={**problem.headers, REQUEST_ID_HEADER: request_id})


def _from_http_exception(exc: web.HTTPException) -> Problem:
    detail = {
        404: "No such resource.",
        405: f"Method not allowed; allowed: {', '.join(sorted(getattr(exc, 'allowed_methods', ())))}.",
    }.get(exc.status) or exc.text or exc.reason
    headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after", "www-authenticate")}
    return Problem(exc.status, exc.reason, detail, headers=headers)


REQUEST_ID = web.RequestKey("request_id", str)


async def add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the request id on every answer, also those a handler sends itself (streamed, or headers
    ahead of the body), whose headers are out before error_middleware sees the response."""
    request_id = request.get(REQUEST_ID)
    if request_id is not None:
        response.headers.setdefault(REQUEST_ID_HEADER, request_id)


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = given if _SAFE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    try:
        response = await handler(request)
    except Problem as problem:
        return problem_response(problem, request_id)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return problem_response(_from_http_exception(exc), request_id)
    except StoreUnavailable as exc:
        log.warning("database unavailable (request %s, %s %s): %s", request_id, request.method, request.path, exc)
        return problem_response(Problem(503, "Service Unavailable", "The database is not reachable; retry later.",
                                        headers={"Retry-After": "5"}), request_id)
    except Exception as exc:
        if isinstance(exc, OSError) and _client_gone(request):  # e.g. ConnectionResetError mid-body: no fault here
            log.debug("client disconnected (request %s, %s %s): %r", request_id, request.method, request.path, exc)
            return problem_response(Problem(400, "Bad Request", "The connection closed before the request was read."),
                                    request_id)
        log.exception("internal error (request %s, %s %s)", request_id, request.method, request.path)
        return problem_response(Problem(500, "Internal Server Error",
                                        f"An internal error occurred; quote request id {request_id}."), request_id)
    response.headers.setdefault(REQUEST_ID_HEADER, request_id)
    return response
