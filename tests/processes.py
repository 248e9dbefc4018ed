"""`python -m app` in a subprocess for tests: started in a temporary directory, its output read as it comes."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

BANNER = "Order Records on http://"
START_TIMEOUT = 30


def clean_env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ORDER_RECORDS_")}
    return base | {"PYTHONUNBUFFERED": "1"} | extra


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def run_app(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m app ...` to its end (for start-ups that must fail)."""
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=cwd, env=clean_env(**env),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=START_TIMEOUT)


class Server:
    """A running `python -m app ...` in its own process group; `lines` collects stdout, `errors` stderr."""

    def __init__(self, cwd: Path, *args: str, prelude: str = "", **env: str) -> None:
        """`prelude`: Python run first in the server process (and inherited by forked workers)."""
        start = ["-c", f"{prelude}\nimport sys\nfrom app.__main__ import main\nsys.exit(main())"] if prelude \
            else ["-m", "app"]
        self.proc = subprocess.Popen([sys.executable, *start, *args], cwd=cwd, env=clean_env(**env),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.errors: list[str] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.errors.append), daemon=True).start()

    @staticmethod
    def _pump(stream: IO[str], put: Any) -> None:
        for line in stream:
            put(line)

    def next_line(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                assert self.proc.poll() is None, f"exited with {self.proc.returncode}: {self.output()}"
                assert time.monotonic() < deadline, f"no output within {START_TIMEOUT} s: {self.output()}"
                continue
            self.seen.append(line)
            return line

    def wait_ready(self) -> str:
        """Read up to the banner, which the service prints once it serves; return the base URL."""
        while not (line := self.next_line()).startswith(BANNER):
            pass
        return "http://" + line[len(BANNER):].split()[0]

    def dev_token(self) -> str:
        while "export TOKEN=" not in (line := self.next_line()):
            pass
        return line.split("export TOKEN=", 1)[1].strip()

    def signal(self, signum: int, group: bool = False) -> None:
        if group:  # as a terminal's Ctrl-C reaches every process of the foreground group
            os.killpg(self.proc.pid, signum)
        else:
            self.proc.send_signal(signum)

    def wait(self, timeout: float = 30) -> int:
        return self.proc.wait(timeout=timeout)

    def output(self) -> str:
        time.sleep(0.1)  # what the reader threads have not handed over yet
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen) + "".join(self.errors)

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
