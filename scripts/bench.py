"""Benchmark: ingest and paged reads over real HTTP against the store alone, per-record costs, and peak RSS."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import secrets
import statistics
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import orjson

from app.__main__ import GIL_SWITCH_INTERVAL
from app.api.auth import PERMISSIONS, issue_token
from app.factory import make_store
from app.settings import Settings, make_settings
from app.store.base import Store
from scripts import bench_rss, bench_search
from scripts.bench_lib import (
    BATCH,
    PAGE,
    Server,
    TransferFloor,
    checked_pages,
    http_ingest,
    http_reads,
    page_starts,
    page_urls,
    prepare,
    store_ingest,
    store_reads,
)

MONGODB_URI = "ORDER_RECORDS_MONGODB_URI"
# the targets: ingest at half the store's rate; paged reads within 10 % of what store + bare transfer allow
INGEST_TARGET = 0.5
READ_OF_CEILING = 0.9
T = TypeVar("T")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench", description=__doc__)
    parser.add_argument("--records", type=int, default=20000, help="records to ingest and read (default 20000)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent HTTP clients for ingest (default 8)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    parser.add_argument("--read-passes", type=int, default=3, help="full paged-read passes; the median counts")
    parser.add_argument("--backend", choices=("sqlite", "mongodb"),
                        default="mongodb" if os.environ.get(MONGODB_URI) else "sqlite",
                        help=f"store to measure (default: mongodb if {MONGODB_URI} is set, else sqlite)")
    parser.add_argument("--read-ahead-pages", type=int, default=make_settings().sqlite.read_ahead_pages, metavar="N",
                        help="sqlite.read_ahead_pages of the stores and servers measured (default: the configured "
                        "default; 0: pages are read only when asked for)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--search", type=int, default=0, metavar="N", help="also the search section: first pages on "
                        "SQLite stores of N and 10 N records (scripts/bench_search.py; default 0: skipped)")
    parser.add_argument("--rss-records", type=int, default=0, metavar="N", help="also the server's peak RSS while "
                        "the backfill tool loads N generated records and while one client reads them all "
                        f"(limit {bench_rss.RSS_LIMIT_MIB:.0f} MiB, stated for 100000 records; default 0: skipped)")
    args = parser.parse_args(argv)
    if args.backend == "mongodb" and not os.environ.get(MONGODB_URI):
        parser.error(f"--backend mongodb needs {MONGODB_URI}")
    if args.rss_records < 0 or args.read_ahead_pages < 0:
        parser.error("--rss-records and --read-ahead-pages must not be negative")
    if min(args.records, args.concurrency, args.workers, args.read_passes) < 1:
        parser.error("--records, --concurrency, --workers and --read-passes must be at least 1")
    return args


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


class Backend:
    """Fresh, throwaway stores of one kind: SQLite files in a temp dir, or MongoDB databases dropped at the end."""

    def __init__(self, kind: str, tmp: Path, read_ahead_pages: int) -> None:
        self.kind, self.tmp, self.tag = kind, tmp, f"bench_{secrets.token_hex(4)}"
        self.read_ahead_pages = read_ahead_pages

    def settings(self, name: str) -> Settings:
        if self.kind == "mongodb":
            return make_settings({"mongodb.uri": os.environ[MONGODB_URI], "mongodb.database": f"{self.tag}_{name}"})
        return make_settings({"sqlite.path": str(self.tmp / f"{name}.sqlite3"),
                              "sqlite.read_ahead_pages": self.read_ahead_pages})

    def server_env(self, name: str) -> dict[str, str]:
        s = self.settings(name)
        if self.kind == "mongodb":
            return {MONGODB_URI: s.mongodb.uri, "ORDER_RECORDS_MONGODB_DATABASE": s.mongodb.database}
        return {"ORDER_RECORDS_SQLITE_PATH": s.sqlite.path,
                "ORDER_RECORDS_SQLITE_READ_AHEAD_PAGES": str(s.sqlite.read_ahead_pages)}

    async def use(self, name: str, fn: Callable[[Store], Awaitable[T]]) -> T:
        store = make_store(self.settings(name))
        try:
            return await fn(store)
        finally:
            if self.kind == "mongodb":
                await store.client.drop_database(self.settings(name).mongodb.database)  # type: ignore[attr-defined]
            await store.close()


@dataclass
class ServedRun:
    """What one server measured: the HTTP ingest, then every read pass, in seconds."""

    ingest_s: float
    ingest_client_cpu_s: float
    ingest_server_cpu_s: float
    page_body: bytes  # the first page, as the server sent it: the transfer floor serves it
    passes: list[ReadPass] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)


@dataclass
class ReadPass:
    """One pass over every page: over HTTP (wall, and the client's CPU), by the store alone, by the bare server."""

    http_s: float
    http_client_cpu_s: float
    server_cpu_s: float
    store_s: float
    floor_s: float


async def served(args: argparse.Namespace, server: Server, store_read: Store, bodies: list[bytes],
                 starts: list[str | None], headers: dict[str, str], budget: int, tmp: Path) -> ServedRun:
    """HTTP ingest; then the paged reads: a pass of the service, of the store alone and of the bare transfer in
    turn, so that the three are measured in the same minutes (this machine's speed drifts within minutes)."""
    url = server.url + "/api/orderrecords"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.concurrency)) as session:
        cpu = server.cpu_seconds()
        progress("HTTP ingest")
        ingest_s, client_cpu, ids = await http_ingest(session, url, bodies, args.concurrency, headers)
        urls = page_urls(url, page_starts(ids))
        ingest_cpu = server.cpu_seconds() - cpu
        lengths, first = await checked_pages(session, urls, ids, headers)  # untimed: the ids, in order
        run = ServedRun(ingest_s, client_cpu, ingest_cpu, first)
        progress("paged reads: the service, the store alone and the bare transfer, pass by pass")
        async with TransferFloor(run.page_body, tmp) as floor:
            for _ in range(args.read_passes):
                store_s = await store_reads(store_read, starts, len(ids), budget)
                cpu = server.cpu_seconds()
                http_s, client_cpu = await http_reads(session, urls, lengths, headers)
                server_cpu = server.cpu_seconds() - cpu
                floor_s = await floor.pass_seconds(len(urls))
                run.passes.append(ReadPass(http_s, client_cpu, server_cpu, store_s, floor_s))
    run.rss_mib = server.peak_rss_mib()
    return run


async def measure(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    backend, load_before = Backend(args.backend, tmp, args.read_ahead_pages), os.getloadavg()[0]
    progress(f"preparing {args.records} records ({args.backend})")
    bodies, built, figures = prepare(args.records, backend.settings("prepare"))
    n, starts = len(built), page_starts([r["id"] for r in built])

    progress("store alone: ingest (sequential, then concurrent)")
    seq_s = await backend.use("store_seq", lambda s: store_ingest(s, built, 1))
    conc_s = await backend.use("store_conc", lambda s: store_ingest(s, built, args.concurrency))

    secret = secrets.token_urlsafe(32)
    env = {"ORDER_RECORDS_JWT_SECRET": secret, "ORDER_RECORDS_GDPR_SWEEP_INTERVAL_SECONDS": "86400",
           "ORDER_RECORDS_SERVER_LOG_LEVEL": "WARNING", **backend.server_env("http")}
    headers = {"Authorization": f"Bearer {issue_token(secret, PERMISSIONS)}", "Content-Type": "application/json"}

    async def over_http(store_read: Store) -> ServedRun:
        await store_ingest(store_read, built, 1)
        server = Server(env, args.workers, tmp / "server.log")
        try:
            await server.wait_ready()
            progress(f"server pid {server.proc.pid} ({args.workers} worker(s)) on {server.url}")
            return await served(args, server, store_read, bodies, starts, headers,
                                backend.settings("store_read").limits.stream_page_bytes, tmp)
        finally:
            server.stop()
            if args.backend == "mongodb":
                await backend.use("http", lambda s: asyncio.sleep(0))

    run = await backend.use("store_read", over_http)
    peaks: dict[str, Any] = {}
    if args.rss_records:
        progress(f"peak RSS: backfill of {args.rss_records} records, then a full paged read")
        peaks = await bench_rss.measure(args.rss_records, {**env, **backend.server_env("rss")}, args.workers,
                                      headers["Authorization"].removeprefix("Bearer "), tmp)
        if args.backend == "mongodb":
            await backend.use("rss", lambda s: asyncio.sleep(0))

    figures.update(read_figures(run, n, len(starts)))
    ingest_http, ingest_seq, ingest_conc = n / run.ingest_s, n / seq_s, n / conc_s
    figures.update(
        backend=args.backend, records=n, batch=BATCH, page=PAGE, concurrency=args.concurrency,
        workers=args.workers, read_passes=args.read_passes,
        read_ahead_pages=args.read_ahead_pages if args.backend == "sqlite" else 0,
        load_avg_1m=[load_before, os.getloadavg()[0]],
        ingest_http_rps=ingest_http, ingest_store_rps=max(ingest_seq, ingest_conc),
        ingest_store_sequential_rps=ingest_seq, ingest_store_concurrent_rps=ingest_conc,
        ingest_store_mode="sequential" if ingest_seq >= ingest_conc else f"concurrency {args.concurrency}",
        ingest_ratio=ingest_http / max(ingest_seq, ingest_conc),
        ingest_server_cpu_us=run.ingest_server_cpu_s * 1e6 / n, ingest_client_cpu_us=run.ingest_client_cpu_s * 1e6 / n,
        server_processes=len(run.rss_mib), server_peak_rss_mib=sum(run.rss_mib),
        server_peak_rss_max_process_mib=max(run.rss_mib), **peaks,
    )
    figures["targets"] = targets(figures)
    return figures


def read_figures(run: ServedRun, records: int, pages: int) -> dict[str, Any]:
    """The paged-read figures: each the median over the passes; the ceiling from the store's and the bare
    transfer's medians."""
    def median(key: str) -> float:
        return statistics.median(getattr(p, key) for p in run.passes)

    store_page_s, transfer_s = median("store_s") / pages, median("floor_s") / pages
    ceiling = store_page_s / (store_page_s + transfer_s)
    read_ratio = median("store_s") / median("http_s")
    return dict(
        read_http_rps=records / median("http_s"), read_store_rps=records / median("store_s"), read_ratio=read_ratio,
        read_server_cpu_us=sum(p.server_cpu_s for p in run.passes) * 1e6 / (records * len(run.passes)),
        read_client_cpu_us=sum(p.http_client_cpu_s for p in run.passes) * 1e6 / (records * len(run.passes)),
        read_page_bytes=len(run.page_body), read_transfer_ms=transfer_s * 1e3, read_store_page_ms=store_page_s * 1e3,
        read_ratio_ceiling=ceiling, read_ratio_of_ceiling=read_ratio / ceiling,
        read_passes_page_ms=[{"http": p.http_s * 1e3 / pages, "store": p.store_s * 1e3 / pages,
                              "transfer": p.floor_s * 1e3 / pages} for p in run.passes],
    )


def targets(f: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target this run measured: its figure's target and whether it is met."""
    read_target = READ_OF_CEILING * f["read_ratio_ceiling"]
    found: dict[str, dict[str, Any]] = {
        "ingest_ratio": {"target": INGEST_TARGET, "pass": f["ingest_ratio"] >= INGEST_TARGET},
        "read_ratio": {"target": read_target, "of_ceiling": READ_OF_CEILING, "pass": f["read_ratio"] >= read_target},
    }
    for phase in ("backfill", "read"):
        if f"rss_{phase}_peak_mib" in f:
            peak = f[f"rss_{phase}_peak_mib"]
            found[f"rss_{phase}_peak_mib"] = {"below": bench_rss.RSS_LIMIT_MIB, "pass": peak < bench_rss.RSS_LIMIT_MIB}
    return found


def report(f: dict[str, Any]) -> str:
    goals = f["targets"]
    passed = {k: "PASS" if t["pass"] else "FAIL" for k, t in goals.items()}
    rows = [
        ("ingest, records/s", f"{f['ingest_http_rps']:,.0f}", f"{f['ingest_store_rps']:,.0f}",
         f"{f['ingest_ratio']:.3f}", f"≥ {INGEST_TARGET}  {passed['ingest_ratio']}"),
        ("paged reads, records/s", f"{f['read_http_rps']:,.0f}", f"{f['read_store_rps']:,.0f}",
         f"{f['read_ratio']:.3f}", f"≥ {READ_OF_CEILING} × ceiling {f['read_ratio_ceiling']:.3f} = "
         f"{goals['read_ratio']['target']:.3f}  {passed['read_ratio']}"),
    ]
    lines = [f"{f['records']} records, {f['backend']}, {f['workers']} worker(s), {f['concurrency']} clients, "
             f"batches of {BATCH}, pages of {PAGE}; load average {f['load_avg_1m'][0]:.1f} -> "
             f"{f['load_avg_1m'][1]:.1f} on {os.cpu_count()} CPUs",
             f"{'':24}{'HTTP':>10}{'store':>10}{'ratio':>8}  target"]
    lines += [f"{a:24}{b:>10}{c:>10}{d:>8}  {e}" for a, b, c, d, e in rows]
    lines += [
        f"store alone ingest: sequential {f['ingest_store_sequential_rps']:,.0f}/s, concurrency {f['concurrency']} "
        f"{f['ingest_store_concurrent_rps']:,.0f}/s (best: {f['ingest_store_mode']})",
        f"µs per record: JSON parse {f['parse_us']:.1f}, validation {f['validate_us']:.1f}, "
        f"serialization {f['serialize_us']:.1f}",
        f"CPU µs per record, server (client): ingest {f['ingest_server_cpu_us']:.1f} ({f['ingest_client_cpu_us']:.1f}),"
        f" paged read {f['read_server_cpu_us']:.1f} ({f['read_client_cpu_us']:.1f})",
        f"paged reads, per page: store {f['read_store_page_ms']:.2f} ms; the first page's body alone "
        f"({f['read_page_bytes'] / 1e6:.2f} MB) from a bare aiohttp server {f['read_transfer_ms']:.2f} ms; one "
        f"after the other they allow a read ratio of {f['read_ratio_ceiling']:.3f}; this run reached "
        f"{f['read_ratio_of_ceiling']:.3f} of that, reading ahead {f['read_ahead_pages']} page(s)",
        f"server peak RSS: {f['server_peak_rss_mib']:.1f} MiB over {f['server_processes']} process(es), "
        f"largest {f['server_peak_rss_max_process_mib']:.1f} MiB",
        *(bench_rss.report(f) if "rss_records" in f else []),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)  # the store alone runs under the server's setting too
    try:
        with tempfile.TemporaryDirectory(prefix="order-records-bench-") as tmp:
            figures = asyncio.run(measure(args, Path(tmp)))
    finally:
        gc.unfreeze()
        sys.setswitchinterval(interval)
    print(report(figures))
    if args.json:
        args.json.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2) + b"\n")
    if args.search:
        print(bench_search.run(args.search))
    return 0


if __name__ == "__main__":
    sys.exit(main())
