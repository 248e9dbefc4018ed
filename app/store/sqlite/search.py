"""Search on SQLite, the queries: the query tree compiled to SQL over the records and their side tables."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from app.domain.gdpr import cleaned_up
from app.search.query import (
    AllOf,
    AnyOf,
    DateCmp,
    Found,
    ListAny,
    ListExists,
    Node,
    SearchQuery,
    Sort,
    StringCmp,
    Window,
    descending_travel,
    removable,
)

DOC = "CAST(r.doc AS TEXT)"
SCALARS = {"tenantOrderRecordId": "r.tenant_order_record_id", "consumer.consumerId": "s.consumer_id",
           "origin.terminalId": "s.terminal_id", "origin.cashierId": f"json_extract({DOC}, '$.origin.cashierId')",
           "origin.type": f"json_extract({DOC}, '$.origin.type')", "orderRecordDate": "s.date_ms",
           "pricing.total.priceBreakdownTotal": f"json_extract({DOC}, '$.pricing.total.priceBreakdown.total.value')"}
LIST_ROWS = {"lineItems": ("order_record_articles", {"article.tenantArticleId": "x.article_id"}),
             "payments": ("order_record_payments", {"transactionId": "x.transaction_id",
                                                    "receiptNumber": "x.receipt_number"})}
STRING_SQL = {"eq": "=", "notEq": "!=", "in": "IN", "notIn": "NOT IN"}
DATE_SQL = {"eq": "=", "notEq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _balanced(parts: list[str], op: str, empty: str) -> str:
    """parts joined by op as a balanced tree: SQLite caps an expression's depth at 1,000, a flat chain of 1,000
    leaves would reach it."""
    if not parts:
        return empty
    while len(parts) > 1:
        parts = [f"({parts[i]} {op} {parts[i + 1]})" if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    return parts[0]


class Compiler:
    """One query's SQL; `params` fill its placeholders in the order the text is built."""

    def __init__(self, query: SearchQuery) -> None:
        self.query = query
        self.params: dict[str, Any] = {}
        self._names: dict[tuple[type, Any], str] = {}

    def bind(self, value: Any) -> str:
        """A named placeholder, one per distinct value: an expression holding one may appear more than once in the
        text, and SQLite allows 32,766 of them per statement."""
        key = (type(value), value)
        if key not in self._names:
            self._names[key] = f"p{len(self.params)}"
            self.params[self._names[key]] = value
        return f":{self._names[key]}"

    def alive(self) -> str:
        """The record's personal data still exists at the query's now."""
        return f"r.gdpr_cleanup_ms > {self.bind(self.query.now_ms)}"

    def node(self, node: Node) -> str:
        if isinstance(node, AllOf):
            return _balanced([self.node(n) for n in node.items], "AND", "1")
        if isinstance(node, AnyOf):
            return _balanced([self.node(n) for n in node.items], "OR", "0")
        if isinstance(node, StringCmp):
            sql = self.strings(SCALARS[node.field], node)
            return f"({self.alive()} AND {sql})" if removable(node.field) else sql
        if isinstance(node, DateCmp):
            return f"{SCALARS[node.field]} {DATE_SQL[node.op]} {self.bind(node.ms)}"
        if isinstance(node, ListExists):
            return self.exists(node)
        return self.any(node)

    def strings(self, column: str, cmp: StringCmp) -> str:
        if cmp.op in ("eq", "notEq"):
            return f"{column} {STRING_SQL[cmp.op]} {self.bind(cmp.values[0])}"
        if not cmp.values:
            return "0" if cmp.op == "in" else f"{column} IS NOT NULL"
        # the list as one JSON parameter: a query at the limits (1,000 filters, lists of 25) stays far below them
        values = self.bind(orjson.dumps(list(cmp.values)).decode())
        return f"{column} {STRING_SQL[cmp.op]} (SELECT value FROM json_each({values}))"

    def exists(self, node: ListExists) -> str:
        sql = f"coalesce(json_array_length({DOC}, '$.{node.list}'), 0) > 0"
        return sql if node.exists else f"NOT {sql}"

    def any(self, node: ListAny) -> str:
        if node.list in LIST_ROWS and node.conditions:
            table, columns = LIST_ROWS[node.list]
            where = _balanced([self.strings(columns[c.field], c) for c in node.conditions], "AND", "1")
            return f"s.id IN (SELECT x.id FROM {table} x WHERE {where})"
        personal = any(removable(f"{node.list}.{c.field}") for c in node.conditions)
        alive = f"{self.alive()} AND " if personal else ""
        where = _balanced([self.strings(f"json_extract(e.value, '$.{c.field}')", c) for c in node.conditions],
                          "AND", "1")
        return f"({alive}EXISTS (SELECT 1 FROM json_each({DOC}, '$.{node.list}') e WHERE {where}))"

    def key(self, sort: Sort) -> str:
        """The sort key's expression: a list's smallest value ascending, its largest descending."""
        if sort.field == "id":
            return "s.id"
        if sort.list is None:
            sql = SCALARS[sort.field]
        else:
            inner = sort.field.removeprefix(sort.list + ".")
            sql = (f"(SELECT {'max' if sort.descending else 'min'}(json_extract(e.value, '$.{inner}')) "
                   f"FROM json_each({DOC}, '$.{sort.list}') e)")
        return f"(CASE WHEN {self.alive()} THEN {sql} END)" if removable(sort.field) else sql

    def after(self, key: str, position: tuple[Any, Any], descending: bool, inclusive: bool = False) -> str:
        """Strictly after `position` in travel order (NULL keys first ascending, last descending); with
        `inclusive`, the position itself too."""
        value, rid = position
        op = "<" if descending else ">"
        tie = f"s.id {op}{'=' if inclusive else ''} {self.bind(rid)}"
        if key == "s.id":
            return tie
        if value is None:
            return f"({key} IS NULL AND {tie})" if descending else f"({key} IS NOT NULL OR {tie})"
        bound = self.bind(value)
        beyond = f"{key} {op} {bound}" + (f" OR {key} IS NULL" if descending else "")
        after = f"coalesce({beyond} OR ({key} = {bound} AND {tie}), 0)"
        # The same bound once more, alone: a range the planner can seek to in the key's index, instead of scanning
        # from the first row to the position (NULL keys come after it only descending, and date_ms is never NULL).
        if not descending or key == "s.date_ms":
            after = f"{key} {op}= {bound} AND {after}"
        return after


FROM = "FROM order_records r JOIN order_record_search s ON s.id = r.id"


def _position(sort: Sort, position: tuple[Any, str]) -> tuple[Any, bytes]:
    rid = bytes.fromhex(position[1])
    return (rid if sort.field == "id" else position[0]), rid


def run(conn: sqlite3.Connection, query: SearchQuery, window: Window, served_ms: int, actor: bool = True) -> Found:
    """The window's rows (as served at `served_ms`), the total if asked, and whether a record lies behind."""
    descending = descending_travel(query.sort, window)
    page = Compiler(query)
    key = page.key(query.sort)
    source, where, group = FROM, page.node(query.filter), ""
    driver = _driver(query)
    if driver is not None:
        # Walk the list's index in id order, a record once however many of its items match: the first page then
        # reads a page of index entries, where an IN list would first collect every match in the store.
        (table, columns), condition, rest = LIST_ROWS[driver.list], driver.conditions[0], _without(query.filter, driver)
        source = f"FROM {table} x JOIN order_record_search s ON s.id = x.id JOIN order_records r ON r.id = s.id"
        where, group = f"{page.strings(columns[condition.field], condition)} AND {page.node(rest)}", " GROUP BY x.id"
    if window.position is not None:
        where = f"{where} AND {page.after(key, _position(query.sort, window.position), descending)}"
    direction = "DESC" if descending else "ASC"
    # By id alone when id is the key: "k, s.id" would make SQLite sort rows an IN over s.id already yields in order.
    walked = "x.id" if driver is not None else "s.id"
    order = f"{walked} {direction}" if key == "s.id" else f"k {direction}, s.id {direction}"
    due = f"r.anonymized = 0 AND r.gdpr_cleanup_ms <= {page.bind(served_ms)}"
    sql = (f"SELECT r.doc, {due}, {key} AS k, s.id {source} WHERE {where}{group} "
           f"ORDER BY {order} LIMIT {int(window.limit)}")
    conn.execute("BEGIN")  # one snapshot for the page, the total and the look behind
    try:
        rows = [(_served(doc, due, actor), k.hex() if isinstance(k, bytes) else k, rid.hex())
                for doc, due, k, rid in conn.execute(sql, page.params)]
        total = None
        if window.with_total:
            count = Compiler(query)
            total = conn.execute(f"SELECT count(*) {FROM} WHERE {count.node(query.filter)}", count.params).fetchone()[0]
        behind = False
        if window.position is not None:
            back = Compiler(query)
            back_key = back.key(query.sort)
            cond = back.after(back_key, _position(query.sort, window.position), not descending, inclusive=True)
            behind = conn.execute(f"SELECT 1 {FROM} WHERE {back.node(query.filter)} AND {cond} LIMIT 1",
                                  back.params).fetchone() is not None
    finally:
        conn.execute("COMMIT")
    return Found(rows, total, behind)


def _driver(query: SearchQuery) -> ListAny | None:
    """With the default sort, a filter that is or has at its top an `eq` on a side table's key can drive the walk."""
    if query.sort.field != "id":
        return None
    items = query.filter.items if isinstance(query.filter, AllOf) else (query.filter,)
    return next((item for item in items if isinstance(item, ListAny) and item.list in LIST_ROWS
                 and len(item.conditions) == 1 and item.conditions[0].op == "eq"), None)


def _without(node: Node, item: Node) -> Node:
    return AllOf(tuple(n for n in node.items if n is not item)) if isinstance(node, AllOf) else AllOf(())


def _served(doc: bytes, due: int, actor: bool) -> bytes:
    """The stored record; past its gdprCleanupDate and not swept yet, as the sweep will store it."""
    return orjson.dumps(cleaned_up(orjson.loads(doc), actor)) if due else doc
