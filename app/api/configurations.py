"""GET and PUT /api/configurations/gdpr and /api/configurations/orderrecords: versioned, optimistic locking."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from marshmallow import Schema, ValidationError

from app.api import records as handlers
from app.api.auth import CONFIG_READ, CONFIG_WRITE, requires
from app.api.errors import Problem, validation_problem
from app.config.cache import CONFIGURATIONS
from app.config.model import GDPR, ORDER_RECORDS, date_range_errors
from app.config.schemas import GdprConfiguration, OrderRecordsConfigurationInput
from app.keys import CLOCK
from app.store.base import VersionConflict

GDPR_PATH = "/api/configurations/gdpr"
ORDER_RECORDS_PATH = "/api/configurations/orderrecords"
_schemas: dict[str, Schema] = {GDPR: GdprConfiguration(), ORDER_RECORDS: OrderRecordsConfigurationInput()}


def _errors(exc: ValidationError) -> list[dict[str, str]]:
    messages = exc.messages if isinstance(exc.messages, dict) else {"": exc.messages}
    return [{"field": "" if field == "_schema" else str(field), "message": str(message)}
            for field, found in messages.items() for message in (found if isinstance(found, list) else [found])]


async def _get(request: web.Request, name: str) -> web.Response:
    return handlers.json_response(orjson.dumps(await request.app[CONFIGURATIONS].read(name)))


async def _put(request: web.Request, name: str) -> dict[str, Any]:
    """Validate the body and store it over the version it names; the stored document."""
    payload = await handlers.read_json(request)
    if not isinstance(payload, dict):
        raise validation_problem([{"field": "", "message": "The body must be a JSON object."}])
    try:
        loaded = _schemas[name].load(payload)
    except ValidationError as exc:
        raise validation_problem(_errors(exc)) from None
    configurations, now = request.app[CONFIGURATIONS], request.app[CLOCK]()
    version = loaded.pop("version")
    fields = {**configurations.defaults[name], **loaded}  # PUT replaces: an omitted field takes its default
    if name == GDPR and (errors := date_range_errors(fields, now)):
        raise validation_problem(errors)
    try:
        stored = await configurations.write(name, fields, version, now)
    except VersionConflict as conflict:
        raise Problem(409, "Conflict", f"The {name} configuration is at version {conflict.stored}, not "
                      f"{version}: read it again, apply the change and send the version read.",
                      fields={"version": conflict.stored, "requestVersion": version}) from None
    return stored


@requires(CONFIG_READ)
async def get_gdpr(request: web.Request) -> web.Response:
    return await _get(request, GDPR)


@requires(CONFIG_WRITE)
async def put_gdpr(request: web.Request) -> web.Response:
    return handlers.json_response(orjson.dumps(await _put(request, GDPR)))


@requires(CONFIG_READ)
async def get_order_records(request: web.Request) -> web.Response:
    return await _get(request, ORDER_RECORDS)


@requires(CONFIG_WRITE)
async def put_order_records(request: web.Request) -> web.Response:
    stored = await _put(request, ORDER_RECORDS)
    return handlers.json_response(orjson.dumps(stored), status=201 if stored["version"] == 1 else 200)


def add_routes(app: web.Application) -> None:
    app.router.add_get(GDPR_PATH, get_gdpr, allow_head=False)
    app.router.add_put(GDPR_PATH, put_gdpr)
    app.router.add_get(ORDER_RECORDS_PATH, get_order_records, allow_head=False)
    app.router.add_put(ORDER_RECORDS_PATH, put_order_records)
