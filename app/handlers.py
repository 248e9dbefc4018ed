"""HTTP handlers: parse the request, call the store, respond. No rules live here."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from bson import ObjectId
from marshmallow import ValidationError

from app.auth import READ, WRITE, requires
from app.errors import Problem, capped, validation_problem
from app.fastload import FastLoader
from app.jsonbody import MalformedJson
from app.keys import BUILDER, CLOCK, STORE
from app.offload import off_loop, parse_body, read_body
from app.pages import page_response
from app.records import RecordRejected, schema_errors
from app.schemas import OBJECT_ID, OrderRecordBulkOperations, OrderRecordsQuery
from app.store.base import RecordFilter

JSON = "application/json"
_envelope = FastLoader(OrderRecordBulkOperations())
_query = OrderRecordsQuery()


def json_response(body: bytes, status: int = 200) -> web.Response:
    return web.Response(body=body, status=status, content_type=JSON)


async def read_json(request: web.Request) -> Any:
    ctype = request.content_type
    if ctype != JSON and not (ctype.startswith("application/") and ctype.endswith("+json")):
        raise Problem(415, "Unsupported Media Type", "The request body must be JSON (Content-Type: application/json).")
    try:
        body = await read_body(request)
    except web.RequestPayloadError:  # e.g. Content-Encoding: gzip on bytes that are not gzip
        raise Problem(400, "Bad Request", "The request body could not be decoded: it does not match its "
                      "Content-Encoding or Transfer-Encoding.",
                      kind="urn:order-records:problem:malformed-body") from None
    try:
        return await parse_body(request, body)
    except MalformedJson as exc:
        raise Problem(400, "Bad Request", f"The request body is not valid JSON: {exc}.",
                      kind="urn:order-records:problem:malformed-json") from None


@requires(WRITE)
async def bulk_create(request: web.Request) -> web.Response:
    payload = await read_json(request)
    if not isinstance(payload, dict):
        raise validation_problem([{"field": "", "message": "The body must be a JSON object."}])
    try:
        items = _envelope.load(payload)["orderRecords"]
    except ValidationError as exc:
        raise validation_problem(schema_errors(exc)) from None
    builder, now = request.app[BUILDER], request.app[CLOCK]()
    results: list[bytes] = [b"" for _ in items]
    accepted: list[tuple[int, dict[str, Any]]] = []
    for i, raw in enumerate(items):
        try:
            accepted.append((i, await off_loop(request, builder.build, raw, str(ObjectId()), now)))
        except RecordRejected as rejected:
            results[i] = orjson.dumps({"status": "FAILED", "errors": capped(rejected.errors)})
    if accepted:
        outcomes = await request.app[STORE].insert_batch([record for _, record in accepted],
                                                         request.app[CLOCK])
        for (i, _), outcome in zip(accepted, outcomes, strict=True):
            # the stored record as the store serialized it: no second serialization of each record
            results[i] = b'{"status":"%b","orderRecord":%b}' % (outcome.status.encode(), outcome.json)
    return json_response(b'{"results":[%b]}' % b",".join(results))


@requires(READ)
async def get_record(request: web.Request) -> web.Response:
    record_id = request.match_info["orderRecordId"]
    found = OBJECT_ID.fullmatch(record_id)
    body = await request.app[STORE].get_json(record_id, request.app[CLOCK]) if found else None
    if body is None:
        raise Problem(404, "Not Found", f"No order record with id {record_id[:64]!r}.")
    return json_response(body)


@requires(READ)
async def list_records(request: web.Request) -> web.StreamResponse:
    repeated = sorted({k for k in request.query if len(request.query.getall(k)) > 1})
    if repeated:
        raise validation_problem([{"field": k, "message": "Given more than once."} for k in repeated])
    try:
        query = _query.load(dict(request.query))
    except ValidationError as exc:
        raise validation_problem(schema_errors(exc)) from None
    filters = RecordFilter(query.get("facilityRef"), query.get("tenantOrderRecordId"))
    return await page_response(request, filters, query.get("startAfterId"), query["size"])


async def health(request: web.Request) -> web.Response:
    return json_response(b'{"status":"ok"}')


async def ready(request: web.Request) -> web.Response:
    await request.app[STORE].ping()
    return json_response(b'{"status":"ready"}')


def add_routes(app: web.Application) -> None:
    app.router.add_put("/api/orderrecords", bulk_create)
    app.router.add_get("/api/orderrecords", list_records, allow_head=False)
    app.router.add_get("/api/orderrecords/{orderRecordId}", get_record, allow_head=False)
    app.router.add_get("/health", health, allow_head=False)
    app.router.add_get("/ready", ready, allow_head=False)
