"""The MongoDB store: one nested document per record, through PyMongo's async API."""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from datetime import datetime
from typing import Any

import orjson
from bson import ObjectId
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.errors import BulkWriteError, DuplicateKeyError

from app.domain.gdpr import cleaned_up
from app.search.query import Found, SearchQuery, Window, descending_travel
from app.settings import MongoSettings
from app.store.base import (
    AsOf,
    InsertOutcome,
    PagePart,
    Record,
    RecordFilter,
    StoreIncompatible,
    StoreUnavailable,
    actor_anonymization_default,
    moment,
)
from app.store.mongo import search as mongo_search
from app.store.mongo.config import MongoConfigurations
from app.store.mongo.documents import as_of, filter_query, tenant_query, to_document, to_record, too_large
from app.store.mongo.errors import translated

log = logging.getLogger("app.store.mongo")
# At DEBUG, PyMongo logs every command and reply, documents and all: never, whatever the service's log level.
logging.getLogger("pymongo.command").setLevel(logging.INFO)
META_COLLECTION = "orderRecordsMeta"
STORE_FORMAT = 3  # 3: no digests kept beside the record
OLD_STORE = ("{name} holds order records of an earlier version of this service, in another shape; this version "
             "cannot read them. Use another database (mongodb.database) and backfill again.")
DUPLICATE_KEY = 11000
INDEXES: list[tuple[list[tuple[str, int]], dict[str, Any]]] = [
    ([("facilityRef", ASCENDING), ("_id", ASCENDING)], {"name": "facilityRef_id"}),
    ([("tenantOrderRecordId", ASCENDING)], {"name": "tenantOrderRecordId_unique", "unique": True,
                                            "partialFilterExpression": {"tenantOrderRecordId": {"$type": "string"}}}),
    ([("gdprCleanupDate", ASCENDING)], {"name": "gdprCleanupDate_due",
                                        "partialFilterExpression": {"anonymized": False}}),
    ([("deletionDate", ASCENDING)], {"name": "deletionDate_ttl", "expireAfterSeconds": 0}),
    *mongo_search.SEARCH_INDEXES,
]


async def _closed(cursor: Any) -> None:
    result = cursor.close()
    if hasattr(result, "__await__"):  # PyMongo's async cursor; mongomock-motor's closes at once
        await result


class MongoStore:
    """Talks to a collection of PyMongo's AsyncMongoClient (or mongomock-motor's look-alike in tests)."""

    def __init__(self, client: Any, database: str, collection: str = "orderRecords") -> None:
        self.client = client
        self.collection = client[database][collection]
        self.actor_anonymization = actor_anonymization_default
        self.configurations = MongoConfigurations(client[database]["configurations"], self._call)

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

    async def open(self) -> None:
        await self.ping()
        await self._check_format()
        for keys, options in INDEXES:
            with translated("createIndexes"):
                await self.collection.create_index(keys, **options)
        await self._call(mongo_search.backfill(self.collection))

    async def _check_format(self) -> None:
        """Refuse a database holding records of an earlier version, then mark it as this version's."""
        meta = self.collection.database[META_COLLECTION]
        found = await self._call(meta.find_one({"_id": "storeFormat"}))
        if found is None:
            if await self._call(self.collection.find_one({}, {"_id": 1})) is not None:
                raise StoreIncompatible(OLD_STORE.format(name=self.collection.full_name))
            await self._call(meta.update_one({"_id": "storeFormat"}, {"$setOnInsert": {"version": STORE_FORMAT}},
                                             upsert=True))
        elif found.get("version") != STORE_FORMAT:
            raise StoreIncompatible(OLD_STORE.format(name=self.collection.full_name))

    async def _call(self, coro: Any, operation: str = "command") -> Any:
        """Await a driver call, its errors translated (no document contents in them); a duplicate key is left to
        the caller, for whom it is an answer (an optimistic lock lost), not a failure."""
        try:
            return await coro
        except DuplicateKeyError:
            raise
        except Exception:
            with translated(operation):
                raise

    async def close(self) -> None:
        result = self.client.close()
        if hasattr(result, "__await__"):
            await result

    async def ping(self) -> None:
        with translated("ping"):
            await self.client["admin"].command("ping")

    async def insert_batch(self, records: list[Record], now: AsOf) -> list[InsertOutcome]:
        bodies = [orjson.dumps(r) for r in records]
        docs = [to_document(r) for r in records]
        outcomes: list[InsertOutcome | None] = [None] * len(records)
        with translated("insert", [r["id"] for r in records]):
            for i, (doc, body) in enumerate(zip(docs, bodies, strict=True)):
                if (why := too_large(doc, body)) is not None:
                    outcomes[i] = InsertOutcome("FAILED", b"", message=why)
            sent = [i for i, outcome in enumerate(outcomes) if outcome is None]
            refused = await self._insert(sent, docs)
        for i in sent:
            code = refused.get(i)
            if code is None:
                outcomes[i] = InsertOutcome("CREATED", bodies[i])
            elif code == DUPLICATE_KEY:
                outcomes[i] = await self._stored_instead(records[i], docs[i], bodies[i], now)
            else:  # e.g. a schema validator of the deployment's: this record's failure, not the batch's
                log.warning("mongodb insert refused record %s: code %s", records[i]["id"], code)
                outcomes[i] = InsertOutcome("FAILED", b"",
                                            message=f"The database refused the record (code {code}).")
        return [outcome for outcome in outcomes if outcome is not None]

    async def _insert(self, indexes: list[int], docs: list[dict[str, Any]]) -> dict[int, Any]:
        """Insert these documents; the error code of each one refused, by index. Never raises for one record:
        unordered, every other document is stored whatever becomes of one."""
        if not indexes:
            return {}
        try:
            await self.collection.insert_many([docs[i] for i in indexes], ordered=False)
        except BulkWriteError as exc:  # its details hold every refused document: never let them reach a log
            return {indexes[e["index"]]: e.get("code") for e in exc.details.get("writeErrors", [])}
        return {}

    async def _stored_instead(self, record: Record, doc: dict[str, Any], body: bytes,
                              now: AsOf) -> InsertOutcome:
        """A duplicate key: what is stored under this record's tenantOrderRecordId, or else under its id."""
        existing = None
        if (tenant_id := record.get("tenantOrderRecordId")) is not None:
            existing = await self._call(self.collection.find_one({"tenantOrderRecordId": tenant_query(tenant_id)}),
                                        "find")
        if existing is None:
            existing = await self._call(self.collection.find_one({"_id": doc["_id"]}), "find")
        if existing is None:  # stored and deleted in between: the caller may retry
            raise StoreUnavailable("duplicate record vanished while reading it back")
        if existing["_id"] == doc["_id"] and to_record(existing) == record:
            # This very record, stored by an earlier attempt of this write (a retry after a lost answer).
            return InsertOutcome("CREATED", body)
        # the clock read once the document is here
        return InsertOutcome("EXISTS", as_of(existing, moment(now), await self.actor_anonymization()))

    async def get_json(self, record_id: str, now: AsOf) -> bytes | None:
        doc = await self._call(self.collection.find_one({"_id": ObjectId(record_id)}), "find")
        actor = await self.actor_anonymization()
        return None if doc is None else as_of(doc, moment(now), actor)  # the clock read once the document is here

    async def list_part(self, filters: RecordFilter, start_after: str | None, size: int, now: AsOf,
                        max_bytes: int | None = None, *, with_total: bool = True) -> tuple[int | None, PagePart]:
        budget = sys.maxsize if max_bytes is None else max_bytes
        actor = await self.actor_anonymization()

        async def read() -> PagePart:
            cursor = self.collection.find(filter_query(filters, start_after)).sort("_id", ASCENDING).limit(size)
            page: list[bytes] = []
            held, resume = 0, None
            try:
                async for doc in cursor.batch_size(size):
                    page.append(as_of(doc, moment(now), actor))  # the clock read as each document is here
                    held += len(page[-1])
                    if held >= budget:
                        resume = str(doc["_id"]) if len(page) < size else None
                        break
            finally:
                await _closed(cursor)
            return PagePart(b",".join(page), len(page), resume)

        if not with_total:
            return None, await self._call(read())
        # Two queries at once; MongoDB offers no snapshot across them short of a transaction, so a write landing
        # between them can make the total differ from the page by that write.
        total, part = await asyncio.gather(self.count(filters), self._call(read()))
        return total, part

    async def count(self, filters: RecordFilter) -> int:
        with translated("count"):
            return int(await self.collection.count_documents(filter_query(filters)))

    async def search(self, query: SearchQuery, window: Window, now: datetime) -> Found:
        compiler = mongo_search.Compiler(query)
        descending = descending_travel(query.sort, window)

        async def run(pipeline: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
            cursor = self.collection.aggregate(pipeline)
            if inspect.isawaitable(cursor):  # PyMongo's async API; mongomock-motor answers a cursor at once
                cursor = await self._call(cursor)
            return await self._call(cursor.to_list(limit))

        docs = await run(compiler.pipeline(window.position, descending, window.limit), window.limit)
        rows, actor = [], await self.actor_anonymization()
        for d in docs:
            key = mongo_search.sort_value(query.sort, d)  # first: it takes the computed key out of the document
            rows.append((as_of(d, now, actor), key, str(d["_id"])))
        total = None
        if window.with_total:
            total = await self._call(self.collection.count_documents(compiler.node(query.filter)))
        behind = window.position is not None and bool(
            await run(compiler.pipeline(window.position, not descending, 1, inclusive=True), 1))
        return Found(rows, total, behind)

    async def anonymize_due(self, now: datetime, limit: int) -> int:
        query = {"anonymized": False, "gdprCleanupDate": {"$lte": now}}
        with translated("find"):
            due = await self.collection.find(query).sort("gdprCleanupDate", ASCENDING).limit(limit).to_list(limit)
        done, actor = 0, await self.actor_anonymization()
        for doc in due:
            record = cleaned_up(to_record(doc), actor)
            # Conditioned on the version read: a concurrent sweep that got there first makes this a no-op.
            with translated("anonymize", [doc["_id"]]):
                result = await self.collection.replace_one(
                    {"_id": doc["_id"], "version": doc["version"], "anonymized": False}, to_document(record))
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
        with translated("purge"):
            ids = [d["_id"] for d in await self.collection.find(expired, {"_id": 1}).sort(
                "deletionDate", ASCENDING).limit(limit).to_list(limit)]
            if not ids:
                return 0
            result = await self.collection.delete_many({"_id": {"$in": ids}, **expired})
        return int(result.deleted_count)
