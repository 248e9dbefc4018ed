"""Helpers for scripts/bench.py: sample data, the server process, the timed loops and /proc readings."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import orjson
from bson import ObjectId
from yarl import URL

from app.api.jsonbody import parse_json
from app.domain.instants import utc_now
from app.domain.limits import body_proves_caps, vouch_within_caps
from app.domain.objectids import IDS
from app.records import RecordBuilder
from app.schemas.query import MAX_PAGE_SIZE
from app.schemas.records import MAX_BATCH
from app.settings import ENV_PREFIX, Settings
from app.store.base import Record, RecordFilter, Store
from scripts.make_sample_data import generate_records

BATCH = MAX_BATCH
PAGE = MAX_PAGE_SIZE
T = TypeVar("T")


def batches(items: list[T], size: int) -> list[list[T]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def prepare(count: int, settings: Settings) -> tuple[list[bytes], list[Record], dict[str, float]]:
    """Request bodies, the stored records built from them, and the µs/record of parsing, validating, serializing.

    Costs are CPU time of this thread (other load on the machine does not count), one batch at a time like a
    server. The data kept for the run is frozen out of the garbage collector's sight (gc.freeze), so neither these
    timings nor the client's event loop pay for scanning it.
    """
    bodies = [orjson.dumps({"operations": b}) for b in batches(list(generate_records(count, seed=0, start=0)), BATCH)]
    builder, now = RecordBuilder(settings.gdpr), utc_now()
    built = [builder.build(raw, str(ObjectId()), now) for body in bodies for raw in orjson.loads(body)["operations"]]
    gc.collect()
    gc.freeze()
    spent = [0.0, 0.0, 0.0]
    for body in bodies:
        # each body in its own context, as the server handles each request in its own task
        contextvars.Context().run(_timed_batch, builder, body, now, settings, spent)
    parse_us, validate_us, serialize_us = (s * 1e6 / count for s in spent)
    return bodies, built, {"parse_us": parse_us, "validate_us": validate_us, "serialize_us": serialize_us}


def _timed_batch(builder: RecordBuilder, body: bytes, now: datetime, settings: Settings, spent: list[float]) -> None:
    t0 = time.thread_time()
    if body_proves_caps(len(body), settings.limits):  # what app.api.offload does for a body this short
        vouch_within_caps()
    raws = parse_json(body)["operations"]
    t1 = time.thread_time()
    # record ids as the handler takes them: one take per request
    records = [builder.build(raw, i, now) for raw, i in zip(raws, IDS.take(len(raws)), strict=True)]
    t2 = time.thread_time()
    for record in records:
        orjson.dumps(record)
    t3 = time.thread_time()
    spent[0], spent[1], spent[2] = spent[0] + t1 - t0, spent[1] + t2 - t1, spent[2] + t3 - t2


async def pool(items: Iterable[T], concurrency: int, fn: Callable[[T], Awaitable[Any]]) -> list[Any]:
    """Run fn over items with `concurrency` workers pulling from one queue; results in item order."""
    todo = list(enumerate(items))
    results: list[Any] = [None] * len(todo)
    it = iter(todo)

    async def worker() -> None:
        for i, item in it:
            results[i] = await fn(item)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


async def timed(coro: Awaitable[T]) -> tuple[float, T]:
    t0 = time.perf_counter()
    result = await coro
    return time.perf_counter() - t0, result


async def store_ingest(store: Store, built: list[Record], concurrency: int) -> float:
    """Seconds for the store alone to insert the records in batches of 25 (the store must be fresh)."""
    await store.open()
    now = utc_now()
    elapsed, outcomes = await timed(pool(batches(built, BATCH), concurrency, lambda b: store.insert_batch(b, now)))
    created = sum(o.status == "CREATED" for batch in outcomes for o in batch)
    if created != len(built):
        raise RuntimeError(f"store created {created} of {len(built)} records")
    return elapsed


async def store_reads(store: Store, starts: list[str | None], total: int, budget: int) -> float:
    """Seconds to read every page the way the list handler does: list_part within the byte budget."""
    everything, now = RecordFilter(), utc_now()

    async def read_all() -> int:
        got = 0
        for start in starts:
            part = (await store.list_part(everything, start, PAGE, now, budget))[1]
            if part.resume_after is not None:
                raise RuntimeError("a page outgrew limits.stream_page_bytes: the bench's records are not ordinary")
            got += part.count
        return got

    elapsed, got = await timed(read_all())
    if got != total:
        raise RuntimeError(f"store pages held {got} of {total} records")
    return elapsed


def page_starts(ids: list[str]) -> list[str | None]:
    """startAfterId of every page of the ascending id order: known ahead, so the client parses nothing."""
    ordered = sorted(ids)
    return [None, *(ordered[k - 1] for k in range(PAGE, len(ordered), PAGE))]


async def http_ingest(session: aiohttp.ClientSession, url: str, bodies: list[bytes], concurrency: int,
                      headers: dict[str, str]) -> tuple[float, float, list[str]]:
    """Seconds (wall, client CPU) to PUT every body; then (untimed) check each was CREATED; and the ids.

    The store is fresh, so anything else (an UNCHANGED would mean nothing was written) makes the figures void."""
    async def put(body: bytes) -> bytes:
        async with session.put(url, data=body, headers=headers) as resp:
            data = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"PUT answered {resp.status}: {data[:300]!r}")
            return data

    cpu = time.process_time()
    elapsed, answers = await timed(pool(bodies, concurrency, put))
    cpu = time.process_time() - cpu
    return elapsed, cpu, created_ids(answers)


def created_ids(answers: list[bytes]) -> list[str]:
    """The ids of the records the bulk answers created; RuntimeError if any detail is not CREATED."""
    details, created = [], 0
    for answer in answers:
        body = orjson.loads(answer)
        details += body["details"]
        created += body["summary"]["created"]
    others = [d for d in details if d["status"] != "CREATED"]
    if others or created != len(details):
        first = str(others[0])[:300] if others else "none"
        raise RuntimeError(f"{len(details) - created} records not CREATED (summary says {created} of "
                           f"{len(details)}), first: {first}")
    return [d["orderRecord"]["id"] for d in details]


def page_urls(url: str, starts: list[str | None]) -> list[URL]:
    """Every page's URL, built before timing as the transfer floor's is: the client's own work is not the
    service's."""
    return [URL(url).with_query({"size": str(PAGE), **({"startAfterId": start} if start else {})}) for start in starts]


async def _get(session: aiohttp.ClientSession, url: URL, headers: dict[str, str]) -> bytes:
    async with session.get(url, headers=headers) as resp:
        body = await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"GET answered {resp.status}: {body[:300]!r}")
        return body


async def checked_pages(session: aiohttp.ClientSession, urls: list[URL], ids: list[str],
                        headers: dict[str, str]) -> tuple[list[int], bytes]:
    """Untimed: every page read and checked to hold the ids in order; the length of each, and the first page's
    body (what the transfer floor serves)."""
    pages = [await _get(session, url, headers) for url in urls]
    got = [r["id"] for p in pages for r in orjson.loads(p)["orderRecords"]]
    if got != sorted(ids):
        raise RuntimeError(f"paged reads returned {len(got)} records, expected {len(ids)} in id order")
    return [len(p) for p in pages], pages[0]


async def http_reads(session: aiohttp.ClientSession, urls: list[URL], lengths: list[int],
                     headers: dict[str, str]) -> tuple[float, float]:
    """Seconds (wall, client CPU) to GET every page in turn, each body let go once read, as the transfer floor's
    are; each page's length must be what checked_pages found. Holding every page of a pass (tens of MB) would make
    the client fault in fresh memory for each one: about 1 ms a page here, which the transfer floor does not pay."""
    async def read_all() -> list[int]:
        return [len(await _get(session, url, headers)) for url in urls]

    cpu = time.process_time()
    elapsed, got = await timed(read_all())
    cpu = time.process_time() - cpu
    if got != lengths:
        raise RuntimeError("a page read while timed differs in length from the same page read before")
    return elapsed, cpu


class TransferFloor:
    """A bare aiohttp server (scripts/bench_echo.py: no app, middleware, token or store) in its own process,
    answering one body: what the paged reads pay besides the store. Used as `async with`, kept running so that
    its passes can alternate with the service's."""

    def __init__(self, body: bytes, tmp: Path) -> None:
        self.body, self.tmp = body, tmp

    async def __aenter__(self) -> TransferFloor:
        (self.tmp / "page.json").write_bytes(self.body)
        self.echo = Server({}, 1, self.tmp / "echo.log", "scripts.bench_echo", ("--body", str(self.tmp / "page.json")))
        try:
            await self.echo.wait_ready()
            self.url, self.session = URL(self.echo.url + "/page"), aiohttp.ClientSession()
            if await self._get() != self.body:
                raise RuntimeError("the bare server answered a different body")
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        if hasattr(self, "session"):
            await self.session.close()
        self.echo.stop()

    async def _get(self) -> bytes:
        async with self.session.get(self.url) as resp:
            return await resp.read()

    async def pass_seconds(self, pages: int) -> float:
        """Seconds for `pages` sequential GETs of the body, each let go once read."""
        t0 = time.perf_counter()
        for _ in range(pages):
            await self._get()
        return time.perf_counter() - t0


_handed_out: set[int] = set()


def free_port() -> int:
    """A free port: any, or a free one of BENCH_PORTS (`LOW-HIGH`) on a machine where ports are shared out."""
    low, _, high = os.environ.get("BENCH_PORTS", "0-0").partition("-")
    for port in range(int(low), int(high or low) + 1):
        if port and port in _handed_out:  # given to a server that may not listen yet
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            _handed_out.add(port)
            return int(s.getsockname()[1])
    raise RuntimeError(f"no free port in BENCH_PORTS={os.environ['BENCH_PORTS']}")


class Server:
    """`python -m app` (or another module given `--port`) in its own session (process group), so its workers are
    found and stopped together."""

    def __init__(self, env: dict[str, str], workers: int, log: Path, module: str = "app",
                 args: tuple[str, ...] | None = None) -> None:
        self.port, self.workers, self.log = free_port(), workers, log
        # the service prints this once every worker serves (its sockets listen before the workers start)
        self.ready_line = "Order Records on http://" if module == "app" else None
        clean = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
        args = ("--workers", str(workers)) if args is None else args
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", module, "--port", str(self.port), *args],
                env={**clean, **env}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[2]) == self.proc.pid:  # the process group
                    found.append(int(entry))
        return found

    def listeners(self) -> int:
        """Listening sockets on the port: one per worker once each is up (reuse_port)."""
        rows = [ln.split() for ln in Path("/proc/net/tcp").read_text().splitlines()[1:]]
        return sum(1 for r in rows if r[1].endswith(f":{self.port:04X}") and r[3] == "0A")

    async def wait_ready(self, timeout: float = 60) -> None:
        """Until every worker listens (for the service: it says so) and /health answers."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited {self.proc.returncode}:\n{self.log.read_text()[-2000:]}")
                if self.ready_line and self.ready_line not in self.log.read_text(errors="replace"):
                    await asyncio.sleep(0.1)
                    continue
                try:
                    async with session.get(self.url + "/health") as resp:
                        if resp.status == 200 and self.listeners() >= self.workers:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"server not ready in {timeout} s:\n{self.log.read_text()[-2000:]}")

    def cpu_seconds(self) -> float:
        """On-CPU time of every thread of every server process (schedstat, ns resolution)."""
        total = 0
        for pid in self.pids():
            for tid in os.listdir(f"/proc/{pid}/task"):
                try:
                    total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
                except (OSError, IndexError, ValueError):
                    continue
        return total / 1e9

    def peak_rss_mib(self) -> list[float]:
        """VmHWM (peak resident set) of each server process."""
        peaks = []
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            peaks += [int(ln.split()[1]) / 1024 for ln in status.splitlines() if ln.startswith("VmHWM:")]
        return peaks

    def stop(self) -> None:
        """SIGINT to the group (graceful), SIGKILL to whatever is left after 15 s."""
        try:
            os.killpg(self.proc.pid, signal.SIGINT)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 15
        while self.proc.poll() is None or self.pids():
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
        self.proc.wait()
