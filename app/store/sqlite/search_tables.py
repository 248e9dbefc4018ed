"""Search on SQLite, the tables: side tables of the searched keys, written with each batch, kept by triggers."""

from __future__ import annotations

import sqlite3
from typing import Any

from app.domain.instants import parse_instant
from app.search.build import epoch_ms

# Rows are added by `index_batch`, in the inserting transaction (computed from the records in Python: a trigger
# parsing each document's JSON three times made ingest several times slower). Triggers follow updates and deletes:
# anonymization rewrites doc, and consumerId, the one personal key kept here, is read again from the new doc.
SEARCH_SCHEMA = """
CREATE TABLE IF NOT EXISTS order_record_search (
    id BLOB PRIMARY KEY,                -- order_records.id
    date_ms INTEGER NOT NULL,           -- orderRecordDate in epoch milliseconds
    consumer_id TEXT,
    terminal_id TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_search_date ON order_record_search (date_ms, id);
CREATE INDEX IF NOT EXISTS ix_search_consumer ON order_record_search (consumer_id, id) WHERE consumer_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_search_terminal ON order_record_search (terminal_id, id) WHERE terminal_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_search_terminal_date ON order_record_search (terminal_id, date_ms, id)
    WHERE terminal_id IS NOT NULL;
-- Keyed by record (WITHOUT ROWID): one B-tree fewer per row to write. Each distinct article of a record once.
CREATE TABLE IF NOT EXISTS order_record_articles (
    id BLOB NOT NULL, article_id TEXT NOT NULL, PRIMARY KEY (id, article_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_articles_article ON order_record_articles (article_id, id);
CREATE TABLE IF NOT EXISTS order_record_payments (
    id BLOB NOT NULL, n INTEGER NOT NULL, transaction_id TEXT, receipt_number TEXT, PRIMARY KEY (id, n)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_payments_transaction ON order_record_payments (transaction_id, id);
CREATE INDEX IF NOT EXISTS ix_payments_receipt ON order_record_payments (receipt_number, id);
CREATE TRIGGER IF NOT EXISTS tr_search_update AFTER UPDATE OF doc ON order_records BEGIN
    UPDATE order_record_search SET consumer_id = json_extract(CAST(NEW.doc AS TEXT), '$.consumer.consumerId')
        WHERE id = NEW.id;
END;
CREATE TRIGGER IF NOT EXISTS tr_search_delete AFTER DELETE ON order_records BEGIN
    DELETE FROM order_record_search WHERE id = OLD.id;
    DELETE FROM order_record_articles WHERE id = OLD.id;
    DELETE FROM order_record_payments WHERE id = OLD.id;
END;
"""
# Records stored before the side tables existed: filled once, when the tables are created.
BACKFILL = """
INSERT INTO order_record_search (id, date_ms, consumer_id, terminal_id) SELECT id,
    order_record_ms(json_extract(CAST(doc AS TEXT), '$.orderRecordDate')),
    json_extract(CAST(doc AS TEXT), '$.consumer.consumerId'), json_extract(CAST(doc AS TEXT), '$.origin.terminalId')
    FROM order_records;
INSERT OR IGNORE INTO order_record_articles (id, article_id) SELECT r.id,
    json_extract(e.value, '$.article.tenantArticleId') FROM order_records AS r,
    json_each(CAST(r.doc AS TEXT), '$.lineItems') AS e WHERE json_type(e.value, '$.article.tenantArticleId') = 'text';
INSERT INTO order_record_payments (id, n, transaction_id, receipt_number) SELECT r.id, e.key,
    json_extract(e.value, '$.transactionId'), json_extract(e.value, '$.receiptNumber')
    FROM order_records AS r, json_each(CAST(r.doc AS TEXT), '$.payments') AS e;
"""
def _order_record_ms(text: str | None) -> int | None:
    return None if text is None else epoch_ms(parse_instant(text))


PARAMS_PER_STATEMENT = 30000  # under SQLite's default limit of 32,766 host parameters


def _insert_many(conn: sqlite3.Connection, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    """Few statements, not one per row: each call into sqlite3 hands the GIL over and waits to get it back."""
    if not rows:
        return
    width = len(rows[0])
    per = PARAMS_PER_STATEMENT // width
    for first in range(0, len(rows), per):
        chunk = rows[first:first + per]
        values = ", ".join([f"({', '.join('?' * width)})"] * len(chunk))
        conn.execute(f"INSERT INTO {table} ({columns}) VALUES {values}", [v for row in chunk for v in row])


def index_batch(conn: sqlite3.Connection, records: list[dict[str, Any]]) -> None:
    """The side-table rows of records just inserted, inside the caller's transaction."""
    keys, articles, payments = [], [], []
    for record in records:
        rid = bytes.fromhex(record["id"])
        consumer, origin = record.get("consumer") or {}, record.get("origin") or {}
        keys.append((rid, _order_record_ms(record["orderRecordDate"]), consumer.get("consumerId"),
                     origin.get("terminalId")))
        found = {(item.get("article") or {}).get("tenantArticleId") for item in record.get("lineItems", ())}
        articles += [(rid, article) for article in found if isinstance(article, str)]
        payments += [(rid, n, p.get("transactionId"), p.get("receiptNumber"))
                     for n, p in enumerate(record.get("payments") or ())]
    _insert_many(conn, "order_record_search", "id, date_ms, consumer_id, terminal_id", keys)
    _insert_many(conn, "order_record_articles", "id, article_id", articles)
    _insert_many(conn, "order_record_payments", "id, n, transaction_id, receipt_number", payments)


def install(conn: sqlite3.Connection) -> None:
    """On the writing connection: the side tables and, when they are new, their filling from the records."""
    conn.create_function("order_record_ms", 1, _order_record_ms, deterministic=True)
    fresh = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'order_record_search'").fetchone() is None
    conn.executescript(f"BEGIN IMMEDIATE; {SEARCH_SCHEMA} {BACKFILL if fresh else ''} COMMIT;")
