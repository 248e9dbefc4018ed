"""A list page read from the records table: joined by SQLite when nothing is due for cleanup, record by record when
something is, in both cases only as far as its byte budget goes."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from typing import Any

from app.store.base import PagePart
from app.store.sqlite.read_ahead import Page, PageKey
from app.store.sqlite.rows import DOC_AS_OF_NOW, as_of_now, where_clause

DUE_ANY = "SELECT 1 FROM order_records WHERE anonymized = 0 AND gdpr_cleanup_ms <= ? LIMIT 1"


def read_page(conn: sqlite3.Connection, key: PageKey, now_ms: int) -> Page:
    """The page `key` names as of `now_ms`, within the open transaction of `conn`; its total is left to the caller."""
    where, args = where_clause(key.filters, key.start_after)
    # Usually the sweep has left nothing due (one look at its partial index): then SQLite joins the page itself,
    # with no Python object per record, unless it holds more than the budget.
    if conn.execute(DUE_ANY, (now_ms,)).fetchone() is None:
        # The subquery's order is the order group_concat sees: a subquery with a LIMIT is never flattened into an
        # aggregate, and SQLite runs it as a co-routine handing its rows over as it reads them.
        joined = joined_within(conn, "SELECT CAST(group_concat(doc, ',') AS BLOB), count(*), max(id) FROM "
                                     f"(SELECT doc, id FROM order_records{where} ORDER BY id LIMIT ?)",
                               (*args, key.size), key.budget)
        if joined is not None:
            part, last = joined
            return Page(None, part, last.hex() if part.count == key.size else None, joined=True)
        docs = read_within(conn.execute(f"SELECT doc FROM order_records{where} ORDER BY id LIMIT ?",
                                        (*args, key.size)), key.budget, as_stored)
    else:
        docs = read_within(conn.execute(f"SELECT {DOC_AS_OF_NOW} FROM order_records{where} ORDER BY id LIMIT ?",
                                        (now_ms, *args, key.size)), key.budget,
                           lambda doc, due: as_of_now(doc, due, key.actor_anonymization))
    resume = None
    if len(docs) < key.size and sum(map(len, docs)) >= key.budget:  # read only as far as the budget goes
        resume = conn.execute(f"SELECT id FROM order_records{where} ORDER BY id LIMIT 1 OFFSET ?",
                              (*args, len(docs) - 1)).fetchone()[0].hex()
    return Page(None, PagePart(b",".join(docs), len(docs), resume), None, joined=False)


def joined_within(conn: sqlite3.Connection, sql: str, args: tuple[Any, ...],
                  budget: int) -> tuple[PagePart, bytes] | None:
    """The page as SQLite joins it, and its last id; or None if it would hold more than `budget` bytes: SQLite's
    length limit, lowered for this one statement, stops the join there, so a page of large records is never built
    whole."""
    lowered = budget < sys.maxsize
    prior = conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, budget) if lowered else 0
    try:
        records, count, last = conn.execute(sql, args).fetchone()
    except sqlite3.DataError:  # "string or blob too big"
        return None
    finally:
        if lowered:
            conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, prior)
    return PagePart(records or b"", count), last


def as_stored(doc: bytes) -> bytes:
    return doc


def read_within(rows: sqlite3.Cursor, budget: int, serve: Callable[..., bytes]) -> list[bytes]:
    """The records of `rows`, each as `serve` makes it of its row, until they hold `budget` bytes (at least one)."""
    page: list[bytes] = []
    held = 0
    for row in rows:
        page.append(doc := serve(*row))
        held += len(doc)
        if held >= budget:
            break
    rows.close()
    return page
