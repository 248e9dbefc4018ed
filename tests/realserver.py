"""The real MongoDB-protocol server of the tests: its URI, a database of their own for each test, and SecantusDB.

With ORDER_RECORDS_MONGODB_URI set (`.ci/run` sets it to a SecantusDB it starts), every store-facing test runs
once more against that server. ORDER_RECORDS_TEST_SECANTUS names the Python of a venv holding SecantusDB, for the
tests that start, kill and restart a server of their own.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

MONGODB_URI = os.environ.get("ORDER_RECORDS_MONGODB_URI", "")
SECANTUS_PYTHON = os.environ.get("ORDER_RECORDS_TEST_SECANTUS", "")
# How often the server's TTL monitor runs: mongod's default is 60 s; .ci/run starts SecantusDB with 1 s.
TTL_MONITOR_SECONDS = float(os.environ.get("ORDER_RECORDS_TEST_TTL_MONITOR_SECONDS", "60"))
LAUNCHER = Path(__file__).with_name("secantus_server.py")
DATABASE_PREFIX = "ortest_"
SESSION = uuid.uuid4().hex[:8]  # this test run's databases: ortest_<SESSION>_<random>

needs_server = pytest.mark.skipif(not MONGODB_URI, reason="ORDER_RECORDS_MONGODB_URI is not set")
needs_secantus = pytest.mark.skipif(not SECANTUS_PYTHON, reason="ORDER_RECORDS_TEST_SECANTUS is not set")


def database_name() -> str:
    """A database of the calling test's own, to drop when it is done."""
    return f"{DATABASE_PREFIX}{SESSION}_{uuid.uuid4().hex[:12]}"


def sync_client(uri: str = MONGODB_URI) -> Any:
    from pymongo import MongoClient

    return MongoClient(uri, serverSelectionTimeoutMS=5000)


def drop_database(name: str, uri: str = MONGODB_URI) -> None:
    with sync_client(uri) as client:
        client.drop_database(name)


def database_names() -> set[str]:
    with sync_client() as client:
        return set(client.list_database_names())


def left_behind(before: set[str]) -> list[str]:
    """Databases created since `before` and still there, other test runs' own databases aside."""
    return sorted(name for name in database_names() - before
                  if not name.startswith(DATABASE_PREFIX) or name.startswith(f"{DATABASE_PREFIX}{SESSION}_"))


class Secantus:
    """A SecantusDB server of a test's own, run by tests/secantus_server.py, that can be killed and restarted on
    the same port and data."""

    def __init__(self, data: Path, port: int = 0) -> None:
        self.data, self.port = data, port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    async def start(self, timeout: float = 60) -> None:
        uri_file = self.data / "uri"
        uri_file.unlink(missing_ok=True)
        with (self.data / "server.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [SECANTUS_PYTHON, str(LAUNCHER), "--storage-path", str(self.data / "db"), "--port", str(self.port),
                 "--uri-file", str(uri_file)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not uri_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"SecantusDB did not start: {(self.data / 'server.log').read_text()[-2000:]}")
            await asyncio.sleep(0.05)
        self.port = int(uri_file.read_text().strip().rstrip("/").rsplit(":", 1)[1])

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
