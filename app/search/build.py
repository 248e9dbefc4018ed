"""The validated payload as a SearchQuery: limits, unsupported fields, relative dates, the sort key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.instants import parse_instant
from app.search.query import AllOf, AnyOf, DateCmp, ListAny, ListExists, Node, Sort, StringCmp
from app.search.relative import BadDuration, resolve

MAX_DEPTH = 8
MAX_LEAVES = 1000
MAX_QUERY_OBJECTS = 2 * MAX_LEAVES
UNSUPPORTED = ("facilityName", "facilityCountry")
STRING_OPS = (("eq", "eq"), ("notEq", "notEq"), ("in_", "in"), ("notIn", "notIn"))
DATE_OPS = ("eq", "notEq", "gt", "gte", "lt", "lte")
BRANCHES = (("and_", "and"), ("or_", "or"))
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class QueryRejected(Exception):
    """Problems with a query the schema accepted, as {field, message}."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def nesting_errors(raw: Any) -> list[dict[str, str]]:
    """and/or nested deeper than MAX_DEPTH, checked on the raw body before the recursive schema sees it."""
    stack: list[tuple[Any, str, int]] = [(raw, "query", 0)]
    objects = 0
    while stack:
        node, path, depth = stack.pop()
        if not isinstance(node, dict):
            continue
        objects += 1
        if objects > MAX_QUERY_OBJECTS:  # empty branches hold no filter, but still cost: bound them too
            return [{"field": "query", "message": f"At most {MAX_QUERY_OBJECTS} query objects in and/or."}]
        for key in ("and", "or"):
            children = node.get(key)
            if not isinstance(children, list):
                continue
            if depth + 1 > MAX_DEPTH:
                return [{"field": f"{path}.{key}", "message": f"and/or may be nested at most {MAX_DEPTH} deep."}]
            stack.extend((child, f"{path}.{key}.{i}", depth + 1) for i, child in enumerate(children))
    return []


def epoch_ms(moment: datetime) -> int:
    """Whole milliseconds since the epoch, exactly (no binary floating point)."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


class Builder:
    """One per request: collects every problem, counts leaves, resolves relative dates against `now`."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.errors: list[dict[str, str]] = []
        self.leaves = 0

    def query(self, data: dict[str, Any], path: str = "query") -> Node:
        items: list[Node] = []
        for attr, key in BRANCHES:
            if attr in data:
                children = tuple(self.query(child, f"{path}.{key}.{i}") for i, child in enumerate(data[attr]))
                items.append(AllOf(children) if attr == "and_" else AnyOf(children))
        for name in UNSUPPORTED:
            if name in data:
                self.errors.append({"field": f"{path}.{name}", "message": "Order records have no facilityName or "
                                    "facilityCountry; this filter is not supported."})
        if "tenantOrderRecordId" in data:
            items += self.strings("tenantOrderRecordId", data["tenantOrderRecordId"])
        if "orderRecordDate" in data:
            items += self.dates("orderRecordDate", data["orderRecordDate"], f"{path}.orderRecordDate")
        consumer = data.get("consumer", {})
        if "consumerId" in consumer:
            items += self.strings("consumer.consumerId", consumer["consumerId"])
        if "addresses" in consumer:
            items += self.list("consumer.addresses", consumer["addresses"], consumer["addresses"].get("contains"))
        origin = data.get("origin", {})
        for name in ("cashierId", "terminalId"):
            if name in origin:
                items += self.strings(f"origin.{name}", origin[name])
        if "lineItems" in data:
            contains = data["lineItems"].get("contains")
            article = None if contains is None else {f"article.{k}": v for k, v in contains.get("article", {}).items()}
            items += self.list("lineItems", data["lineItems"], article)
        if "payments" in data:
            items += self.list("payments", data["payments"], data["payments"].get("contains"))
        return items[0] if len(items) == 1 else AllOf(tuple(items))

    def strings(self, field: str, spec: dict[str, Any]) -> list[Node]:
        self.leaves += 1
        return [StringCmp(field, op, tuple(spec[attr]) if isinstance(spec[attr], list) else (spec[attr],))
                for attr, op in STRING_OPS if attr in spec]

    def dates(self, field: str, spec: dict[str, Any], path: str) -> list[Node]:
        self.leaves += 1
        out: list[Node] = [DateCmp(field, op, epoch_ms(parse_instant(spec[op]))) for op in DATE_OPS if op in spec]
        for name, op in (("after", "gt"), ("before", "lt")):
            if name in spec:
                try:
                    out.append(DateCmp(field, op, epoch_ms(resolve(spec[name], self.now))))
                except BadDuration:
                    self.errors.append({"field": f"{path}.{name}", "message": "Not an ISO 8601 duration relative "
                                        "to now, such as -P1D (yesterday) or P1W (next week)."})
        return out

    def list(self, name: str, spec: dict[str, Any], contains: dict[str, Any] | None) -> list[Node]:
        out: list[Node] = []
        if "exists" in spec:
            self.leaves += 1
            out.append(ListExists(name, spec["exists"]))  # type: ignore[arg-type]
        if contains is not None:
            conditions = tuple(c for field, filt in contains.items() for c in self.strings(field, filt))
            self.leaves += 0 if conditions else 1
            out.append(ListAny(name, conditions))  # type: ignore[arg-type]
        return out

    def sort(self, sorts: list[dict[str, Any]] | None) -> Sort:
        if not sorts:
            return Sort("id")
        paths = list(_paths(sorts[0], "sort.0"))
        if len(paths) != 1:
            self.errors.append({"field": "sort.0", "message": "Give exactly one sort key."})
            return Sort("id")
        path, direction = paths[0]
        field = path.removeprefix("sort.0.")
        if field in UNSUPPORTED:
            self.errors.append({"field": path, "message": "Order records have no facilityName or facilityCountry; "
                                "this sort key is not supported."})
        return Sort(field, direction == "DESC")


def _paths(node: dict[str, Any], prefix: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in node.items():
        if isinstance(value, dict):
            out += _paths(value, f"{prefix}.{key}")
        else:
            out.append((f"{prefix}.{key}", value))
    return out
