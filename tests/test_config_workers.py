"""Every worker sees a configuration change within 5 seconds: a real `python -m app --workers 2` on one SQLite file.

The port is ORDER_RECORDS_TEST_PORT when set, else a free one.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from app.api.auth import PERMISSIONS
from tests.conftest import SECRET, bearer
from tests.factories import minimal_record

PROPAGATION_BOUND = 5.0  # seconds: the promise this test holds the service to
ROUND = 20  # fresh connections per round: SO_REUSEPORT spreads them over both workers


def _port() -> int:
    if os.environ.get("ORDER_RECORDS_TEST_PORT"):
        return int(os.environ["ORDER_RECORDS_TEST_PORT"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    """One request on its own connection, so each may reach either worker."""
    data = None if body is None else json.dumps(body).encode()
    headers = {**bearer(*PERMISSIONS), "Content-Type": "application/json", "Connection": "close"}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@contextlib.contextmanager
def two_workers(tmp_path: Any) -> Iterator[str]:
    port = _port()
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ORDER_RECORDS_")}  # e.g. CI's MongoDB URI
    env = {**inherited, "ORDER_RECORDS_SQLITE_PATH": str(tmp_path / "db.sqlite3"), "ORDER_RECORDS_JWT_SECRET": SECRET}
    proc = subprocess.Popen([sys.executable, "-m", "app", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                if request(f"{base}/ready")[0] == 200:
                    break
            assert proc.poll() is None and time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def refused(base: str) -> set[bool]:
    """For a round of bulk creates: whether each was refused as disabled (403), whatever else it answered."""
    return {request(f"{base}/api/orderrecords", "PUT", {"orderRecords": [minimal_record()]})[0] == 403
            for _ in range(ROUND)}


def seconds_until_every_worker(base: str, refuses: bool) -> float:
    start = time.monotonic()
    while time.monotonic() - start < 3 * PROPAGATION_BOUND:
        if refused(base) == {refuses}:
            return time.monotonic() - start
    raise AssertionError(f"the workers still disagree after {3 * PROPAGATION_BOUND} s")


def test_every_worker_sees_a_change_within_5_seconds(tmp_path: Any) -> None:
    with two_workers(tmp_path) as base:
        assert refused(base) == {False}  # both workers have read the switch (enabled) by now
        status, stored = request(f"{base}/api/configurations/orderrecords", "PUT",
                                 {"version": 0, "isOrderRecordsEnabled": False})
        assert status == 201, stored
        assert seconds_until_every_worker(base, refuses=True) <= PROPAGATION_BOUND
        # a GET reads the database: every worker answers the new version at once
        assert {request(f"{base}/api/configurations/orderrecords")[1]["version"] for _ in range(ROUND)} == {1}
        status, _ = request(f"{base}/api/configurations/orderrecords", "PUT",
                            {"version": 1, "isOrderRecordsEnabled": True})
        assert status == 200
        assert seconds_until_every_worker(base, refuses=False) <= PROPAGATION_BOUND
