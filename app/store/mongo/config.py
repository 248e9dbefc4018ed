"""The MongoDB `configurations` collection: one document per configuration, `_id` its name, version-checked writes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.domain.instants import format_instant
from app.store.base import Record, VersionConflict

Call = Callable[[Any], Awaitable[Any]]
DATE_FIELDS = ("created", "lastModified")


def _record(doc: dict[str, Any]) -> Record:
    record: Record = {"id": doc["_id"]}
    record.update((k, format_instant(v) if k in DATE_FIELDS else v) for k, v in doc.items() if k != "_id")
    return record


class MongoConfigurations:
    """Each write is one conditional operation on the server, so of two writers naming the same version (any
    number of workers and instances) exactly one succeeds: the first insert by the unique `_id`, every later
    change by a filter on the version it replaces."""

    def __init__(self, collection: Any, call: Call) -> None:
        self.collection = collection
        self._call = call

    async def get(self, name: str) -> Record | None:
        doc = await self._call(self.collection.find_one({"_id": name}))
        return None if doc is None else _record(doc)

    async def put(self, name: str, values: Record, version: int, now: datetime) -> Record:
        stamp = now.replace(microsecond=now.microsecond // 1000 * 1000)  # what BSON keeps: milliseconds
        if version == 0:
            doc = {"_id": name, "version": 1, "created": stamp, "lastModified": stamp, **values}
            try:
                await self._call(self.collection.insert_one(doc))
            except DuplicateKeyError:
                raise VersionConflict(await self._stored_version(name)) from None
            return _record(doc)
        updated = await self._call(self.collection.find_one_and_update(
            {"_id": name, "version": version},
            {"$set": {**values, "lastModified": stamp}, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER))
        if updated is None:
            raise VersionConflict(await self._stored_version(name))
        return _record(updated)

    async def _stored_version(self, name: str) -> int:
        doc = await self._call(self.collection.find_one({"_id": name}, {"version": 1}))
        return 0 if doc is None else int(doc["version"])
