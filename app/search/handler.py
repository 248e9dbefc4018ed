"""POST /api/orderrecords/search (searchOrderRecord): payload → query → one store call → a page with pageInfo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiohttp import web
from marshmallow import ValidationError

from app.api.auth import READ, requires
from app.api.errors import Problem, validation_problem
from app.api.records import json_response, read_json
from app.keys import CLOCK, STORE
from app.records import schema_errors
from app.schemas.types import OBJECT_ID
from app.search import cursor
from app.search.build import EPOCH, MAX_LEAVES, Builder, epoch_ms, nesting_errors
from app.search.payload import OrderRecordSearchPayload
from app.search.query import Position, SearchQuery, Window

DEFAULT_PAGE = 20
_payload = OrderRecordSearchPayload()


def _bad(field: str, message: str) -> Problem:
    return validation_problem([{"field": field, "message": message}])


def _load(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _bad("", "The body must be a JSON object.")
    errors = nesting_errors(raw.get("query"))
    if errors:
        raise validation_problem(errors)
    try:
        return _payload.load(raw)
    except ValidationError as exc:
        raise validation_problem(schema_errors(exc)) from None


def _now(data: dict[str, Any], field: str | None, clock_now: datetime) -> datetime:
    """The first page's now, carried by the cursor of every later page."""
    if field is None:
        return clock_now.replace(microsecond=clock_now.microsecond // 1000 * 1000)
    try:
        return EPOCH + timedelta(milliseconds=cursor.now_of(data[field]))
    except (cursor.BadCursor, OverflowError):
        raise _bad(field, "Not a cursor of this service.") from None


@requires(READ)
async def search_records(request: web.Request) -> web.Response:
    data = _load(await read_json(request))
    cursor_field = next((name for name in ("after", "before") if name in data), None)
    now = _now(data, cursor_field, request.app[CLOCK]())
    builder = Builder(now.astimezone(UTC))
    query = SearchQuery(builder.query(data["query"]), builder.sort(data.get("sort")), epoch_ms(now))
    if builder.leaves > MAX_LEAVES:
        builder.errors.append({"field": "query", "message": f"At most {MAX_LEAVES} filters in one query."})
    if builder.errors:
        raise validation_problem(builder.errors)
    bound = cursor.binding(data["query"], data.get("sort"), query.now_ms)
    position: Position | None = None
    if cursor_field is not None:
        try:
            position = cursor.decode(data[cursor_field], bound)
        except cursor.BadCursor as exc:
            raise _bad(cursor_field, f"Not a cursor of this query ({exc}): use the cursor a page of this same "
                       "query and sort returned.") from None
    elif "startAfterId" in data:
        if not OBJECT_ID.fullmatch(data["startAfterId"]):
            raise _bad("startAfterId", "Not an order record id (24 hexadecimal characters).")
        if query.sort.field != "id":
            raise _bad("startAfterId", "Only with the default sort by id; use after with pageInfo.endCursor.")
        position = (data["startAfterId"], data["startAfterId"])
    backward = "last" in data or "before" in data
    size = data.get("last") or data.get("size") or DEFAULT_PAGE
    with_total = bool(data.get("options", {}).get("withTotal"))
    found = await request.app[STORE].search(query, Window(position, backward, size + 1, with_total),
                                            request.app[CLOCK]())
    rows = found.rows[:size]
    more = len(found.rows) > size
    if backward:
        rows.reverse()
    echo = data.get(cursor_field, "") if cursor_field else ""
    page_info = {
        "hasNextPage": found.behind if backward else more,
        "hasPreviousPage": more if backward else found.behind,
        "startCursor": cursor.encode((rows[0][1], rows[0][2]), bound, query.now_ms) if rows else echo,
        "endCursor": cursor.encode((rows[-1][1], rows[-1][2]), bound, query.now_ms) if rows else echo,
    }
    head = orjson.dumps({"pageInfo": page_info, **({"total": found.total} if with_total else {})})
    return json_response(head[:-1] + b',"orderRecords":[' + b",".join(row[0] for row in rows) + b"]}")
