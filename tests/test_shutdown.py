"""Graceful shutdown: in-flight requests finish, the GDPR sweep stops, the process exits cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from app.factory import create_app
from app.settings import Settings
from app.store.sqlite import SqliteStore
from tests.factories import minimal_record
from tests.realserver import MONGODB_URI, database_name, drop_database, needs_server

BACKENDS = ["sqlite", pytest.param("mongodb", marks=needs_server)]


class SlowStore(SqliteStore):
    """Inserts take long enough for a shutdown to begin while a request is in flight."""

    async def insert_batch(self, records: list[dict[str, Any]], now: datetime) -> Any:
        await asyncio.sleep(0.5)
        return await super().insert_batch(records, now)


async def test_shutdown_waits_for_in_flight_requests_and_stops_the_sweep(
        settings: Settings, auth: dict[str, str]) -> None:
    store = SlowStore(":memory:")
    app = create_app(settings.replace({"gdpr.sweep_interval_seconds": 0.05}), store=store, sweep=True)
    runner = web.AppRunner(app, shutdown_timeout=10)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    assert any(t.get_name() == "gdpr-sweep" for t in asyncio.all_tasks())
    async with aiohttp.ClientSession() as session:
        in_flight = asyncio.create_task(session.put(f"http://127.0.0.1:{port}/api/orderrecords",
                                                    json={"operations": [minimal_record()]}, headers=auth))
        await asyncio.sleep(0.2)
        await runner.cleanup()  # what run_app does on SIGTERM
        response = await in_flight
        assert response.status == 200
        assert [r["status"] for r in (await response.json())["details"]] == ["CREATED"]
    assert not any(t.get_name() == "gdpr-sweep" for t in asyncio.all_tasks())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(tmp_path: Any, backend: str) -> dict[str, str]:
    """This test's own store: a SQLite file, or a database of its own on the real server (dropped by `served`);
    none of the caller's ORDER_RECORDS_ settings, which would point the service at their database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDER_RECORDS_")}
    env["ORDER_RECORDS_JWT_SECRET"] = "x" * 40
    if backend == "mongodb":
        return {**env, "ORDER_RECORDS_MONGODB_URI": MONGODB_URI, "ORDER_RECORDS_MONGODB_DATABASE": database_name()}
    return {**env, "ORDER_RECORDS_SQLITE_PATH": str(tmp_path / "db.sqlite3")}


@contextlib.contextmanager
def served(tmp_path: Any, *args: str, backend: str = "sqlite") -> Iterator[tuple[subprocess.Popen[bytes], list[str]]]:
    """`python -m app` on a free port, ready to serve; yields it and its worker processes, kills what is left."""
    port = _free_port()
    env = service_env(tmp_path, backend)
    proc = subprocess.Popen([sys.executable, "-m", "app", "--port", str(port), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    workers: list[str] = []
    try:
        deadline = time.monotonic() + 30
        _wait_for_banner(proc, deadline)  # printed once every worker serves; /ready answers once one does
        while not _ready(port):
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.1)
        workers = _children(proc.pid)
        yield proc, workers
    finally:
        for pid in workers:
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if backend == "mongodb":
            drop_database(env["ORDER_RECORDS_MONGODB_DATABASE"])


def _wait_for_banner(proc: subprocess.Popen[bytes], deadline: float) -> None:
    assert proc.stdout is not None
    while True:
        assert time.monotonic() < deadline and proc.poll() is None, "the service printed no banner"
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready and b"Order Records on" in proc.stdout.readline():
            break
    # whatever it prints later must not fill the pipe and stall it
    threading.Thread(target=proc.stdout.read, daemon=True).start()


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.parametrize("backend", BACKENDS)
def test_sigterm_stops_the_process_cleanly(tmp_path: Any, backend: str) -> None:
    with served(tmp_path, backend=backend) as (proc, _):
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_sigterm_stops_every_worker_of_a_multi_worker_server(tmp_path: Any, backend: str) -> None:
    with served(tmp_path, "--workers", "2", backend=backend) as (proc, workers):
        assert len(workers) == 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert all(not os.path.exists(f"/proc/{pid}") for pid in workers)


def _children(parent: int) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(parent) and fields[0] != "Z":
            found.append(entry)
    return found


def test_a_dead_worker_takes_the_others_down(tmp_path: Any) -> None:
    with served(tmp_path, "--workers", "2") as (proc, workers):
        os.kill(int(workers[0]), signal.SIGKILL)
        assert proc.wait(timeout=20) == 1
        assert not os.path.exists(f"/proc/{workers[1]}")


def test_sigterm_while_workers_are_still_starting(tmp_path: Any) -> None:
    """The workers inherit the launcher's SIGTERM handler; one still starting must simply stop, not crash."""
    port, log = _free_port(), tmp_path / "server.log"
    env = service_env(tmp_path, "sqlite")
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "app", "--port", str(port), "--workers", "2"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while len(_children(proc.pid)) < 2:
            assert time.monotonic() < deadline, "no workers"
            time.sleep(0.001)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
