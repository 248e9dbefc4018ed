"""Request bodies at the service's limits, for the tests of what one request may cost."""

from __future__ import annotations

import copy
from typing import Any

import orjson

from app.schemas.records import OrderRecordBulkOperations
from tests.factories import minimal_record

MAX_BODY = 8 * 1024 * 1024
# The envelope's one member (the list of records), read from the schema so these bodies follow its name.
RECORDS_KEY = next(iter(OrderRecordBulkOperations().fields))


def envelope(records: list[Any]) -> dict[str, Any]:
    return {RECORDS_KEY: records}


def line_items_body(records: int = 25, items: int = 500, invalid_last: bool = True) -> bytes:
    """`records` records of `items` line items each, the last item of each invalid (quantity 0)."""
    item = minimal_record()["lineItems"][0]
    batch = []
    for r in range(records):
        lines = [copy.deepcopy(item) for _ in range(items)]
        if invalid_last:
            lines[-1]["quantity"] = 0
        batch.append(minimal_record(lineItems=lines, tenantOrderRecordId=f"lines-{r}"))
    return orjson.dumps(envelope(batch))


def tiny_nodes_body(node: Any = (), size: int = MAX_BODY) -> bytes:
    """One record whose customAttributes hold as many copies of `node` (default: an empty list) as fit in `size`."""
    value = list(node) if isinstance(node, tuple) else node
    shell = orjson.dumps(envelope([minimal_record(customAttributes={"n": []})]))
    count = (size - len(shell)) // (len(orjson.dumps(value)) + 1)
    return orjson.dumps(envelope([minimal_record(customAttributes={"n": [value] * count})]))


def sized_record(json_bytes: int, **fields: Any) -> dict[str, Any]:
    """A valid record whose compact JSON is exactly `json_bytes` long (a long string in customAttributes)."""
    record = minimal_record(customAttributes={"blob": ""}, **fields)
    record["customAttributes"]["blob"] = "x" * (json_bytes - len(orjson.dumps(record)))
    return record
