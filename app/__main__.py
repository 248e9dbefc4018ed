"""Command line: serve the API (default), print a token, or run one GDPR sweep."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import secrets
import socket
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.api import auth
from app.api.auth import issue_token
from app.config.cache import attach
from app.devsecret import dev_secret_path, load_or_create
from app.domain.instants import utc_now
from app.factory import create_app, make_store
from app.logsafety import install_log_redaction
from app.memory import keep_freed_memory
from app.serving import StopSwitch, hide_server_software, serve_app
from app.serving import listen as bind_listeners
from app.settings import Settings, SettingsError, env_name, load_settings
from app.store.base import StoreIncompatible, StoreUnavailable
from app.sweep import sweep_once
from app.workers import supervise

# The SQLite writer thread needs the GIL back after every call into SQLite, and the event loop thread, busy
# validating, gives it up only when asked and the switch interval (5 ms by default) has passed. Each write then
# waits up to that long. Measured over HTTP ingest (1 worker, 8 clients, interleaved runs): 0.1 ms beats 0.5 ms
# in every pair (median +13 %; the writer waits 2.6-3.1 ms per transaction instead of 5-6) and 0.05 ms (-14 %:
# the event loop, switched away from more often, validates more slowly).
GIL_SWITCH_INTERVAL = 0.0001


def add_listen_flags(parser: argparse.ArgumentParser, default: Any = None) -> None:
    parser.add_argument("--host", default=default, help="listen address (server.host)")
    parser.add_argument("--port", type=int, default=default, help="listen port (server.port)")
    parser.add_argument("--workers", type=int, default=default,
                        help="worker processes sharing the port (server.workers)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app", description="Order Records service.")
    add_listen_flags(parser)
    commands = parser.add_subparsers(dest="command")
    # also after `serve` (`python -m app serve --port 8081`); SUPPRESS keeps what was given before it
    add_listen_flags(commands.add_parser("serve", help="serve the API (the default)"), argparse.SUPPRESS)
    token = commands.add_parser("token", help="print a bearer token signed with jwt.secret (or the development "
                                              "secret beside the embedded database)")
    token.add_argument("--permissions", help=f"comma-separated, of {','.join(auth.PERMISSIONS)} (default: all)")
    token.add_argument("--ttl", type=int, default=3600, help="seconds until the token expires (default 3600)")
    token.add_argument("--subject", default="cli", help="the token's sub claim")
    commands.add_parser("gdpr-sweep", help="anonymize and delete what is due once, print the counts, exit")
    return parser.parse_args(argv)


def cli_overrides(args: argparse.Namespace) -> dict[str, Any]:
    given = {"server.host": args.host, "server.port": args.port, "server.workers": args.workers}
    return {k: v for k, v in given.items() if v is not None}


def with_dev_secret(settings: Settings) -> tuple[Settings, str | None]:
    """The embedded store with no key configured gets the development secret (kept beside the database, or for
    this run only with an in-memory one) and a ready dev token."""
    if settings.jwt.configured or settings.uses_mongodb:
        return settings, None
    path = dev_secret_path(settings)
    secret = secrets.token_urlsafe(32) if path is None else load_or_create(path)
    token = issue_token(secret, auth.PERMISSIONS, 12 * 3600, issuer=settings.jwt.issuer, audience=settings.jwt.audience)
    return settings.replace({"jwt.secret": secret}), token


def banner(settings: Settings, port: int, dev_token: str | None, path: Path | None, new_database: bool) -> str:
    """What `serve` prints once it serves: where, and with no key configured, a token and the secret it uses."""
    store = "MongoDB" if settings.uses_mongodb else "SQLite in memory" if settings.sqlite.path == ":memory:" else (
        f"SQLite at {os.path.abspath(settings.sqlite.path)}{', new and empty' if new_database else ''}")
    lines = [f"Order Records on http://{settings.server.host}:{port} ({store}, {settings.server.workers} "
             "worker(s)); API docs at /api/docs"]
    if dev_token:
        kept = (f"the development secret in {path.absolute()}, kept across restarts (`python -m app token` signs "
                "with it too)" if path else "a secret for this run only (the database is in memory)")
        lines += [f"No token key configured: tokens are signed with {kept}. Dev token (12 h, read+write):",
                  f"  export TOKEN={dev_token}"]
    return "\n".join(lines)


def tune_server_process() -> None:
    """Once the app is built, before serving: the same in every server process (and the bench's bare server)."""
    # Everything loaded so far (schemas, currency and country tables, the app) lives as long as the process:
    # keep it out of the collector's full passes, which otherwise rescan it every few hundred records.
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    keep_freed_memory()


def serve_worker(settings: Settings, sockets: list[socket.socket], index: int, stop: StopSwitch,
                 on_ready: Callable[[], None]) -> None:
    """One server process: build the app, serve it on `sockets` until `stop`; start-up errors propagate."""
    logging.basicConfig(level=settings.server.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_redaction([settings.jwt.secret])
    hide_server_software()
    app = create_app(settings, sweep=index == 0)  # one sweeper is enough; more would only repeat the work
    tune_server_process()
    serving = False

    def ready() -> None:
        nonlocal serving
        serving = True
        on_ready()

    try:
        asyncio.run(serve_app(app, sockets, stop, ready))
    except (OSError, sqlite3.Error, StoreUnavailable) as exc:
        if serving:
            raise
        raise store_error(settings, exc) from None  # opening the store is what the app's start-up does


def serve(settings: Settings) -> int:
    if not settings.jwt.configured and settings.uses_mongodb:
        raise SettingsError("a MongoDB deployment needs a token key: set ORDER_RECORDS_JWT_SECRET, "
                            "ORDER_RECORDS_JWT_PUBLIC_KEY or ORDER_RECORDS_JWT_JWKS_URL")
    stop = StopSwitch()
    stop.install()
    listeners = bind_listeners(settings.server)
    # relative to the working directory: said in full in the banner, with a warning when it is new
    new_database = not settings.uses_mongodb and settings.sqlite.path != ":memory:" and not os.path.exists(
        settings.sqlite.path)
    try:
        # Create the database and its indexes once, before any worker (several would race to do it at once),
        # and so that a database that cannot be opened stops the start with one line, before anything is printed.
        asyncio.run(prepare_store(settings))
        secret_path = dev_secret_path(settings)
        settings, dev_token = with_dev_secret(settings)
        if stop.requested:
            return 0
        text = banner(settings, listeners.port, dev_token, secret_path, new_database)
        if settings.server.workers == 1:
            serve_worker(settings, listeners.sockets[0], 0, stop, lambda: print(text, flush=True))
            return 0
        return supervise(settings, listeners, stop, lambda: print(text, flush=True), serve_worker)
    finally:
        listeners.close()


def store_error(settings: Settings, exc: BaseException) -> SettingsError:
    """A database that cannot be opened at start-up, as one line naming the setting."""
    if settings.uses_mongodb:
        return SettingsError(f"setting mongodb.uri ({env_name('mongodb.uri')}): the database is not reachable: "
                             f"{exc}")
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return SettingsError(f"setting sqlite.path ({env_name('sqlite.path')}): cannot open the database "
                         f"{settings.sqlite.path}: {reason}")


async def prepare_store(settings: Settings) -> None:
    store = make_store(settings)
    try:
        await store.open()
    except (OSError, sqlite3.Error, StoreUnavailable) as exc:
        raise store_error(settings, exc) from None
    await store.close()


def token_secret(settings: Settings) -> str:
    """What `token` signs with: jwt.secret, else the development secret the service itself would use."""
    if settings.jwt.secret:
        return settings.jwt.secret
    if settings.jwt.configured:
        raise SettingsError("`token` signs with jwt.secret (ORDER_RECORDS_JWT_SECRET), but this service verifies "
                            "tokens with a public key or JWKS: tokens come from your identity provider")
    path = dev_secret_path(settings)
    if path is None:
        why = "MongoDB" if settings.uses_mongodb else "an in-memory database"
        raise SettingsError(f"`token` signs with jwt.secret: set ORDER_RECORDS_JWT_SECRET (with {why} there is no "
                            "development secret)")
    secret = load_or_create(path)
    print(f"(signed with the development secret {path.absolute()})", file=sys.stderr)
    return secret


def permissions_from(text: str | None) -> list[str]:
    """The --permissions asked for, each one app.api.auth knows (read at call time: the list grows)."""
    if text is None:
        return list(auth.PERMISSIONS)
    wanted = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in wanted if p not in auth.PERMISSIONS]
    if unknown or not wanted:
        named = f"unknown permission(s) {', '.join(unknown)}" if unknown else "no permission given"
        raise SettingsError(f"--permissions: {named}; the permissions are {', '.join(auth.PERMISSIONS)}")
    return wanted


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
            permissions = permissions_from(args.permissions)
            print(issue_token(token_secret(settings), permissions, args.ttl, subject=args.subject,
                              issuer=settings.jwt.issuer, audience=settings.jwt.audience))
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
