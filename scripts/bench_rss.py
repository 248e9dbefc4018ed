"""Peak RSS of the server while the backfill tool loads N generated records, and while one client reads them all."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from scripts.bench_lib import PAGE, Server
from scripts.make_sample_data import write_records

RSS_LIMIT_MIB = 300.0
SEED = 1  # not the main run's records: a store of its own, filled from nothing


def reset_peaks(server: Server) -> bool:
    """Set each server process's VmHWM back to its current RSS (`5` to clear_refs, Linux 4.0+), so the next
    reading is the peak of the next phase alone. False if the kernel refused: the peaks then count from the start."""
    done = True
    for pid in server.pids():
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            done = False
    return done


async def full_read(url: str, headers: dict[str, str]) -> int:
    """Every record in pages of PAGE, each page after the last id of the one before; the number read."""
    read, start = 0, None
    async with aiohttp.ClientSession() as session:
        while True:
            params = {"size": str(PAGE), **({"startAfterId": start} if start else {})}
            async with session.get(url, params=params, headers=headers) as resp:
                body = await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"GET answered {resp.status}: {body[:300]!r}")
            records = orjson.loads(body)["orderRecords"]
            if not records:
                return read
            read, start = read + len(records), records[-1]["id"]


def backfill(url: str, token: str, source: Path, tmp: Path) -> float:
    """`python -m scripts.backfill` over `source`, as an operator runs it; seconds taken. Anything but a clean
    run (exit 0: every record stored) voids the figures."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "scripts.backfill", "--url", url, "--no-progress",
         "--checkpoint", str(tmp / "rss.checkpoint.json"), "--rejects", str(tmp / "rss.rejects.jsonl"), str(source)],
        env={**os.environ, "ORDER_RECORDS_TOKEN": token}, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"backfill exited {done.returncode}:\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}")
    return time.perf_counter() - t0


async def measure(records: int, env: dict[str, str], workers: int, token: str, tmp: Path) -> dict[str, Any]:
    """The server's peak RSS (sum over its processes, and the largest) in each phase, with PASS/FAIL data."""
    source = tmp / "rss.jsonl"
    with source.open("wb") as out:
        write_records(out, records, SEED, 0, None, progress=False)
    server = Server(env, workers, tmp / "rss-server.log")
    try:
        await server.wait_ready()
        url = server.url + "/api/orderrecords"
        reset = reset_peaks(server)
        backfill_s = await asyncio.to_thread(backfill, server.url, token, source, tmp)
        after_backfill = server.peak_rss_mib()
        reset = reset_peaks(server) and reset
        t0 = time.perf_counter()
        read = await full_read(url, {"Authorization": f"Bearer {token}"})
        read_s = time.perf_counter() - t0
        after_read = server.peak_rss_mib()
    finally:
        server.stop()
        source.unlink(missing_ok=True)
    if read != records:
        raise RuntimeError(f"the full read returned {read} of {records} backfilled records")
    return {
        "rss_records": records, "rss_limit_mib": RSS_LIMIT_MIB, "rss_phase_peaks": reset,
        "rss_backfill_s": backfill_s, "rss_read_s": read_s,
        "rss_backfill_peak_mib": sum(after_backfill), "rss_backfill_peak_max_process_mib": max(after_backfill),
        "rss_read_peak_mib": sum(after_read), "rss_read_peak_max_process_mib": max(after_read),
    }


def report(f: dict[str, Any]) -> list[str]:
    since = "" if f["rss_phase_peaks"] else " (peaks since start: the kernel refused to reset them)"
    lines = []
    for phase, label in (("backfill", f"backfill of {f['rss_records']:,} records ({f['rss_backfill_s']:.0f} s)"),
                         ("read", f"full paged read of them ({f['rss_read_s']:.0f} s)")):
        peak = f[f"rss_{phase}_peak_mib"]
        lines.append(f"server peak RSS, {label}: {peak:.1f} MiB (largest process "
                     f"{f[f'rss_{phase}_peak_max_process_mib']:.1f})  < {f['rss_limit_mib']:.0f} MiB  "
                     f"{'PASS' if peak < f['rss_limit_mib'] else 'FAIL'}{since}")
    return lines
