"""Search on MongoDB: the query tree compiled to a filter and an aggregation pipeline, with multikey indexes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING

from app.domain.instants import parse_instant
from app.search.build import EPOCH, epoch_ms
from app.search.query import (
    AllOf,
    AnyOf,
    DateCmp,
    ListExists,
    Node,
    Position,
    SearchQuery,
    Sort,
    StringCmp,
    removable,
)

# orderRecordDate as a BSON date (it is stored as sent, with its own offset, so its text does not sort by instant).
DATE_FIELD = "_orderRecordDate"
HIDDEN_FIELDS = (DATE_FIELD,)
SEARCH_INDEXES: list[tuple[list[tuple[str, int]], dict[str, Any]]] = [
    ([(DATE_FIELD, ASCENDING), ("_id", ASCENDING)], {"name": "search_orderRecordDate"}),
    ([("consumer.consumerId", ASCENDING), ("_id", ASCENDING)], {"name": "search_consumerId"}),
    ([("lineItems.article.tenantArticleId", ASCENDING)], {"name": "search_tenantArticleId"}),
    ([("payments.transactionId", ASCENDING)], {"name": "search_transactionId"}),
    ([("payments.receiptNumber", ASCENDING)], {"name": "search_receiptNumber"}),
    ([("origin.terminalId", ASCENDING), ("_id", ASCENDING)], {"name": "search_terminalId"}),
    ([("origin.terminalId", ASCENDING), (DATE_FIELD, ASCENDING), ("_id", ASCENDING)],
     {"name": "search_terminalId_orderRecordDate"}),
]
PATHS = {"orderRecordDate": DATE_FIELD, "pricing.total.priceBreakdownTotal": "pricing.total.priceBreakdown.total.value"}
DIRECT_KEYS = {"id": "_id", "orderRecordDate": DATE_FIELD}  # sorted on the field itself, through an index
NOTHING: dict[str, Any] = {"_id": {"$in": []}}


def hidden_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The fields a stored document carries for search only (never served)."""
    if "orderRecordDate" not in record:
        return {}
    return {DATE_FIELD: _instant(epoch_ms(parse_instant(record["orderRecordDate"])))}


async def backfill(collection: Any, batch: int = 1000) -> int:
    """Give documents stored before search existed their hidden date; cheap when none lacks it (the date index
    finds missing keys)."""
    done = 0
    while True:
        docs = await collection.find({DATE_FIELD: {"$exists": False}, "orderRecordDate": {"$type": "string"}},
                                     {"orderRecordDate": 1}).limit(batch).to_list(batch)
        if not docs:
            return done
        await asyncio.gather(*(collection.update_one({"_id": d["_id"], DATE_FIELD: {"$exists": False}},
                                                     {"$set": hidden_fields(d)}) for d in docs))
        done += len(docs)


def _instant(ms: int) -> datetime:
    """Naive UTC, as the driver returns dates: aggregation expressions compare it with stored dates as it is."""
    return (EPOCH + timedelta(milliseconds=ms)).replace(tzinfo=None)


def _ms(value: datetime) -> int:
    return epoch_ms(value if value.tzinfo else value.replace(tzinfo=UTC))


class Compiler:
    def __init__(self, query: SearchQuery) -> None:
        self.query = query
        self.now = _instant(query.now_ms)

    def alive(self) -> dict[str, Any]:
        return {"gdprCleanupDate": {"$gt": self.now}}

    def node(self, node: Node) -> dict[str, Any]:
        if isinstance(node, AllOf):
            return {"$and": [self.node(n) for n in node.items]} if node.items else {}
        if isinstance(node, AnyOf):
            return {"$or": [self.node(n) for n in node.items]} if node.items else NOTHING
        if isinstance(node, StringCmp):
            sql = strings(PATHS.get(node.field, node.field), node)
            return {"$and": [self.alive(), sql]} if removable(node.field) else sql
        if isinstance(node, DateCmp):
            op = {"notEq": "$ne"}.get(node.op, f"${node.op}")
            return {PATHS[node.field]: {op: _instant(node.ms)}}
        if isinstance(node, ListExists):
            return {f"{node.list}.0": {"$exists": node.exists}}
        if not node.conditions:
            return {f"{node.list}.0": {"$exists": True}}
        found = {node.list: {"$elemMatch": _all_of([strings(c.field, c) for c in node.conditions])}}
        personal = any(removable(f"{node.list}.{c.field}") for c in node.conditions)
        return {"$and": [self.alive(), found]} if personal else found

    def key(self, sort: Sort) -> dict[str, Any]:
        """The computed sort key: a list's smallest value ascending, its largest descending; null when absent."""
        if sort.list is None:
            value: Any = f"${PATHS.get(sort.field, sort.field)}"
        else:
            value = _extreme(sort.list, sort.field.removeprefix(sort.list + "."), sort.descending)
        value = {"$ifNull": [value, None]}
        return {"$cond": [{"$gt": ["$gdprCleanupDate", self.now]}, value, None]} if removable(sort.field) else value

    def after(self, sort: Sort, position: Position, descending: bool, inclusive: bool = False) -> dict[str, Any]:
        """Strictly after `position` in travel order (with `inclusive`, the position too)."""
        op = "$lt" if descending else "$gt"
        tie_op = op + ("e" if inclusive else "")
        rid = ObjectId(position[1])
        if sort.field == "id":
            return {"_id": {tie_op: rid}}
        if sort.field in DIRECT_KEYS:
            value = _instant(position[0])
            # The bound alone as well: an index range to seek to, not a scan up to the position.
            return {DATE_FIELD: {op + "e": value},
                    "$or": [{DATE_FIELD: {op: value}}, {DATE_FIELD: value, "_id": {tie_op: rid}}]}
        value = position[0]
        return {"$expr": {"$or": [{op: ["$_sk", value]},
                                  {"$and": [{"$eq": ["$_sk", value]}, {tie_op: ["$_id", rid]}]}]}}

    def pipeline(self, position: Position | None, descending: bool, limit: int,
                 inclusive: bool = False) -> list[dict[str, Any]]:
        sort = self.query.sort
        match = self.node(self.query.filter)
        stages: list[dict[str, Any]] = []
        direction = -1 if descending else 1
        if sort.field in DIRECT_KEYS:
            if position is not None:
                match = {"$and": [match, self.after(sort, position, descending, inclusive)]}
            stages += [{"$match": match}, {"$sort": {DIRECT_KEYS[sort.field]: direction, "_id": direction}}]
        else:
            stages += [{"$match": match}, {"$addFields": {"_sk": self.key(sort)}}]
            if position is not None:
                stages.append({"$match": self.after(sort, position, descending, inclusive)})
            stages.append({"$sort": {"_sk": direction, "_id": direction}})
        return [*stages, {"$limit": limit}]


def _extreme(items: str, field: str, largest: bool) -> dict[str, Any]:
    """The smallest (largest) non-null value of `field` over the list's elements; null without one. Spelt out with
    `$map`: in an expression a path through an array ("$lineItems.quantity") yields the values on mongod but
    nothing on SecantusDB, and mongomock takes `$min` of an array only from a field or a variable."""
    values = {"$map": {"input": {"$ifNull": [f"${items}", []]}, "as": "item",
                       "in": {"$ifNull": [f"$$item.{field}", None]}}}
    present = {"$filter": {"input": values, "as": "value", "cond": {"$ne": ["$$value", None]}}}
    return {"$let": {"vars": {"present": present}, "in": {"$max" if largest else "$min": "$$present"}}}


def _all_of(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    """The conditions as one document ({path: {op: value, ...}}) where no two set one operator of one path
    differently, else `$and`: some servers (SecantusDB) take no `$and` inside `$elemMatch`."""
    merged: dict[str, dict[str, Any]] = {}
    for condition in conditions:
        for path, ops in condition.items():
            target = merged.setdefault(path, {})
            if any(op in target and target[op] != value for op, value in ops.items()):
                return {"$and": conditions}
            target.update(ops)
    return merged


def strings(path: str, cmp: StringCmp) -> dict[str, Any]:
    """Absent fields match no operator (notEq and notIn need a string that differs). `$type` on eq and in too: it
    lets the planner use the partial unique index on tenantOrderRecordId, whose filter is that type."""
    operator = {"eq": "$eq", "notEq": "$ne", "in": "$in", "notIn": "$nin"}[cmp.op]
    value = cmp.values[0] if cmp.op in ("eq", "notEq") else list(cmp.values)
    return {path: {"$type": "string", operator: value}}


def sort_value(sort: Sort, doc: dict[str, Any]) -> Any:
    """The page row's key as a cursor keeps it (dates as epoch milliseconds, ids as hex)."""
    if sort.field == "id":
        return str(doc["_id"])
    if sort.field in DIRECT_KEYS:
        return _ms(doc[DATE_FIELD])
    return doc.pop("_sk", None)
