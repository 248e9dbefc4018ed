"""Listening and stopping: one instance per address, sockets bound before start-up, a stop that signals can't break."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from aiohttp import web, web_response

from app.settings import ServerSettings, SettingsError, env_name

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
Address = tuple[Any, ...]
BACKLOG = 128  # what aiohttp's run_app uses


class StopSwitch:
    """Thrown by the first SIGTERM or SIGINT; a second one (GNU timeout, a double Ctrl-C) changes nothing."""

    def __init__(self) -> None:
        self.requested = False
        self._actions: list[Callable[[], None]] = []
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def install(self) -> None:
        # Plain signal handlers rather than loop.add_signal_handler: the loop puts back the default action when it
        # closes, and a signal arriving between that and the process's exit would then kill it mid-way.
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)

    def on_stop(self, action: Callable[[], None]) -> None:
        self._actions.append(action)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            return
        self.requested = True
        for action in self._actions:
            action()
        for loop, event in self._waiters:
            with contextlib.suppress(RuntimeError):  # that loop is closed already
                loop.call_soon_threadsafe(event.set)

    async def wait(self) -> None:
        event = asyncio.Event()
        self._waiters.append((asyncio.get_running_loop(), event))
        if not self.requested:
            await event.wait()


@dataclass
class Listeners:
    """Bound, listening sockets: one list per worker (one socket per address of server.host)."""

    sockets: list[list[socket.socket]]
    port: int
    lock: socket.socket | None = None

    def close_sockets(self, keep: int | None = None) -> None:
        """Close this process's copies of the sockets, but for worker `keep`'s: each worker serves its own, and a
        copy left open elsewhere would keep receiving connections after its worker is gone."""
        for index, group in enumerate(self.sockets):
            if index != keep:
                for sock in group:
                    sock.close()

    def close(self) -> None:
        self.close_sockets()
        if self.lock is not None:
            self.lock.close()


def listen(server: ServerSettings) -> Listeners:
    """Bind server.host:server.port for every worker, or fail with a SettingsError naming the setting.

    One worker binds plainly, so nothing else can share the port. Several workers share it through SO_REUSEPORT,
    which would also let a second instance join and silently take half the connections: so a plain bind is
    tried first (refused if anything listens there), under a lock held for the life of this instance so that
    two instances starting at once cannot both pass that check."""
    addresses = _resolve(server.host, server.port)
    shared = server.workers > 1
    lock = _instance_lock(addresses, server) if shared and server.port else None
    sockets: list[list[socket.socket]] = []
    try:
        if shared and server.port:
            for family, address in addresses:
                _bind(family, address, server, reuse_port=False, probe=True).close()
        for worker in range(server.workers):
            sockets.append([])
            for i, (family, address) in enumerate(addresses):
                if worker:  # the same port as the first worker's socket (it may have been 0: any free port)
                    address = (address[0], sockets[0][i].getsockname()[1], *address[2:])
                sockets[worker].append(_bind(family, address, server, reuse_port=shared))
    except BaseException:
        for sock in (s for group in sockets for s in group):
            sock.close()
        if lock is not None:
            lock.close()
        raise
    return Listeners(sockets, sockets[0][0].getsockname()[1], lock)



def _resolve(host: str, port: int) -> list[tuple[int, Address]]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise SettingsError(f"setting server.host ({env_name('server.host')}, --host): cannot resolve "
                            f"{host!r}: {exc.strerror}") from None
    found: dict[Address, int] = {}
    for family, _, _, _, address in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            found.setdefault(address, family)
    if not found:
        raise SettingsError(f"setting server.host ({env_name('server.host')}, --host): {host!r} has no IPv4 or "
                            "IPv6 address")
    return [(family, address) for address, family in found.items()]


def _bind(family: int, address: Address, server: ServerSettings, reuse_port: bool,
          probe: bool = False) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio does: TIME_WAIT does not block
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        if not probe:  # a bound socket is enough to test the address; listening would accept a client in passing
            sock.listen(BACKLOG)
            sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise _bind_error(exc, server) from None
    return sock


def _bind_error(exc: OSError, server: ServerSettings) -> SettingsError:
    where = f"{server.host}:{server.port}"
    port = f"setting server.port ({env_name('server.port')}, --port)"
    if exc.errno == errno.EADDRINUSE:
        return SettingsError(f"{port}: {where} is already in use: another instance of the service, or another "
                             "program, listens there; stop it or choose another port")
    if exc.errno == errno.EACCES:
        return SettingsError(f"{port}: not allowed to listen on {where} (ports below 1024 need privileges)")
    host = f"setting server.host ({env_name('server.host')}, --host)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return SettingsError(f"{host}: {server.host} is not an address of this machine")
    return SettingsError(f"{host} / {port}: cannot listen on {where}: {exc.strerror or exc}")


def _instance_lock(addresses: list[tuple[int, Address]], server: ServerSettings) -> socket.socket | None:
    """An abstract Unix socket named after the address: held until this process and its workers are gone, shared
    by nothing else, and never left behind as a stale file. Linux only; elsewhere the plain bind check remains."""
    if not sys.platform.startswith("linux"):
        return None
    lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    name = "order-records " + " ".join(f"{a[0]}:{a[1]}" for _, a in sorted(addresses, key=str))
    try:
        lock.bind("\0" + name)
    except OSError as exc:
        lock.close()
        if exc.errno == errno.EADDRINUSE:
            raise _bind_error(exc, server) from None
        return None
    return lock


def hide_server_software() -> None:
    """The app drops aiohttp's `Server: Python/3.x aiohttp/3.x` (app.factory); the 400s aiohttp's parser sends
    for requests it refuses never reach the app, so there the value it defaults to becomes a bare name."""
    web_response.SERVER_SOFTWARE = "order-records"


async def serve_app(app: web.Application, sockets: list[socket.socket], stop: StopSwitch,
                    on_ready: Callable[[], None]) -> None:
    """Serve `app` on already bound sockets until `stop` is thrown; `on_ready` once it really serves."""
    if stop.requested:
        return
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()  # the app's start-up: the store opens here
    try:
        for sock in sockets:
            await web.SockSite(runner, sock, backlog=BACKLOG).start()
        if not stop.requested:
            on_ready()
        await stop.wait()
    finally:
        await runner.cleanup()  # in-flight requests finish; the sweep stops; the store closes
