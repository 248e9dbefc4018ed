"""Runs a SecantusDB server for the real-server tests, with a 1 s TTL monitor; stopped by SIGTERM or SIGINT.

Run it with the Python of SecantusDB's own venv (never the service's: SecantusDB is GPL-2.0 and only a test tool):
    .venv-secantus/bin/python tests/secantus_server.py --storage-path DIR [--port P] [--uri-file F]
It prints the server's URI once the server answers a ping, and writes it to --uri-file (atomically) if given.
Standard library, SecantusDB and the PyMongo it depends on only: nothing of the service is imported here.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from types import FrameType

from pymongo import MongoClient
from secantus.server import SecantusDBServer


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port chosen by the system (the default)")
    parser.add_argument("--storage-path", required=True, help="data directory (kept across restarts)")
    parser.add_argument("--ttl-seconds", type=float, default=1.0, help="TTL monitor interval (mongod: 60)")
    parser.add_argument("--uri-file", help="write the URI here once the server answers")
    parser.add_argument("--ready-timeout", type=float, default=30.0)
    return parser.parse_args(argv)


def wait_until_it_answers(uri: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with MongoClient(uri, serverSelectionTimeoutMS=1000, directConnection=True) as client:
                client.admin.command("ping")
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The CLI (secantusd-py) ignores the TTL interval; only the Python API takes it.
    server = SecantusDBServer(host=args.host, port=args.port, storage_path=args.storage_path,
                              ttl_sweep_seconds=args.ttl_seconds)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start()
    try:
        wait_until_it_answers(server.uri, args.ready_timeout)
        if args.uri_file:
            tmp = f"{args.uri_file}.tmp"
            with open(tmp, "w") as out:
                out.write(server.uri + "\n")
            os.replace(tmp, args.uri_file)
        print(server.uri, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
