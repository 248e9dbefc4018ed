"""SQLite: each query the README calls index-backed reads its index in the order it pages, as the store runs it."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.search.build import Builder, epoch_ms
from app.search.payload import OrderRecordSearchPayload
from app.search.query import SearchQuery, Window
from app.store.sqlite import SqliteStore
from tests.search_data import NOW, stored_record


class Recording:
    """The reader connection, keeping each statement the search sends with its parameters."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn, self.sent = conn, []  # type: list[tuple[str, Any]]

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        self.sent.append((sql, params))
        return self.conn.execute(sql, params)


@pytest.fixture
async def store(tmp_path: Any) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(str(tmp_path / "plans.sqlite3"))
    await opened.open()
    await opened.insert_batch([stored_record(n, articles=(f"A{n % 7}", f"B{n % 5}")) for n in range(1, 201)], NOW)
    yield opened
    await opened.close()


# README "Index-backed": the filter or sort, the index its first page reads (the search table is keyed by id), and
# whether it is read in the order served (`in` looks each value up, then sorts what they found).
INDEXED = [
    ({"consumer": {"consumerId": {"eq": "C-1"}}}, None, "ix_search_consumer", True),
    ({"consumer": {"consumerId": {"in": ["C-1", "C-2"]}}}, None, "ix_search_consumer", False),
    ({"origin": {"terminalId": {"eq": "term-1"}}}, None, "ix_search_terminal", True),
    ({"origin": {"terminalId": {"eq": "term-1"}}, "orderRecordDate": {"after": "-P30D"}},
     [{"orderRecordDate": "DESC"}], "ix_search_terminal_date", True),
    ({"lineItems": {"contains": {"article": {"tenantArticleId": {"eq": "A3"}}}}}, None, "ix_articles_article", True),
    ({"payments": {"contains": {"transactionId": {"eq": "TX-7"}}}}, None, "ix_payments_transaction", True),
    ({"payments": {"contains": {"receiptNumber": {"eq": "R-7"}}}}, None, "ix_payments_receipt", True),
    ({"tenantOrderRecordId": {"eq": "T-0007"}}, None, "ux_order_records_tenant", True),
    ({"orderRecordDate": {"after": "-P7D"}}, [{"orderRecordDate": "DESC"}], "ix_search_date", True),
    ({}, [{"orderRecordDate": "ASC"}], "ix_search_date", True),
    ({}, None, "SCAN s", True),
]


@pytest.mark.parametrize(("query", "sort", "index", "ordered"), INDEXED)
async def test_the_first_page_walks_the_index(store: SqliteStore, query: dict[str, Any], sort: Any, index: str,
                                              ordered: bool) -> None:
    body = {"query": query} if sort is None else {"query": query, "sort": sort}
    data = OrderRecordSearchPayload().load(body)
    builder = Builder(NOW)
    search = SearchQuery(builder.query(data["query"]), builder.sort(data.get("sort")), epoch_ms(NOW))
    reader = store._reader
    recording = Recording(reader)  # type: ignore[arg-type]
    store._reader = recording  # type: ignore[assignment]
    try:
        found = await store.search(search, Window(None, False, 6, False), NOW)
    finally:
        store._reader = reader
    assert found.rows
    sql, params = next((sql, params) for sql, params in recording.sent if sql.startswith("SELECT r.doc"))
    plan = [row[-1] for row in reader.execute(f"EXPLAIN QUERY PLAN {sql}", params)]  # type: ignore[union-attr]
    assert any(index in step for step in plan), plan
    if ordered:  # read in the order it is served: the page stops after its rows, whatever the size of the store
        assert not any("TEMP B-TREE" in step for step in plan), plan
