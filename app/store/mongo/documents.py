"""Records as MongoDB documents and back, what MongoDB cannot take, and the query of a list filter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import bson
import orjson
from bson import ObjectId

from app.domain.gdpr import cleaned_up, is_due
from app.domain.instants import format_instant, parse_instant
from app.store.base import Record, RecordFilter
from app.store.mongo import search as mongo_search

DATE_FIELDS = ("created", "lastModified", "gdprCleanupDate", "deletionDate")
MAX_BSON_SIZE = 16 * 1024 * 1024  # MongoDB's document limit, the same on every version (maxBsonObjectSize)
# BSON takes at most about 7 bytes for one byte of the JSON orjson writes (the worst: a long array of one-digit
# numbers, 2 JSON bytes per element against 13 with its index as key), so a record whose JSON is within an eighth
# of the limit fits, and only larger ones are encoded to find out.
SURELY_FITS = MAX_BSON_SIZE // 8


def to_document(record: Record) -> dict[str, Any]:
    """API shape to stored shape: id becomes _id, the service's timestamps become BSON dates."""
    doc = {k: v for k, v in record.items() if k != "id"}
    doc["_id"] = ObjectId(record["id"])
    for name in DATE_FIELDS:
        doc[name] = parse_instant(record[name])
    doc.update(mongo_search.hidden_fields(record))
    return doc


def to_record(doc: dict[str, Any]) -> Record:
    record = {"id": str(doc["_id"])}
    record.update((k, format_instant(v) if k in DATE_FIELDS else v) for k, v in doc.items()
                  if k != "_id" and k not in mongo_search.HIDDEN_FIELDS)
    return record


def as_of(doc: dict[str, Any], now: datetime, actor_anonymization: bool) -> bytes:
    """The stored record serialized; past its gdprCleanupDate and not swept yet, as the sweep will store it."""
    record = to_record(doc)
    return orjson.dumps(cleaned_up(record, actor_anonymization) if is_due(record, now) else record)


def too_large(doc: dict[str, Any], body: bytes) -> str | None:
    """Why MongoDB cannot take this document (its JSON is `body`), or None when it can."""
    if len(body) <= SURELY_FITS:
        return None
    size = len(bson.encode(doc))
    if size <= MAX_BSON_SIZE:
        return None
    return (f"The record is too large to store: {size:,} bytes in MongoDB's format (BSON), more than its limit "
            f"of {MAX_BSON_SIZE:,}.")


def tenant_query(tenant_order_record_id: str) -> dict[str, Any]:
    # Repeats the unique index's partial filter so the planner can prove the index covers the query.
    return {"$eq": tenant_order_record_id, "$type": "string"}


def filter_query(filters: RecordFilter, start_after: str | None = None) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if filters.facility_ref is not None:
        query["facilityRef"] = filters.facility_ref
    if filters.tenant_order_record_id is not None:
        query["tenantOrderRecordId"] = tenant_query(filters.tenant_order_record_id)
    if start_after is not None:
        query["_id"] = {"$gt": ObjectId(start_after)}
    return query
