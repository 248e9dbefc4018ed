"""Search at the store: side tables and indexes kept with the records (SQLite), the served shape, swept records."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any

import orjson
import pytest

from app.search.build import epoch_ms
from app.search.query import AllOf, DateCmp, ListAny, SearchQuery, Sort, StringCmp, Window
from app.store.sqlite import SqliteStore
from app.store.sqlite.search import Compiler
from tests.search_data import NOW, ids, records_fixture, search, stored_record  # noqa: F401  (a fixture)


async def test_served_records_are_the_stored_ones(client: Any, records: list[dict[str, Any]]) -> None:
    alive = records[0]
    page = await search(client, {"query": {"tenantOrderRecordId": {"eq": alive["tenantOrderRecordId"]}}})
    assert page["orderRecords"] == [alive]


async def test_swept_or_not_personal_data_past_cleanup_never_matches(client: Any, store: Any,
                                                                     records: list[dict[str, Any]]) -> None:
    due = next(r for r in records if r["gdprCleanupDate"] < "2026-11-25T12:00:00.000Z")
    last_name = due["consumer"]["addresses"][0]["lastName"]
    queries = [{"consumer": {"consumerId": {"eq": due["consumer"]["consumerId"]}}},
               {"origin": {"cashierId": {"eq": due["origin"]["cashierId"]}}},
               {"consumer": {"addresses": {"contains": {"lastName": {"eq": last_name}}}}}]
    for query in queries:
        assert due["id"] not in await ids(client, query)
    assert await store.anonymize_due(NOW, 100) == 1
    for query in queries:
        assert due["id"] not in await ids(client, query)
    assert due["id"] in await ids(client, {"consumer": {"addresses": {"exists": True}}})


@pytest.fixture
async def sqlite_store(tmp_path: Any) -> Any:
    store = SqliteStore(str(tmp_path / "search.sqlite3"))
    await store.open()
    yield store
    await store.close()


def side_rows(path: str) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as conn:
        return {table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
                for table in ("order_record_search", "order_record_articles", "order_record_payments")}


async def test_sqlite_side_tables_follow_insert_anonymization_and_deletion(sqlite_store: SqliteStore) -> None:
    record = stored_record(1, articles=("A1", "B2"), cleanup=NOW + timedelta(days=1))
    await sqlite_store.insert_batch([record, stored_record(2)], NOW)
    rows = side_rows(sqlite_store.path)
    rid = bytes.fromhex(record["id"])
    date_ms = int((NOW - timedelta(days=1)).timestamp() * 1000)
    assert (rid, date_ms, "C-1", "term-1") in rows["order_record_search"]
    assert {(i, a) for i, a in rows["order_record_articles"] if i == rid} == {(rid, "A1"), (rid, "B2")}
    assert (rid, 0, "TX-1", "R-1") in rows["order_record_payments"]
    assert await sqlite_store.anonymize_due(NOW + timedelta(days=2), 10) == 1
    assert (rid, date_ms, None, "term-1") in side_rows(sqlite_store.path)["order_record_search"]
    await sqlite_store.purge_expired(NOW + timedelta(days=4000), 10)
    assert side_rows(sqlite_store.path) == {"order_record_search": [], "order_record_articles": [],
                                            "order_record_payments": []}


async def test_sqlite_side_tables_are_filled_for_records_stored_before_them(tmp_path: Any) -> None:
    path = str(tmp_path / "old.sqlite3")
    store = SqliteStore(path)
    await store.open()
    await store.insert_batch([stored_record(1)], NOW)
    await store.close()
    with sqlite3.connect(path) as conn:
        for table in ("order_record_search", "order_record_articles", "order_record_payments"):
            conn.execute(f"DROP TABLE {table}")
    again = SqliteStore(path)
    await again.open()
    await again.close()
    rows = side_rows(path)
    assert len(rows["order_record_search"]) == len(rows["order_record_articles"]) == 1
    assert rows["order_record_payments"][0][1:] == (0, "TX-1", "R-1")


def plan(conn: sqlite3.Connection, node: Any, sort: Sort) -> str:
    compiler = Compiler(SearchQuery(node, sort, 0))
    key = compiler.key(sort)
    sql = (f"SELECT r.doc FROM order_records r JOIN order_record_search s ON s.id = r.id "
           f"WHERE {compiler.node(node)} ORDER BY {key}, s.id LIMIT 21")
    return " | ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", compiler.params))


@pytest.mark.parametrize(("node", "sort", "index"), [
    (AllOf(()), Sort("orderRecordDate"), "ix_search_date"),
    (StringCmp("consumer.consumerId", "eq", ("C-1",)), Sort("id"), "ix_search_consumer"),
    (StringCmp("origin.terminalId", "in", ("t1", "t2")), Sort("id"), "ix_search_terminal"),
    (ListAny("lineItems", (StringCmp("article.tenantArticleId", "eq", ("A1",)),)), Sort("id"),
     "ix_articles_article"),
    (ListAny("payments", (StringCmp("transactionId", "eq", ("TX",)),)), Sort("id"), "ix_payments_transaction"),
    (ListAny("payments", (StringCmp("receiptNumber", "eq", ("R",)),)), Sort("id"), "ix_payments_receipt"),
    (StringCmp("tenantOrderRecordId", "eq", ("T",)), Sort("id"), "ux_order_records_tenant"),
])
async def test_sqlite_common_queries_use_an_index(sqlite_store: SqliteStore, node: Any, sort: Sort,
                                                 index: str) -> None:
    await sqlite_store.insert_batch([stored_record(n) for n in range(1, 50)], NOW)
    with sqlite3.connect(sqlite_store.path) as conn:
        assert index in plan(conn, node, sort)


async def test_store_search_window(sqlite_store: SqliteStore) -> None:
    made = [stored_record(n) for n in range(1, 6)]
    await sqlite_store.insert_batch(made, NOW)
    query = SearchQuery(AllOf(()), Sort("orderRecordDate", descending=True), int(NOW.timestamp() * 1000))
    found = await sqlite_store.search(query, Window(None, False, 3, True), NOW)
    assert [orjson.loads(doc)["id"] for doc, _, _ in found.rows] == [r["id"] for r in made[:3]]
    assert found.total == 5 and found.behind is False
    after = found.rows[-1][1:]
    more = await sqlite_store.search(query, Window(after, False, 3, False), NOW)
    assert [rid for _, _, rid in more.rows] == [r["id"] for r in made[3:]]
    assert more.total is None and more.behind is True


async def test_sqlite_a_skipped_record_gets_no_side_rows(sqlite_store: SqliteStore) -> None:
    await sqlite_store.insert_batch([stored_record(1)], NOW)
    again = stored_record(1)  # the same tenantOrderRecordId under a new id
    again["id"] = again["id"][:-4] + "ffff"
    outcomes = await sqlite_store.insert_batch([stored_record(2), again], NOW)
    assert [o.status for o in outcomes] == ["CREATED", "EXISTS"]
    rows = side_rows(sqlite_store.path)
    assert len(rows["order_record_search"]) == len(rows["order_record_payments"]) == 2
    assert bytes.fromhex(again["id"]) not in {row[0] for row in rows["order_record_search"]}


async def test_mongodb_documents_stored_before_search_get_their_date() -> None:
    from mongomock_motor import AsyncMongoMockClient

    from app.store.mongo.documents import to_document
    from app.store.mongo.records import MongoStore

    client = AsyncMongoMockClient()
    record = stored_record(3)
    old = to_document(record)
    del old["_orderRecordDate"]
    await client["db"]["orderRecords"].insert_one(old)
    await client["db"]["orderRecordsMeta"].insert_one({"_id": "storeFormat", "version": 3})  # this version's
    store = MongoStore(client, "db")
    await store.open()
    query = SearchQuery(DateCmp("orderRecordDate", "lt", epoch_ms(NOW)), Sort("orderRecordDate"), epoch_ms(NOW))
    found = await store.search(query, Window(None, False, 5, False), NOW)
    assert [rid for _, _, rid in found.rows] == [str(old["_id"])]
    assert "_orderRecordDate" not in orjson.loads(found.rows[0][0])


async def test_a_record_matching_through_two_items_comes_once(client: Any, store: Any) -> None:
    twice = [stored_record(n, articles=("A1", "A1", "B2")) for n in range(1, 6)]
    await store.insert_batch(twice, NOW)
    query = {"lineItems": {"contains": {"article": {"tenantArticleId": {"eq": "A1"}}}}}
    first = await search(client, {"query": query, "size": 3})
    rest = await search(client, {"query": query, "size": 3, "after": first["pageInfo"]["endCursor"]})
    back = await search(client, {"query": query, "last": 3, "before": rest["pageInfo"]["startCursor"]})
    assert [r["id"] for r in first["orderRecords"] + rest["orderRecords"]] == [r["id"] for r in twice]
    assert back["orderRecords"] == first["orderRecords"]
    assert (back["pageInfo"]["hasPreviousPage"], back["pageInfo"]["hasNextPage"]) == (False, True)
