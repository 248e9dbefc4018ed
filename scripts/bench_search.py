"""Search benchmark: the first page of each index-backed query on a SQLite store of N and then 10 N records."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from bson import ObjectId

from app.domain.instants import format_instant
from app.search.build import Builder, epoch_ms
from app.search.payload import OrderRecordSearchPayload
from app.search.query import SearchQuery, Window
from app.store.sqlite import SqliteStore

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BATCH = 500
PAGE = 20
REPEATS = 101
# Keys repeat often enough that every query fills its first page on the small store as on the large one.
QUERIES: dict[str, dict[str, Any]] = {
    "all, by id": {"query": {}},
    "all, newest first": {"query": {}, "sort": [{"orderRecordDate": "DESC"}]},
    "last 7 days, newest first": {"query": {"orderRecordDate": {"after": "-P7D"}},
                                  "sort": [{"orderRecordDate": "DESC"}]},
    "consumer": {"query": {"consumer": {"consumerId": {"eq": "C-42"}}}},
    "article": {"query": {"lineItems": {"contains": {"article": {"tenantArticleId": {"eq": "ART-7"}}}}}},
    "transaction id": {"query": {"payments": {"contains": {"transactionId": {"eq": "TX-42"}}}}},
    "receipt number": {"query": {"payments": {"contains": {"receiptNumber": {"eq": "R-42"}}}}},
    "terminal, last 30 days, newest first": {"query": {"origin": {"terminalId": {"eq": "T-7"}},
                                                       "orderRecordDate": {"after": "-P30D"}},
                                             "sort": [{"orderRecordDate": "DESC"}]},
    "tenantOrderRecordId": {"query": {"tenantOrderRecordId": {"eq": "O-42"}}},
}


def record(n: int) -> dict[str, Any]:
    """A small stored record of the official shape; `n` spreads its keys over a year, 1,000 consumers and articles,
    100 terminals."""
    stamp = format_instant(NOW)
    cleanup = NOW + timedelta(days=90)
    return {
        "id": str(ObjectId()), "version": 1, "created": stamp, "lastModified": stamp, "anonymized": False,
        "gdprCleanupDate": format_instant(cleanup), "deletionDate": format_instant(cleanup + timedelta(days=3560)),
        "tenantOrderRecordId": f"O-{n}", "facilityRef": f"F-{n % 20}",
        "orderRecordDate": (NOW - timedelta(seconds=(n * 7919) % (365 * 86400))).isoformat(),
        "consumer": {"consumerId": f"C-{n % 1000}", "email": f"c{n % 1000}@example.com",
                     "addresses": [{"lastName": "Doe", "city": "Berlin", "country": "DE", "postalCode": "10115"}]},
        "lineItems": [{"id": f"{n}-{i}", "quantity": 1 + i,
                       "article": {"tenantArticleId": f"ART-{(n + i * 389) % 1000}", "title": "Item", "attributes": []}}
                      for i in range(3)],
        "payments": [{"transactionId": f"TX-{n}", "receiptNumber": f"R-{n}", "paymentMethod": "CARD",
                      "status": "COMPLETED", "value": {"value": 1999, "currency": "EUR", "decimalPlaces": 2}}],
        "origin": {"type": "POS", "terminalId": f"T-{n % 100}", "cashierId": f"K-{n % 300}"},
    }


async def fill(store: SqliteStore, start: int, stop: int) -> float:
    began = time.perf_counter()
    for first in range(start, stop, BATCH):
        await store.insert_batch([record(n) for n in range(first, min(first + BATCH, stop))], NOW)
    return time.perf_counter() - began


def compile_query(body: dict[str, Any]) -> SearchQuery:
    data = OrderRecordSearchPayload().load(body)
    builder = Builder(NOW)
    return SearchQuery(builder.query(data["query"]), builder.sort(data.get("sort")), epoch_ms(NOW))


async def first_page_ms(store: SqliteStore, query: SearchQuery) -> float:
    began = time.perf_counter()
    found = await store.search(query, Window(None, False, PAGE + 1, False), NOW)
    elapsed = (time.perf_counter() - began) * 1e3
    assert len(found.rows) >= 1
    return elapsed


async def measure(small: int, large: int, directory: Path) -> dict[str, Any]:
    """Fill to `small`, keep a copy, fill on to `large`; then time both stores in turns, so that whatever else
    the machine does at the time weighs on both alike."""
    path, copy = directory / "large.sqlite3", directory / "small.sqlite3"
    store = SqliteStore(str(path))
    await store.open()
    fill_s = await fill(store, 0, small)
    await store.close()  # the last connection checkpoints the WAL into the file
    shutil.copyfile(path, copy)
    store = SqliteStore(str(path))
    await store.open()
    fill_s += await fill(store, small, large)
    stores = {"small": SqliteStore(str(copy)), "large": store}
    await stores["small"].open()
    times: dict[str, dict[str, list[float]]] = {name: {"small": [], "large": []} for name in QUERIES}
    try:
        for name, body in QUERIES.items():
            query = compile_query(body)
            for each in stores.values():
                await first_page_ms(each, query)  # warm
            for _ in range(REPEATS):
                for size, each in stores.items():
                    times[name][size].append(await first_page_ms(each, query))
    finally:
        for each in stores.values():
            await each.close()
    medians = {name: {size: statistics.median(t) for size, t in by_size.items()} for name, by_size in times.items()}
    return {"small": small, "large": large, "fill_rps": large / fill_s,
            "queries": {name: {"small_ms": m["small"], "large_ms": m["large"], "ratio": m["large"] / m["small"]}
                        for name, m in medians.items()}}


def report(figures: dict[str, Any], limit: float = 1.5) -> str:
    lines = [f"search, first page of {PAGE} (SQLite; median of {REPEATS}, the two stores in turns): "
             f"{figures['small']:,} vs {figures['large']:,} records (filled at {figures['fill_rps']:,.0f} records/s)",
             f"{'query':40}{'small ms':>10}{'large ms':>10}{'ratio':>8}  target"]
    for name, q in figures["queries"].items():
        verdict = "PASS" if q["ratio"] <= limit else "FAIL"
        lines.append(f"{name:40}{q['small_ms']:>10.3f}{q['large_ms']:>10.3f}{q['ratio']:>8.2f}  ≤ {limit}  {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_search", description=__doc__)
    parser.add_argument("--records", type=int, default=100000, help="the small store (default 100000)")
    parser.add_argument("--factor", type=int, default=10, help="the large store is this many times larger")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args(argv)
    print(run(args.records, args.factor, args.json))
    return 0


def run(records: int, factor: int = 10, json_path: Path | None = None) -> str:
    """Measure in a temporary directory; the report (and the figures as JSON, if asked)."""
    with tempfile.TemporaryDirectory(prefix="order-records-search-bench-") as tmp:
        figures = asyncio.run(measure(records, records * factor, Path(tmp)))
    if json_path is not None:
        json_path.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2) + b"\n")
    return report(figures)


if __name__ == "__main__":
    sys.exit(main())
