"""The contract test kit itself: official-shape bodies pass, old-shape ones fail, paths map, the middleware reports."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.contract import (
    COMPONENTS,
    OPERATIONS,
    contract_middleware,
    operation_for,
    postman_bulk_examples,
    response_component,
    schema_for,
    validate,
)

ID = "65f0a1b2c3d4e5f6a7b8c9d0"
STAMP = "2026-11-25T12:00:00.000Z"


def money(value: int) -> dict[str, Any]:
    return {"value": value, "currency": "EUR", "decimalPlaces": 2}


def totals(value: int | None = 5998) -> dict[str, Any]:
    amount = None if value is None else money(value)
    zero = None if value is None else money(0)
    return {"subTotal": amount, "totalDiscounts": {"value": zero, "breakdown": {"lineItemDiscounts": zero,
                                                                               "orderDiscounts": zero}},
            "totalLineItemSurcharges": zero, "totalFees": zero, "totalTaxes": zero, "total": amount}


def record() -> dict[str, Any]:
    """A stored record in the official shape."""
    return {
        "id": ID, "version": 1, "created": STAMP, "lastModified": STAMP, "anonymized": False,
        "gdprCleanupDate": "2027-02-23T12:00:00.000Z", "deletionDate": "2036-11-23T12:00:00.000Z",
        "orderRecordDate": "2026-11-25T11:00:00.000Z", "facilityRef": "facility-1", "tenantOrderRecordId": "r-1",
        "origin": {"type": "POS", "terminalId": "t-1", "cashierId": "c-1"},
        "consumer": {"email": "jane@example.com", "addresses": [{"country": "DE", "houseNumber": "4a"}]},
        "lineItems": [{"id": "li-1", "quantity": 2, "article": {"tenantArticleId": "a-1", "attributes": [
            {"category": "basePrice", "key": "value", "value": "2999"}]}}],
        "payments": [{"value": money(5998), "status": "COMPLETED", "paymentMethod": "CASH"}],
        "pricing": {"taxes": [{"value": money(958), "ratePercent": 19}], "total": {"priceBreakdown": totals()}},
        "customAttributes": None,
    }


def bulk_response() -> dict[str, Any]:
    return {"summary": {"created": 1, "updated": 0, "unchanged": 1}, "details": [
        {"status": "CREATED", "orderRecord": record()},
        {"status": "UNCHANGED", "orderRecord": record()},
        {"status": "FAILED", "error": {"type": "VALIDATION", "message": "lineItems.0.quantity: Must be at least 1."}},
    ]}


VALID: list[tuple[str, Callable[[], Any]]] = [
    ("OrderRecord", record),
    ("OrderRecordBulkOperationsResponse", bulk_response),
    ("ApiError", lambda: [{"summary": "Invalid input", "description": "size: Must be at most 500."},
                          {"summary": "Version conflict", "version": 3, "requestVersion": 2}]),
    ("OrderRecordTotals", lambda: totals(None)),
    ("OrderRecords", lambda: {"orderRecords": [record()], "total": 1}),
    ("OrderRecordPaginatedResult", lambda: {"orderRecords": [], "pageInfo": {
        "hasNextPage": False, "hasPreviousPage": False, "startCursor": "", "endCursor": ""}}),
    ("GdprConfiguration", lambda: {"retentionTime": 90, "deletionTimeAfterRetention": 3560, "version": 0,
                                   "actorAnonymization": True, "created": STAMP, "lastModified": STAMP}),
]


def without(body: dict[str, Any], *path: str | int) -> dict[str, Any]:
    body = copy.deepcopy(body)
    node: Any = body
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return body


def replaced(body: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    body = copy.deepcopy(body)
    node: Any = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return body


@pytest.mark.parametrize(("component", "make"), VALID, ids=[name for name, _ in VALID])
def test_official_shapes_conform(component: str, make: Callable[[], Any]) -> None:
    assert validate(component, make()) == []
    assert validate(component, make(), strict=True) == []


INVALID: list[tuple[str, Any, str]] = [
    ("ApiError", {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "x"},
     "$: {'type': 'about:blank', 'title': 'Bad Request', 'status': 400, 'detail': 'x'} is not of type 'array'"),
    ("ApiError", [{"description": "no summary"}], "$[0]: 'summary' is a required property"),
    ("OrderRecordBulkOperationsResponse", without(bulk_response(), "summary"), "$: 'summary' is a required property"),
    ("OrderRecordBulkOperationsResponse", {"results": [{"status": "CREATED", "orderRecord": record()}]},
     "$: 'details' is a required property"),
    ("OrderRecordBulkOperationsResponse", replaced(bulk_response(), "ALREADY_EXISTS", "details", 1, "status"),
     "$.details[1].status: 'ALREADY_EXISTS' is not one of ['CREATED', 'FAILED', 'UNCHANGED']"),
    ("OrderRecordBulkOperationsResponse", replaced(bulk_response(), "CONFLICT", "details", 2, "error", "type"),
     "$.details[2].error.type: 'CONFLICT' is not one of ['VALIDATION', 'UNKNOWN']"),
    ("OrderRecordTotals", without(totals(None), "totalFees"), "$: 'totalFees' is a required property"),
    ("OrderRecordTotals", without(totals(), "total", "currency"), "$.total: 'currency' is a required property"),
    ("OrderRecordTotals", replaced(totals(None), "0", "total"), "$.total: '0' is not of type 'null' or 'object'"),
    ("OrderRecordTotals", without(totals(None), "totalDiscounts", "breakdown", "orderDiscounts"),
     "$.totalDiscounts.breakdown: 'orderDiscounts' is a required property"),
    ("OrderRecord", without(record(), "lineItems", 0, "id"), "$.lineItems[0]: 'id' is a required property"),
    ("OrderRecord", without(record(), "origin", "type"), "$.origin: 'type' is a required property"),
    ("OrderRecord", without(record(), "payments", 0, "value"), "$.payments[0]: 'value' is a required property"),
    ("OrderRecord", replaced(record(), "yesterday", "created"), "$.created: 'yesterday' is not a 'date-time'"),
    ("OrderRecord", replaced(record(), "P1X", "lineItems", 0, "warranty"), "$.lineItems[0].warranty: 'P1X' is not "
     "of type 'object'"),
    ("OrderRecord", replaced(record(), {"warrantyPeriod": "P1X"}, "lineItems", 0, "warranty"),
     "$.lineItems[0].warranty.warrantyPeriod: 'P1X' does not match"),
    ("ErrorInner", {"summary": "Conflict", "version": 2**63}, "$.version: 9223372036854775808 is not a 'int64'"),
    ("GdprConfiguration", {"retentionTime": 0, "version": 1}, "$.retentionTime: 0 is less than the minimum of 1"),
    ("GdprConfiguration", {"retentionTime": 30, "version": 1, "retention": 30},
     "$: Unevaluated properties are not allowed ('retention' was unexpected)"),
]


@pytest.mark.parametrize(("component", "body", "expected"), INVALID)
def test_other_shapes_fail_with_a_json_path(component: str, body: Any, expected: str) -> None:
    problems = validate(component, body)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_strict_refuses_what_the_document_does_not_name() -> None:
    old_totals = replaced(record(), {"priceBreakdown": totals()}, "pricing")  # the old place of the totals
    assert validate("OrderRecord", old_totals) == []  # the document leaves objects open...
    assert validate("OrderRecord", old_totals, strict=True) == [
        "$.pricing: Unevaluated properties are not allowed ('priceBreakdown' was unexpected)"]
    leaked = replaced(record(), "ab12", "contentDigest")
    assert validate("OrderRecord", leaked, strict=True) == [
        "$: Unevaluated properties are not allowed ('contentDigest' was unexpected)"]
    assert validate("ApiError", [{"summary": "x", "field": "size"}], strict=True) == [
        "$[0]: Unevaluated properties are not allowed ('field' was unexpected)"]


def test_every_official_component_and_operation_is_there() -> None:
    assert {"OrderRecord", "OrderRecordForCreation", "ApiError", "OrderRecordBulkOperations",
            "OrderRecordBulkOperationsResponse", "OrderRecords", "OrderRecordPaginatedResult", "GdprConfiguration",
            "OrderRecordsConfiguration", "OrderRecordSearchPayload", "OrderRecordTotals"} <= COMPONENTS
    assert len(COMPONENTS) == 59
    assert set(OPERATIONS) == {"bulkCreateOrderRecords", "listOrderRecords", "getOrderRecord", "searchOrderRecord",
                               "getOrderRecordsConfiguration", "updateOrderRecordsConfiguration",
                               "getGdprConfiguration", "putGdprConfiguration"}
    assert OPERATIONS["bulkCreateOrderRecords"]["request"] == "OrderRecordBulkOperations"
    with pytest.raises(KeyError):
        schema_for("OrderRecordResults")


def test_the_postman_examples_are_official_requests() -> None:
    examples = postman_bulk_examples()
    assert len(examples) == 8
    for name, body in examples:
        assert validate("OrderRecordBulkOperations", body, strict=True) == [], name


@pytest.mark.parametrize(("method", "path", "status", "operation", "component"), [
    ("PUT", "/api/orderrecords", 200, "bulkCreateOrderRecords", "OrderRecordBulkOperationsResponse"),
    ("GET", "/api/orderrecords", 200, "listOrderRecords", "OrderRecords"),
    ("get", "/api/orderrecords?size=25", 400, "listOrderRecords", "ApiError"),
    ("GET", f"/api/orderrecords/{ID}", 200, "getOrderRecord", "OrderRecord"),
    ("GET", f"/api/orderrecords/{ID}", 404, "getOrderRecord", "ApiError"),
    ("POST", "/api/orderrecords/search", 200, "searchOrderRecord", "OrderRecordPaginatedResult"),
    ("POST", "/api/orderrecords/search", 400, "searchOrderRecord", "ApiError"),  # not declared: ApiError
    ("GET", "/api/orderrecords/search", 404, "getOrderRecord", "ApiError"),  # the templated GET takes it
    ("PUT", "/api/configurations/orderrecords", 201, "updateOrderRecordsConfiguration", "OrderRecordsConfiguration"),
    ("PUT", "/api/configurations/gdpr", 409, "putGdprConfiguration", "ApiError"),
    ("GET", "/api/configurations/gdpr", 200, "getGdprConfiguration", "GdprConfiguration"),
    ("PUT", "/api/orderrecords", 201, "bulkCreateOrderRecords", None),  # an undeclared success status
    ("PATCH", "/api/orderrecords", 405, None, "ApiError"),  # a documented path, another method
    ("DELETE", f"/api/orderrecords/{ID}", 405, None, "ApiError"),
    ("GET", "/api/orderrecords/a/b", 404, None, None),  # outside the document
    ("GET", "/health", 503, None, None),
])
def test_paths_map_to_operations_and_components(method: str, path: str, status: int, operation: str | None,
                                                component: str | None) -> None:
    assert operation_for(method, path) == operation
    assert response_component(method, path, status) == component


# --- the middleware on a tiny app ----------------------------------------------------------------------------

def api_error(status: int) -> web.Response:
    return web.json_response([{"summary": "Not found", "description": "No such order record."}], status=status)


@web.middleware
async def error_to_api_error(request: web.Request, handler: Any) -> web.StreamResponse:
    """Stands in for the app's own error middleware, which the contract middleware must sit outside of."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if request.path == "/api/configurations/gdpr":
            raise  # left to aiohttp: its text/plain answer must be reported
        return web.json_response([{"summary": exc.reason}], status=exc.status)


async def get_record(request: web.Request) -> web.StreamResponse:
    match request.match_info["orderRecordId"]:
        case "old":
            return web.json_response(without(record(), "lineItems", 0, "id"))
        case "problem":
            return web.json_response({"title": "Not Found", "status": 404}, status=404,
                                     content_type="application/problem+json")
        case "raised":
            raise web.HTTPNotFound(text='[{"summary": "Not found"}]', content_type="application/json")
        case "boom":
            raise RuntimeError("an unexpected failure")
        case "streamed":
            response = web.StreamResponse()
            await response.prepare(request)
            await response.write(b"{}")
            return response
        case "missing":
            return api_error(404)
        case "empty":
            return web.json_response({})
    return web.json_response(record())


async def bulk_create(request: web.Request) -> web.Response:
    return web.json_response(bulk_response(), status=201 if "created" in request.query else 200)


async def get_gdpr(request: web.Request) -> web.Response:
    raise web.HTTPServiceUnavailable()


async def not_ready(request: web.Request) -> web.Response:
    return web.json_response({"status": "database unreachable"}, status=503)


@pytest.fixture
async def contract_client(aiohttp_client: Any) -> tuple[TestClient, list[str]]:
    app = web.Application(middlewares=[error_to_api_error])
    app.router.add_get("/api/orderrecords/{orderRecordId}", get_record)
    app.router.add_put("/api/orderrecords", bulk_create)
    app.router.add_get("/api/configurations/gdpr", get_gdpr)
    app.router.add_get("/health", not_ready)
    failures: list[str] = []
    app.middlewares.insert(0, contract_middleware(failures))
    return await aiohttp_client(app), failures


async def test_middleware_passes_conforming_answers(contract_client: tuple[TestClient, list[str]]) -> None:
    client, failures = contract_client
    for method, path, status in [("GET", f"/api/orderrecords/{ID}", 200), ("GET", "/api/orderrecords/missing", 404),
                                 ("GET", "/api/orderrecords/raised", 404), ("PUT", "/api/orderrecords", 200),
                                 ("PATCH", "/api/orderrecords", 405), ("GET", "/health", 503),
                                 ("GET", "/elsewhere", 404)]:
        response = await client.request(method, path)
        assert response.status == status, path
    assert failures == []


@pytest.mark.parametrize(("method", "path", "status", "expected"), [
    ("GET", "/api/orderrecords/old", 200,
     "GET /api/orderrecords/old -> 200: not OrderRecord: $.lineItems[0]: 'id' is a required property"),
    ("GET", "/api/orderrecords/problem", 404, "GET /api/orderrecords/problem -> 404: not ApiError: Content-Type "
     "'application/problem+json', the document says application/json; $: {'title': 'Not Found', 'status': 404} "
     "is not of type 'array'"),
    ("PUT", "/api/orderrecords?created", 201,
     "PUT /api/orderrecords -> 201: bulkCreateOrderRecords declares no status 201"),
    ("GET", "/api/configurations/gdpr", 503, "GET /api/configurations/gdpr -> 503: not ApiError: Content-Type "
     "'text/plain', the document says application/json; the body is not JSON"),
    ("GET", "/api/orderrecords/boom", 500, "GET /api/orderrecords/boom: RuntimeError escaped every middleware"),
    ("GET", "/api/orderrecords/streamed", 200, "GET /api/orderrecords/streamed -> 200: a streamed response"),
    ("GET", "/api/orderrecords/empty", 200, "GET /api/orderrecords/empty -> 200: not OrderRecord: $: 'anonymized' "
     "is a required property; $: 'created' is a required property;"),  # 10 missing: five quoted, "(and 5 more)"
])
async def test_middleware_reports_what_breaks_the_contract(contract_client: tuple[TestClient, list[str]],
                                                           method: str, path: str, status: int,
                                                           expected: str) -> None:
    client, failures = contract_client
    response = await client.request(method, path)
    assert response.status == status  # the answer itself is left as it was
    assert len(failures) == 1 and failures[0].startswith(expected), failures
    assert failures[0].endswith("(and 5 more)") == path.endswith("empty")
