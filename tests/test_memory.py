"""The server's heap tuning: big response-sized buffers stop costing fresh pages; non-glibc systems are left alone."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from app import memory

# What serving a page of 500 records does to the heap, 200 times: join the records into a 1.3 MB body, then copy
# it once more behind the response headers (aiohttp coalesces them into one write), free both. Prints the minor
# page faults per round.
FAULTS = """
import resource, sys
from app.memory import keep_freed_memory
tuned = sys.argv[1] == "tuned" and keep_freed_memory()
records = [b"x" * 2600] * 500

def serve_page():
    body = b"".join(records)
    wire = b"".join((b"HTTP/1.1 200 OK\\r\\n\\r\\n", body))
    del body, wire

serve_page()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    serve_page()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) // 200)
"""

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the tuning applies to glibc only")


def faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, check=True)
    return int(done.stdout)


@glibc
def test_tuned_heap_reuses_freed_buffers() -> None:
    # With glibc's defaults (2.36 here) every round faults in about 610 fresh pages: the freed heap was given back.
    # That is glibc's to change, so only the tuned figure is held to account.
    assert faults("tuned") < 5


def test_other_c_libraries_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "libc_ver", lambda: ("", ""))
    assert memory.keep_freed_memory() is False


def test_serve_worker_tunes_the_heap(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.__main__ as cli

    calls: list[str] = []
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: calls.append("tuned") or True)
    async def serve_app(*args: object) -> None:
        calls.append("run")

    monkeypatch.setattr(cli, "serve_app", serve_app)
    # process-wide set-up a real server process does; left in place it would change later tests' logging
    monkeypatch.setattr(cli, "install_log_redaction", lambda secrets: None)
    monkeypatch.setattr(cli, "hide_server_software", lambda: None)
    monkeypatch.setattr(cli.logging, "basicConfig", lambda **kwargs: None)
    monkeypatch.setattr(cli, "create_app", lambda settings, sweep: object())
    monkeypatch.setattr(cli.gc, "freeze", lambda: calls.append("frozen"))
    monkeypatch.setattr(cli.sys, "setswitchinterval", lambda interval: calls.append(f"switch {interval}"))
    cli.serve_worker(cli.load_settings({}), [], 0, cli.StopSwitch(), lambda: None)
    assert calls == ["frozen", f"switch {cli.GIL_SWITCH_INTERVAL}", "tuned", "run"]
