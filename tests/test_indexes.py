"""Every list query is served by an index, on both stores."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.store.base import RecordFilter, Store
from app.store.sqlite import SqliteStore
from app.store.sqlite.rows import where_clause

A_ID = "6b06a5407d9adefc136f67fa"


@pytest.fixture
async def opened(store: Store) -> AsyncIterator[Store]:
    await store.open()
    yield store
    await store.close()


@pytest.mark.parametrize("filters", [RecordFilter(), RecordFilter(facility_ref="f"),
                                     RecordFilter(tenant_order_record_id="t"), RecordFilter("f", "t")])
@pytest.mark.parametrize("after", [None, A_ID])
async def test_sqlite_pages_and_counts_use_indexes(filters: RecordFilter, after: str | None) -> None:
    store = SqliteStore(":memory:")
    await store.open()
    try:
        conn = store._writer
        assert conn is not None
        where, args = where_clause(filters, after)
        page = str(conn.execute(f"EXPLAIN QUERY PLAN SELECT doc FROM order_records{where} ORDER BY id LIMIT 5",
                                args).fetchall())
        where, args = where_clause(filters)
        count = str(conn.execute(f"EXPLAIN QUERY PLAN SELECT count(*) FROM order_records{where}", args).fetchall())
    finally:
        await store.close()
    for plan in (page, count):
        assert "USING" in plan and "INDEX" in plan, plan
        assert "SCAN order_records')" not in plan, plan  # a scan of the table itself, not of an index
    if not filters.tenant_order_record_id:  # with it, the unique index yields at most one row to sort
        assert "TEMP B-TREE" not in page, page
    if filters.tenant_order_record_id:
        assert "ux_order_records_tenant" in page
    elif filters.facility_ref:
        assert "ix_order_records_facility" in page


async def test_mongodb_has_the_paging_indexes(store_kind: str, opened: Store) -> None:
    if store_kind.startswith("sqlite"):
        pytest.skip("MongoDB indexes")
    info = await opened.collection.index_information()  # type: ignore[attr-defined]
    assert info["facilityRef_id"]["key"] == [("facilityRef", 1), ("_id", 1)]
    tenant = info["tenantOrderRecordId_unique"]
    assert tenant["key"] == [("tenantOrderRecordId", 1)] and tenant["unique"] is True
    assert tenant["partialFilterExpression"] == {"tenantOrderRecordId": {"$type": "string"}}


def test_mongodb_tenant_queries_repeat_the_partial_filter() -> None:
    """MongoDB uses a partial index only when the query implies its filter expression."""
    from app.store.mongo.documents import filter_query

    assert filter_query(RecordFilter(tenant_order_record_id="t")) == {
        "tenantOrderRecordId": {"$eq": "t", "$type": "string"}}
