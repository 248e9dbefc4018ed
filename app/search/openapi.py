"""searchOrderRecord in the OpenAPI document: the operation and its result, with the official component names."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from app.openapi import schemas as docs
from app.schemas.types import Strict, StrictBoolean, StrictInteger
from app.search.payload import OrderRecordSearchPayload

JSON = "application/json"
EXAMPLE = {"query": {"and": [{"origin": {"terminalId": {"eq": "7"}}}, {"orderRecordDate": {"after": "-P1D"}}]},
           "sort": [{"orderRecordDate": "DESC"}], "size": 20, "options": {"withTotal": True}}


class PageInfo(Strict):
    endCursor = fields.String(required=True, metadata={
        "description": "The cursor to use to fetch the next page of items. Use with parameter `after`."})
    hasNextPage = StrictBoolean(required=True, metadata={"description": "If true, there are more items after the "
                                                                        "current page."})
    hasPreviousPage = StrictBoolean(required=True, metadata={"description": "If true, there are more items before "
                                                                            "the current page."})
    startCursor = fields.String(required=True, metadata={
        "description": "The cursor to use to fetch the previous page of items. Use with parameter `before`."})


class OrderRecordPaginatedResult(Strict):
    orderRecords = fields.List(fields.Nested(docs.OrderRecord), required=True)
    pageInfo = fields.Nested(PageInfo, required=True, metadata={
        "description": "Pagination information for the search result."})
    total = StrictInteger(validate=validate.Range(0, None), metadata={
        "description": "The total number of items matching the search criteria. Only filled, if withTotal is set "
                       "to true in the search options."})


OPERATION: dict[str, Any] = {
    "operationId": "searchOrderRecord", "tags": ["order records"], "summary": "List order records (search)",
    "description": "This part of the API is in Beta status. Search for OrderRecord: `and`/`or` filters, one sort key "
                   "(ties broken by id), cursor paging forward (`size`, `after`) and backward (`last`, `before`). "
                   "Cursors are bound to their query, sort and the first page's now. Personal data past a "
                   "record's gdprCleanupDate is neither matched nor sorted by.",
    "requestBody": {"required": True, "content": {JSON: {"schema": OrderRecordSearchPayload, "example": EXAMPLE}}},
    "responses": {
        "200": {"description": "Your search result",
                "content": {JSON: {"schema": OrderRecordPaginatedResult}}},
        "400": "BadRequest", "413": "PayloadTooLarge", "415": "UnsupportedMediaType",
    },
}
