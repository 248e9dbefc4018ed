"""Store-alone ingest on SQLite: records/s and CPU µs per record of `insert_batch`, records built untimed."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson
from bson import ObjectId

from app.domain.instants import utc_now
from app.records import RecordBuilder
from app.settings import make_settings
from app.store.base import Record
from app.store.sqlite import SqliteStore
from scripts.make_sample_data import generate_records

BATCH = 25


def build(count: int) -> list[Record]:
    builder, now = RecordBuilder(make_settings().gdpr), utc_now()
    return [builder.build(orjson.loads(orjson.dumps(raw)), str(ObjectId()), now)
            for raw in generate_records(count, seed=0, start=0)]


async def once(records: list[Record], directory: Path, concurrency: int) -> dict[str, float]:
    """One fresh file store, the records through `insert_batch` in batches of 25 like the bench's store-alone run,
    from `concurrency` tasks at a time."""
    path = directory / f"s{time.monotonic_ns()}.sqlite3"
    store = SqliteStore(str(path))
    await store.open()
    now = utc_now()
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    batches = iter([records[first:first + BATCH] for first in range(0, len(records), BATCH)])

    async def worker() -> None:
        for batch in batches:
            await store.insert_batch(batch, now)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    await store.close()
    size = sum(p.stat().st_size for p in directory.glob(f"{path.name}*"))
    for p in directory.glob(f"{path.name}*"):
        p.unlink()
    return {"rps": len(records) / wall, "cpu_us": cpu * 1e6 / len(records), "bytes_per_record": size / len(records)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_store_ingest", description=__doc__)
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=1, help="batches in flight (default 1: sequential)")
    args = parser.parse_args(argv)
    records = build(args.records)
    gc.collect()
    gc.freeze()  # the records, out of the collector's sight while timed
    runs = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(args.repeats):
                runs.append(asyncio.run(once(records, Path(tmp), args.concurrency)))
    finally:
        gc.unfreeze()
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"sqlite {sqlite3.sqlite_version}: {args.records} records, batches of {BATCH}, "
          f"concurrency {args.concurrency}, median of {args.repeats}: "
          f"{med['rps']:,.0f} records/s, {med['cpu_us']:.0f} µs CPU/record, {med['bytes_per_record']:.0f} B/record")
    return 0


if __name__ == "__main__":
    sys.exit(main())
