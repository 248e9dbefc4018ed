"""`--workers N`: N server processes on sockets the launcher bound, started, watched and stopped together."""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import signal
import socket
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Protocol

from app.serving import STOP_SIGNALS, Listeners, StopSwitch
from app.settings import Settings, SettingsError

log = logging.getLogger("app")
EXIT_STARTUP_FAILED = 2


class Worker(Protocol):
    def __call__(self, settings: Settings, sockets: list[socket.socket], index: int, stop: StopSwitch,
                 on_ready: Callable[[], None]) -> None: ...


def supervise(settings: Settings, listeners: Listeners, stop: StopSwitch, on_ready: Callable[[], None],
              worker: Worker) -> int:
    """Run the workers until a stop signal (0), a worker failing to start (2) or dying later (1)."""
    count = settings.server.workers
    pipes = [multiprocessing.Pipe(duplex=False) for _ in range(count)]
    processes = [multiprocessing.Process(target=_worker_main, name=f"worker-{i}",
                                         args=(worker, settings, listeners, i, pipes[i][1]))
                 for i in range(count)]

    def stop_workers() -> None:  # each worker finishes its in-flight requests and exits
        for process in processes:
            if process.is_alive():
                process.terminate()

    stop.on_stop(stop_workers)
    # Each worker is forked with the stop signals blocked, so it never runs the launcher's handler: it unblocks
    # them once it has its own (_worker_main). A signal landing halfway through the starts stops the workers
    # started so far; the check after the loop stops the rest.
    signal.pthread_sigmask(signal.SIG_BLOCK, set(STOP_SIGNALS))
    try:
        for process in processes:
            process.start()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(STOP_SIGNALS))
    listeners.close_sockets()  # the workers have theirs; the launcher keeps only the instance lock
    for _, sender in pipes:
        sender.close()
    if stop.requested:
        stop_workers()
    code = 0
    if _wait_until_ready(processes, [receiver for receiver, _ in pipes], stop):
        on_ready()
        # A worker that dies on its own takes the others down: half a service (or one without its GDPR sweeper,
        # worker 0) must not keep running unnoticed; the supervisor (systemd, Docker) restarts the whole.
        multiprocessing.connection.wait([p.sentinel for p in processes])
        if not stop.requested:
            log.error("a worker exited unexpectedly; stopping the others")
            code = 1
    elif not stop.requested:
        code = EXIT_STARTUP_FAILED  # the worker said why, in one line
    stop_workers()
    for process in processes:
        process.join()
    if code == 0 and any(p.exitcode not in (0, -signal.SIGTERM) for p in processes):
        code = 1
    return code


def _wait_until_ready(processes: list[multiprocessing.Process], receivers: list[Connection],
                      stop: StopSwitch) -> bool:
    """True once every worker serves; False on a stop signal or a worker that ended first."""
    waiting = dict(zip(receivers, processes, strict=True))
    while waiting and not stop.requested:
        events = multiprocessing.connection.wait([*waiting, *(p.sentinel for p in waiting.values())])
        for receiver in [r for r in waiting if r in events]:
            try:
                receiver.recv()
            except EOFError:  # it ended before it could say so
                return False
            del waiting[receiver]
        if any(p.sentinel in events for p in waiting.values()):
            return False
    return not waiting


def _worker_main(worker: Worker, settings: Settings, listeners: Listeners, index: int, ready: Connection) -> None:
    stop = StopSwitch()
    stop.install()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, set(STOP_SIGNALS))
    listeners.close_sockets(keep=index)
    try:
        worker(settings, listeners.sockets[index], index, stop, lambda: ready.send(True))
    except SettingsError as exc:
        print(f"error: worker {index}: {exc}", file=sys.stderr, flush=True)
        sys.exit(EXIT_STARTUP_FAILED)
