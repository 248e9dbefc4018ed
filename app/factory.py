"""The app factory used by `python -m app`, the tests and the tools alike."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from app.api.auth import AUTHENTICATOR, Authenticator
from app.api.errors import add_request_id, error_middleware
from app.api.offload import OFFLOAD, Offload, large_body_middleware, offload_ctx
from app.api.records import add_routes
from app.config.cache import CONFIGURATIONS, attach
from app.domain.instants import utc_now
from app.keys import BUILDER, CLOCK, SETTINGS, STORE, Clock
from app.openapi.document import setup_openapi
from app.records import RecordBuilder
from app.settings import Settings, SettingsError
from app.store.base import Store
from app.sweep import sweep_ctx


def make_store(settings: Settings) -> Store:
    if settings.uses_mongodb:
        from app.store.mongo import MongoStore

        return MongoStore.from_settings(settings.mongodb)
    from app.store.sqlite import SqliteStore

    return SqliteStore(settings.sqlite.path, read_ahead_pages=settings.sqlite.read_ahead_pages)


async def store_ctx(app: web.Application) -> AsyncIterator[None]:
    store = app[STORE]
    await store.open()
    yield
    await store.close()


async def drop_server_header(request: web.Request, response: web.StreamResponse) -> None:
    """aiohttp names itself and the Python version in `Server:`: of no use to a client, of some to an attacker."""
    response.headers.popall("Server", None)


def create_app(settings: Settings, *, store: Store | None = None, clock: Clock = utc_now,
               sweep: bool = True) -> web.Application:
    """An application over `store` (default: the one the settings name); `sweep=False` for tools and tests."""
    if not settings.jwt.configured:
        raise SettingsError("no token key configured: set ORDER_RECORDS_JWT_SECRET, ORDER_RECORDS_JWT_PUBLIC_KEY "
                            "or ORDER_RECORDS_JWT_JWKS_URL")
    app = web.Application(middlewares=[error_middleware, large_body_middleware],
                          client_max_size=settings.server.max_body_bytes)
    app.on_response_prepare.append(drop_server_header)
    app.on_response_prepare.append(add_request_id)
    app[SETTINGS] = settings
    app[STORE] = store if store is not None else make_store(settings)
    app[CLOCK] = clock
    app[CONFIGURATIONS] = attach(app[STORE], settings)
    app[BUILDER] = RecordBuilder(settings.gdpr, limits=settings.limits)
    app[AUTHENTICATOR] = Authenticator(settings.jwt)
    app[OFFLOAD] = Offload(settings)
    app.cleanup_ctx.append(store_ctx)
    app.cleanup_ctx.append(offload_ctx)
    if sweep:
        app.cleanup_ctx.append(sweep_ctx)
    add_routes(app)
    setup_openapi(app)
    return app
