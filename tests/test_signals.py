"""Two stop signals in a row (GNU timeout, a double Ctrl-C): the shutdown goes on, in-flight work finishes, exit 0."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import orjson
import pytest

from app.api.auth import PERMISSIONS, issue_token
from tests.factories import minimal_record
from tests.processes import Server

SECRET = "signals-test-secret-that-is-long-enough"
# Every insert waits, once it has begun, until the test creates the file `go`: a request stays in flight for as
# long as the test needs, without guessing at durations.
HELD_INSERTS = """
import asyncio, pathlib
from app.store.sqlite import SqliteStore
insert = SqliteStore.insert_batch
async def held(self, *args):
    pathlib.Path("inserting").touch()
    while not pathlib.Path("go").exists():
        await asyncio.sleep(0.02)
    return await insert(self, *args)
SqliteStore.insert_batch = held
"""


def listening(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


@pytest.mark.parametrize(("workers", "signum", "group"), [
    ("1", signal.SIGTERM, False),  # timeout(1) and a supervisor, `kill` twice
    ("1", signal.SIGINT, True),  # Ctrl-C twice in a terminal
    ("2", signal.SIGTERM, False),
    ("2", signal.SIGINT, True),  # the launcher and every worker get both
])
def test_a_second_signal_during_the_shutdown_changes_nothing(tmp_path: Path, workers: str, signum: int,
                                                             group: bool) -> None:
    server = Server(tmp_path, "--port", "0", "--workers", workers, prelude=HELD_INSERTS,
                    ORDER_RECORDS_JWT_SECRET=SECRET, ORDER_RECORDS_SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    try:
        host, port = server.wait_ready().removeprefix("http://").rsplit(":", 1)
        body = orjson.dumps({"operations": [minimal_record()]})
        request = (f"PUT /api/orderrecords HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                   f"Authorization: Bearer {issue_token(SECRET, PERMISSIONS)}\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode()
        with socket.create_connection((host, int(port)), timeout=30) as client:
            client.sendall(request + body)
            wait_for(tmp_path / "inserting")  # in flight: the shutdown waits for it
            server.signal(signum, group)
            while listening(host, int(port)):  # the shutdown has begun: the port is closed
                time.sleep(0.02)
            server.signal(signum, group)
            server.signal(signal.SIGTERM)
            (tmp_path / "go").touch()
            answer = client.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
        assert b'"CREATED"' in answer
        assert server.wait() == 0, server.output()
        assert "Traceback" not in server.output()
    finally:
        server.stop()
