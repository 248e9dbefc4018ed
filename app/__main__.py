"""Command line: serve the API (default), print a token, or run one GDPR sweep."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import multiprocessing
import multiprocessing.connection
import secrets
import signal
import sys
from typing import Any

from aiohttp import web

from app.auth import PERMISSIONS, issue_token
from app.config.cache import attach
from app.domain.instants import utc_now
from app.factory import create_app, make_store
from app.logsafety import install_log_redaction
from app.memory import keep_freed_memory
from app.settings import Settings, SettingsError, load_settings
from app.store.base import StoreIncompatible, StoreUnavailable
from app.sweep import sweep_once

log = logging.getLogger("app")
# The SQLite writer thread needs the GIL back after every call into SQLite, and the event loop thread, busy
# validating, gives it up only when asked and the switch interval (5 ms by default) has passed. Each write then
# waits up to that long; at 0.5 ms the writer keeps pace (ingest measured 4,677 -> 6,064 records/s, 1 worker).
GIL_SWITCH_INTERVAL = 0.0005


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app", description="Order Records service.")
    parser.add_argument("--host", help="listen address (server.host)")
    parser.add_argument("--port", type=int, help="listen port (server.port)")
    parser.add_argument("--workers", type=int, help="worker processes sharing the port (server.workers)")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the API (the default)")
    token = commands.add_parser("token", help="print a bearer token signed with the configured jwt.secret")
    token.add_argument("--permissions", default=",".join(PERMISSIONS),
                       help="comma-separated permissions (default: %(default)s)")
    token.add_argument("--ttl", type=int, default=3600, help="seconds until the token expires (default 3600)")
    token.add_argument("--subject", default="cli", help="the token's sub claim")
    commands.add_parser("gdpr-sweep", help="anonymize and delete what is due once, print the counts, exit")
    return parser.parse_args(argv)


def cli_overrides(args: argparse.Namespace) -> dict[str, Any]:
    given = {"server.host": args.host, "server.port": args.port, "server.workers": args.workers}
    return {k: v for k, v in given.items() if v is not None}


def with_dev_secret(settings: Settings) -> tuple[Settings, str | None]:
    """The embedded store with no key configured gets an ephemeral secret and a ready dev token."""
    if settings.jwt.configured or settings.uses_mongodb:
        return settings, None
    secret = secrets.token_urlsafe(32)
    token = issue_token(secret, PERMISSIONS, 12 * 3600, issuer=settings.jwt.issuer, audience=settings.jwt.audience)
    return settings.replace({"jwt.secret": secret}), token


def tune_server_process() -> None:
    """Once the app is built, before serving: the same in every server process (and the bench's bare server)."""
    # Everything loaded so far (schemas, currency and country tables, the app) lives as long as the process:
    # keep it out of the collector's full passes, which otherwise rescan it every few hundred records.
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    keep_freed_memory()


def serve_worker(settings: Settings, index: int) -> None:
    # A forked worker inherits the launcher's SIGTERM handler, blocked (serve): until aiohttp installs its own,
    # SIGTERM simply ends a worker that has nothing in flight yet.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    logging.basicConfig(level=settings.server.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_redaction([settings.jwt.secret])
    app = create_app(settings, sweep=index == 0)  # one sweeper is enough; more would only repeat the work
    tune_server_process()
    web.run_app(app, host=settings.server.host, port=settings.server.port,
                reuse_port=settings.server.workers > 1, print=None, access_log=None)


def serve(settings: Settings) -> int:
    settings, dev_token = with_dev_secret(settings)
    if not settings.jwt.configured:
        raise SettingsError("a MongoDB deployment needs a token key: set ORDER_RECORDS_JWT_SECRET, "
                            "ORDER_RECORDS_JWT_PUBLIC_KEY or ORDER_RECORDS_JWT_JWKS_URL")
    store = "MongoDB" if settings.uses_mongodb else f"SQLite at {settings.sqlite.path}"
    print(f"Order Records on http://{settings.server.host}:{settings.server.port} "
          f"({store}, {settings.server.workers} worker(s))", flush=True)
    if dev_token:
        print("No token key configured: using an ephemeral secret for this run. Dev token (12 h, read+write):\n"
              f"  export TOKEN={dev_token}", flush=True)
    if settings.server.workers == 1:
        serve_worker(settings, 0)
        return 0
    # Create the database and its indexes once, before the workers race to do it at the same moment.
    asyncio.run(prepare_store(settings))
    workers = [multiprocessing.Process(target=serve_worker, args=(settings, i), name=f"worker-{i}")
               for i in range(settings.server.workers)]
    stopping = crashed = False

    def stop(*_: Any) -> None:  # each worker finishes its in-flight requests and exits
        nonlocal stopping
        stopping = True
        for w in workers:
            if w.is_alive():
                w.terminate()

    signal.signal(signal.SIGTERM, stop)
    # Each worker is forked with SIGTERM blocked, so it never runs the launcher's handler: it unblocks the signal
    # once it has dropped that handler (serve_worker). The launcher can still run `stop` halfway through the
    # starts (the signal may land on a leftover thread), missing workers not yet started: so it looks again after.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        for w in workers:
            w.start()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    if stopping:
        stop()
    try:
        # A worker that dies on its own takes the others down: half a service (or one without its GDPR sweeper,
        # worker 0) must not keep running unnoticed; the supervisor (systemd, Docker) restarts the whole.
        multiprocessing.connection.wait([w.sentinel for w in workers])
        if not stopping:
            log.error("a worker exited unexpectedly; stopping the others")
            crashed = True
            stop()
    except KeyboardInterrupt:  # Ctrl-C reached the workers too (one process group); let them finish
        stopping = True
    for w in workers:
        w.join()
    return 1 if crashed or any(w.exitcode not in (0, -signal.SIGTERM) for w in workers) else 0


async def prepare_store(settings: Settings) -> None:
    store = make_store(settings)
    await store.open()
    await store.close()


async def run_sweep(settings: Settings) -> int:
    store = make_store(settings)
    attach(store, settings)  # anonymize as the stored GDPR configuration says
    await store.open()
    try:
        result = await sweep_once(store, utc_now, settings.gdpr)
    finally:
        await store.close()
    print(f"anonymized {result.anonymized}, deleted {result.deleted}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = load_settings(overrides=cli_overrides(args))
        if args.command == "token":
            if not settings.jwt.secret:
                raise SettingsError("`token` signs with jwt.secret: set ORDER_RECORDS_JWT_SECRET")
            print(issue_token(settings.jwt.secret, [p.strip() for p in args.permissions.split(",") if p.strip()],
                              args.ttl, subject=args.subject, issuer=settings.jwt.issuer,
                              audience=settings.jwt.audience))
            return 0
        if args.command == "gdpr-sweep":
            return asyncio.run(run_sweep(settings))
        return serve(settings)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except StoreUnavailable as exc:
        print(f"error: the database is not reachable: {exc}", file=sys.stderr)
        return 2
    except StoreIncompatible as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
