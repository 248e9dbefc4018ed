"""HTTP handlers: parse the request, call the store, respond. No rules live here."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from marshmallow import ValidationError

from app.api import configurations
from app.api.auth import READ, WRITE, requires
from app.api.errors import Problem, capped, described, validation_problem
from app.api.jsonbody import MalformedJson
from app.api.offload import off_loop, parse_body, read_body
from app.api.pages import JSON, page_response
from app.config.cache import CONFIGURATIONS
from app.domain.digest import same_input
from app.domain.objectids import IDS
from app.keys import BUILDER, CLOCK, STORE
from app.records import RecordRejected, client_input, schema_errors
from app.schemas.fastload import FastLoader
from app.schemas.query import OrderRecordsQuery
from app.schemas.records import OrderRecordBulkOperations
from app.schemas.types import OBJECT_ID
from app.store.base import InsertOutcome, RecordFilter

_envelope = FastLoader(OrderRecordBulkOperations())
_query = FastLoader(OrderRecordsQuery())  # a page request pays ~20 µs for marshmallow, ~3 for this


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


def failed(kind: str, message: str) -> bytes:
    return orjson.dumps({"status": "FAILED", "error": {"type": kind, "message": message}})


def settled(outcome: InsertOutcome, record: dict[str, Any]) -> tuple[str, bytes]:
    """The detail of a record the store took or matched: CREATED, UNCHANGED, or FAILED (a changed resend)."""
    if outcome.status == "FAILED":
        return "FAILED", failed("UNKNOWN", outcome.message)
    if outcome.status == "EXISTS":
        # What the client sent this time against what it sent then, as the stored record is served now: in whole,
        # or on the fields anonymization keeps once either is anonymized.
        stored = orjson.loads(outcome.json)
        if not same_input(client_input(record), record["anonymized"], client_input(stored), stored["anonymized"]):
            tenant_id = record.get("tenantOrderRecordId", "")
            return "FAILED", failed("VALIDATION", f"tenantOrderRecordId: {tenant_id[:256]!r} is stored already "
                                    f"with other content, as order record {stored['id']} (order records cannot be "
                                    "changed).")
    status = "CREATED" if outcome.status == "CREATED" else "UNCHANGED"
    # the stored record as the store serialized it: no second serialization of each record
    return status, b'{"status":"%b","orderRecord":%b}' % (status.encode(), outcome.json)


@requires(WRITE)
async def bulk_create(request: web.Request) -> web.Response:
    config = request.app[CONFIGURATIONS]
    if not await config.order_records_enabled():
        raise Problem(403, "Forbidden", "Order records are disabled (isOrderRecordsEnabled is false in "
                      "/api/configurations/orderrecords): none can be created; reads and search keep working.")
    policy = await config.policy()  # new records take the GDPR configuration in force now
    payload = await read_json(request)
    if not isinstance(payload, dict):
        raise validation_problem([{"field": "", "message": "The body must be a JSON object."}])
    try:
        items = _envelope.load(payload)["operations"]
    except ValidationError as exc:
        raise validation_problem(schema_errors(exc)) from None
    builder, now = request.app[BUILDER], request.app[CLOCK]()
    details: list[bytes] = [b"" for _ in items]
    accepted: list[tuple[int, dict[str, Any]]] = []
    ids = IDS.take(len(items))
    for i, raw in enumerate(items):
        try:
            accepted.append((i, await off_loop(request, builder.build, raw, ids[i], now, policy)))
        except RecordRejected as rejected:
            details[i] = failed("VALIDATION", "; ".join(described(e) for e in capped(rejected.errors)))
    counts = {"CREATED": 0, "UNCHANGED": 0, "FAILED": 0}
    if accepted:
        records = [record for _, record in accepted]
        outcomes = await request.app[STORE].insert_batch(records, request.app[CLOCK])
        for (i, record), outcome in zip(accepted, outcomes, strict=True):
            status, details[i] = settled(outcome, record)
            counts[status] += 1
    summary = b'{"created":%d,"updated":0,"unchanged":%d}' % (counts["CREATED"], counts["UNCHANGED"])
    return json_response(b'{"summary":%b,"details":[%b]}' % (summary, b",".join(details)))


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
    from app.search.handler import search_records  # here: the search handler builds on this module

    app.router.add_put("/api/orderrecords", bulk_create)
    app.router.add_get("/api/orderrecords", list_records, allow_head=False)
    app.router.add_post("/api/orderrecords/search", search_records)
    app.router.add_get("/api/orderrecords/{orderRecordId}", get_record, allow_head=False)
    app.router.add_get("/health", health, allow_head=False)
    app.router.add_get("/ready", ready, allow_head=False)
    configurations.add_routes(app)
