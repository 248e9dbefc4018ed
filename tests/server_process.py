"""`python -m app` in a process of its own, for tests that measure it from outside (latency, /proc readings)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SECRET = "s" * 40


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def peak_rss_kib(self) -> int:
        """The process's peak resident set size so far (VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise AssertionError("no VmHWM in /proc")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _descendants(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        with contextlib.suppress(OSError, IndexError):
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if fields[1] == str(pid):
                children.append(int(entry))
    return children + [d for c in children for d in _descendants(c)]


@contextlib.contextmanager
def serving(database: Path, **env: str) -> Iterator[Server]:
    """One worker on a free port over the SQLite file `database`; stopped with SIGTERM, leftovers killed."""
    port = _free_port()
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ORDER_RECORDS_")}  # e.g. CI's MongoDB URI
    environment = {**inherited, "ORDER_RECORDS_SQLITE_PATH": str(database), "ORDER_RECORDS_JWT_SECRET": SECRET,
                   **env}
    process = subprocess.Popen([sys.executable, "-m", "app", "--port", str(port)], env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not _ready(port):
            assert process.poll() is None and time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.1)
        yield Server(process, port)
    finally:
        family = _descendants(process.pid)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for pid in family:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
