"""What each route does, as OpenAPI operations; app.openapi.document adds security and the shared error responses."""

from __future__ import annotations

from typing import Any

from app.api.records import JSON
from app.openapi import configurations
from app.openapi import examples as ex
from app.openapi import schemas as docs
from app.search import openapi as search_docs

BEARER = "bearerAuth"
ALPHA = "This part of the API is in Alpha status."
API_ERROR = {"$ref": "#/components/schemas/ApiError"}
_TITLES = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 413: "Request Entity Too Large",
           415: "Unsupported Media Type", 500: "Internal Server Error", 503: "Service Unavailable"}


def _error(description: str, status: int, detail: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    example = [{"summary": _TITLES[status], "description": detail}]
    response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": API_ERROR,
                                                                                "example": example}}}
    if headers:
        response["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                               for name, text in headers.items()}
    return response


ERROR_RESPONSES: dict[str, dict[str, Any]] = {
    "BadRequest": {"description": "Invalid input: one entry per problem, its description naming the field and the "
                                  "rule.", "content": {JSON: {"schema": API_ERROR, "example": ex.VALIDATION_ERROR}}},
    "Unauthorized": _error("No, a malformed, a wrongly signed or an expired bearer token.", 401,
                           "The token has expired.",
                           {"WWW-Authenticate": 'The challenge: Bearer realm="order-records".'}),
    "Forbidden": _error("The token lacks the permission this operation needs.", 403,
                        "The token lacks the permission ORDER_RECORD_WRITE."),
    "NotFound": _error("No such order record.", 404, "No order record with id '6650a1f2c3d4e5f6a7b8c9d0'."),
    "PayloadTooLarge": _error("The body exceeds server.max_body_bytes.", 413,
                              "Maximum request body size 8388608 exceeded, actual body size 8388609"),
    "UnsupportedMediaType": _error("The body is not sent as JSON.", 415,
                                   "The request body must be JSON (Content-Type: application/json)."),
    "ServiceUnavailable": _error("The database (or the token signing keys) cannot be reached; retry later.", 503,
                                 "The database is not reachable; retry later.",
                                 {"Retry-After": "Seconds to wait before retrying."}),
    "InternalServerError": _error("An unexpected failure; no internals are disclosed.", 500,
                                  "An internal error occurred; quote request id 3f2b9c0e8d1a4b5c9e7f6a5b4c3d2e1f."),
}
ERROR_RESPONSES.update(configurations.RESPONSES)
SECURED_RESPONSES = {"401": "Unauthorized", "403": "Forbidden", "503": "ServiceUnavailable"}


def _ok(description: str, schema: Any, **media: Any) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema, **media}}}


OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("PUT", "/api/orderrecords"): {
        "operationId": "bulkCreateOrderRecords", "tags": ["Order Records (DOMS)"],
        "summary": "Bulk create order records",
        "description": f"{ALPHA} Creates 1 to 25 order records in one request. Each record is validated on its own: "
                       "the response holds one result per operation, in order (CREATED; UNCHANGED for a "
                       "tenantOrderRecordId stored already with the same content; FAILED with its error), so a "
                       "retried batch is safe.",
        "requestBody": {"required": True, "content": {JSON: {"schema": docs.OrderRecordBulkOperations,
                                                             "examples": ex.BULK_REQUEST}}},
        "responses": {
            "200": _ok("A summary, and one result per operation in the same order.",
                       docs.OrderRecordBulkOperationsResponse,
                       example=ex.BULK_RESPONSE),
            "400": "BadRequest", "413": "PayloadTooLarge", "415": "UnsupportedMediaType",
        },
    },
    ("GET", "/api/orderrecords"): {
        "operationId": "listOrderRecords", "tags": ["Order Records (DOMS)"], "summary": "List order records",
        "description": f"{ALPHA} A page of records in ascending id order, optionally filtered. To page on, pass the "
                       "id of the last record of the previous page as startAfterId.",
        "parameters": [{"in": "query", "schema": docs.OrderRecordsQuery}],
        "responses": {
            "200": _ok("The page, and the number of all records matching the filters.", docs.OrderRecords,
                       example={"total": 1, "orderRecords": [ex.STORED_RECORD]}),
            "400": "BadRequest",
        },
    },
    ("GET", "/api/orderrecords/{orderRecordId}"): {
        "operationId": "getOrderRecord", "tags": ["Order Records (DOMS)"], "summary": "Get an order record",
        "description": f"{ALPHA} One order record by its id.",
        "parameters": [{"in": "path", "schema": docs.OrderRecordPath}],
        "responses": {"200": _ok("The order record.", docs.OrderRecord, example=ex.STORED_RECORD), "404": "NotFound"},
    },
    ("POST", "/api/orderrecords/search"): search_docs.OPERATION,
    ("GET", "/health"): {
        "operationId": "health", "tags": ["operations"], "summary": "Liveness",
        "description": "The process answers; says nothing about the database.",
        "responses": {"200": _ok("Alive.", docs.Status, example={"status": "ok"})},
    },
    ("GET", "/ready"): {
        "operationId": "ready", "tags": ["operations"], "summary": "Readiness",
        "description": "The database answers: ready to serve requests.",
        "responses": {"200": _ok("Ready.", docs.Status, example={"status": "ready"}), "503": "ServiceUnavailable"},
    },
    ("GET", "/api/docs/openapi.json"): {
        "operationId": "openapiDocument", "tags": ["docs"], "summary": "This OpenAPI document",
        "description": "Needs no token.", "responses": {"200": _ok("The OpenAPI 3.1 document.", {"type": "object"})},
    },
    ("GET", "/api/docs"): {
        "operationId": "swaggerUi", "tags": ["docs"], "summary": "Swagger UI",
        "description": "Needs no token: the page loads first, then a token is pasted under Authorize.",
        "responses": {"200": {"description": "The Swagger UI page (its assets are served under /api/docs/static/).",
                              "content": {"text/html": {"schema": {"type": "string"}}}}},
    },
}
OPERATIONS.update(configurations.OPERATIONS)
