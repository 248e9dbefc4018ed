"""The MongoDB store: one nested document per record, through PyMongo's async API."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from typing import Any

import orjson
from bson import ObjectId
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.errors import BulkWriteError, ConnectionFailure, OperationFailure

from app.domain.gdpr import cleaned_up, is_due
from app.domain.instants import format_instant, parse_instant
from app.settings import MongoSettings
from app.store.base import AsOf, InsertOutcome, PagePart, Record, RecordFilter, StoreUnavailable, moment

DATE_FIELDS = ("created", "lastModified", "gdprCleanupDate", "deletionDate")
DUPLICATE_KEY = 11000
INDEXES: list[tuple[list[tuple[str, int]], dict[str, Any]]] = [
    ([("facilityRef", ASCENDING), ("_id", ASCENDING)], {"name": "facilityRef_id"}),
    ([("tenantOrderRecordId", ASCENDING)], {"name": "tenantOrderRecordId_unique", "unique": True,
                                            "partialFilterExpression": {"tenantOrderRecordId": {"$type": "string"}}}),
    ([("gdprCleanupDate", ASCENDING)], {"name": "gdprCleanupDate_due",
                                        "partialFilterExpression": {"anonymized": False}}),
    ([("deletionDate", ASCENDING)], {"name": "deletionDate_ttl", "expireAfterSeconds": 0}),
]


def to_document(record: Record) -> dict[str, Any]:
    """API shape to stored shape: id becomes _id, the service's timestamps become BSON dates."""
    doc = {k: v for k, v in record.items() if k != "id"}
    doc["_id"] = ObjectId(record["id"])
    for name in DATE_FIELDS:
        doc[name] = parse_instant(record[name])
    return doc


def to_record(doc: dict[str, Any]) -> Record:
    record = {"id": str(doc["_id"])}
    record.update((k, format_instant(v) if k in DATE_FIELDS else v) for k, v in doc.items() if k != "_id")
    return record


def as_of(doc: dict[str, Any], now: datetime) -> bytes:
    """The stored record serialized; past its gdprCleanupDate and not swept yet, as the sweep will store it."""
    record = to_record(doc)
    return orjson.dumps(cleaned_up(record) if is_due(record, now) else record)


async def _closed(cursor: Any) -> None:
    result = cursor.close()
    if hasattr(result, "__await__"):  # PyMongo's async cursor; mongomock-motor's closes at once
        await result


def _tenant(tenant_order_record_id: str) -> dict[str, Any]:
    # Repeats the unique index's partial filter so the planner can prove the index covers the query.
    return {"$eq": tenant_order_record_id, "$type": "string"}


def _query(filters: RecordFilter, start_after: str | None = None) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if filters.facility_ref is not None:
        query["facilityRef"] = filters.facility_ref
    if filters.tenant_order_record_id is not None:
        query["tenantOrderRecordId"] = _tenant(filters.tenant_order_record_id)
    if start_after is not None:
        query["_id"] = {"$gt": ObjectId(start_after)}
    return query


class MongoStore:
    """Talks to a collection of PyMongo's AsyncMongoClient (or mongomock-motor's look-alike in tests)."""

    def __init__(self, client: Any, database: str, collection: str = "orderRecords") -> None:
        self.client = client
        self.collection = client[database][collection]

    @classmethod
    def from_settings(cls, settings: MongoSettings) -> MongoStore:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.uri,
            serverSelectionTimeoutMS=settings.server_selection_timeout_ms,
            connectTimeoutMS=settings.connect_timeout_ms,
            socketTimeoutMS=settings.socket_timeout_ms,
            appname="order-records",
        )
        return cls(client, settings.database)

    async def _call(self, coro: Any) -> Any:
        try:
            return await coro
        except (ConnectionFailure, OperationFailure) as exc:
            if isinstance(exc, OperationFailure) and not exc.has_error_label("RetryableWriteError"):
                raise
            raise StoreUnavailable(f"mongodb: {type(exc).__name__}") from exc

    async def open(self) -> None:
        await self.ping()
        for keys, options in INDEXES:
            await self._call(self.collection.create_index(keys, **options))

    async def close(self) -> None:
        result = self.client.close()
        if hasattr(result, "__await__"):
            await result

    async def ping(self) -> None:
        admin = self.client["admin"]
        await self._call(admin.command("ping"))

    async def insert_batch(self, records: list[Record], now: AsOf) -> list[InsertOutcome]:
        docs = [to_document(r) for r in records]
        duplicates: set[int] = set()
        try:
            await self._call(self.collection.insert_many(docs, ordered=False))
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            duplicates = {e["index"] for e in errors}
        outcomes = []
        for i, record in enumerate(records):
            if i not in duplicates:
                outcomes.append(InsertOutcome("CREATED", orjson.dumps(record)))
                continue
            existing = await self._call(self.collection.find_one(
                {"tenantOrderRecordId": _tenant(record["tenantOrderRecordId"])}))
            if existing is None:  # stored and deleted in between: the caller may retry
                raise StoreUnavailable("duplicate record vanished while reading it back")
            outcomes.append(InsertOutcome("ALREADY_EXISTS", as_of(existing, moment(now))))
        return outcomes

    async def get_json(self, record_id: str, now: AsOf) -> bytes | None:
        doc = await self._call(self.collection.find_one({"_id": ObjectId(record_id)}))
        return None if doc is None else as_of(doc, moment(now))  # the clock read once the document is here

    async def list_page(self, filters: RecordFilter, start_after: str | None, size: int,
                        now: AsOf) -> tuple[int, list[bytes]]:
        total, part = await self.list_part(filters, start_after, size, now)
        return total or 0, part.docs

    async def list_part(self, filters: RecordFilter, start_after: str | None, size: int, now: AsOf,
                        max_bytes: int | None = None, *, with_total: bool = True) -> tuple[int | None, PagePart]:
        budget = sys.maxsize if max_bytes is None else max_bytes

        async def read() -> PagePart:
            cursor = self.collection.find(_query(filters, start_after)).sort("_id", ASCENDING).limit(size)
            page: list[bytes] = []
            held, resume = 0, None
            try:
                async for doc in cursor.batch_size(size):
                    page.append(as_of(doc, moment(now)))  # the clock read as each document is here
                    held += len(page[-1])
                    if held >= budget:
                        resume = str(doc["_id"]) if len(page) < size else None
                        break
            finally:
                await _closed(cursor)
            return PagePart(page, resume)

        if not with_total:
            return None, await self._call(read())
        # Two queries at once; MongoDB offers no snapshot across them short of a transaction, so a write landing
        # between them can make the total differ from the page by that write.
        total, part = await asyncio.gather(self.count(filters), self._call(read()))
        return total, part

    async def count(self, filters: RecordFilter) -> int:
        return await self._call(self.collection.count_documents(_query(filters)))

    async def anonymize_due(self, now: datetime, limit: int) -> int:
        query = {"anonymized": False, "gdprCleanupDate": {"$lte": now}}
        due = await self._call(self.collection.find(query).sort("gdprCleanupDate", ASCENDING).limit(limit)
                               .to_list(limit))
        done = 0
        for doc in due:
            record = cleaned_up(to_record(doc))
            # Conditioned on the version read: a concurrent sweep that got there first makes this a no-op.
            result = await self._call(self.collection.replace_one(
                {"_id": doc["_id"], "version": doc["version"], "anonymized": False}, to_document(record)))
            done += result.modified_count
        return done

    async def scrub(self) -> bool:
        # Nothing this service can do: MongoDB's oplog and journal keep a changed document's earlier state for their
        # own configured window (README, GDPR lifecycle).
        return True

    async def purge_expired(self, now: datetime, limit: int) -> int:
        # The TTL index deletes without us; this only makes the bound tighter than its 60-second monitor, in
        # bounded batches like the anonymization.
        expired = {"deletionDate": {"$lte": now}}
        ids = [d["_id"] for d in await self._call(
            self.collection.find(expired, {"_id": 1}).sort("deletionDate", ASCENDING).limit(limit).to_list(limit))]
        if not ids:
            return 0
        result = await self._call(self.collection.delete_many({"_id": {"$in": ids}, **expired}))
        return result.deleted_count
