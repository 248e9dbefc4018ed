"""The OpenAPI 3.1 document, built from the marshmallow schemas and the app's routes, and an offline Swagger UI."""

from __future__ import annotations

import copy
import mimetypes
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

from app.domain.currencies import OFFICIAL_CURRENCIES
from app.openapi import schemas as docs
from app.openapi.operations import BEARER, ERROR_RESPONSES, OPERATIONS, SECURED_RESPONSES
from app.schemas.types import OffsetDateTime, StrictBoolean, StrictInteger, StrictNumber, _currency, _json_object

OPENAPI_VERSION = "3.1.0"
UI_PATH = "/api/docs"
SPEC_PATH = "/api/docs/openapi.json"
STATIC_PREFIX = "/api/docs/static"
STATIC_DIR = Path(__file__).resolve().parent / "static" / "swagger-ui"

# Validators that are plain functions cannot be read by apispec: what each accepts, in JSON Schema terms.
FUNCTION_VALIDATORS: dict[Any, dict[str, Any]] = {
    _currency: {"enum": list(OFFICIAL_CURRENCIES), "description": "ISO 4217 currency code."},
    _json_object: {},  # depth, 64-bit integers and key rules: nothing JSON Schema can say briefly
}

UI_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Order Records API</title>
  <link rel="stylesheet" href="{static}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{static}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{spec}"></div>
  <script src="{static}/swagger-ui-bundle.js"></script>
  <script src="{static}/init.js"></script>
</body>
</html>
"""


def _service_version() -> str:
    try:
        return metadata.version("order-records")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _function_validators(self: Any, field: fields.Field, ret: dict[str, Any], **_: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for validator in field.validators:
        for key, value in FUNCTION_VALIDATORS.get(validator, {}).items():
            if key not in ret:
                out[key] = value
    return out


def _dict_sizes(self: Any, field: fields.Field, ret: dict[str, Any], **_: Any) -> dict[str, Any]:
    """A Dict's Length validator bounds its number of entries, and its key field names the keys."""
    if not isinstance(field, fields.Dict):
        return {}
    for length, size in (("minLength", "minProperties"), ("maxLength", "maxProperties")):
        if length in ret:
            ret[size] = ret.pop(length)
    if field.key_field is not None:
        ret["propertyNames"] = {k: v for k, v in self.field2property(field.key_field).items() if k != "type"}
    return {}


def make_spec() -> APISpec:
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="Order Records API", version=_service_version(), openapi_version=OPENAPI_VERSION, plugins=[plugin],
        info={"description": "Stores finalized orders for audit, analytics and reporting. Every /api/orderrecords "
                             "operation needs a bearer token (JWT) carrying the permission it names; every error is an "
                             "ApiError: a JSON array of {summary, description}."},
        tags=[{"name": "Order Records (DOMS)"}, {"name": "operations"}, {"name": "docs"}],
    )
    plugin.map_to_openapi_type(StrictInteger, "integer", "int64")
    plugin.map_to_openapi_type(StrictNumber, "number", None)
    plugin.map_to_openapi_type(StrictBoolean, "boolean", None)
    plugin.map_to_openapi_type(OffsetDateTime, "string", "date-time")
    plugin.converter.add_attribute_function(_function_validators)
    plugin.converter.add_attribute_function(_dict_sizes)
    spec.components.security_scheme(BEARER, {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "A JWT whose `permissions` claim (a list) or `scope` claim (space-separated) grants "
                       "ORDER_RECORD_READ and/or ORDER_RECORD_WRITE. `python -m app token` prints one."})
    spec.components.schema("ErrorInner", schema=docs.ErrorInner)
    spec.components.schema("ApiError", {"type": "array", "items": {"$ref": "#/components/schemas/ErrorInner"},
                                        "description": "Every error answer: one entry per problem."})
    for name, response in ERROR_RESPONSES.items():
        spec.components.response(name, response)
    return spec


def _operation(route: web.AbstractRoute) -> dict[str, Any]:
    path = route.resource.canonical if route.resource is not None else ""
    try:
        operation = copy.deepcopy(OPERATIONS[(route.method, path)])
    except KeyError:
        raise LookupError(f"route {route.method} {path} is not described in app/openapi/operations.py") from None
    permission = getattr(route.handler, "required_permission", None)
    if permission:
        operation["security"] = [{BEARER: [permission]}]
        operation["description"] += f"\n\nRequires a bearer token with the permission `{permission}`."
        operation["responses"].update(SECURED_RESPONSES)
    else:
        operation.setdefault("security", [])
    operation["responses"].setdefault("500", "InternalServerError")
    return operation


def is_static(resource: web.AbstractResource) -> bool:
    return isinstance(resource, web.StaticResource) or resource.canonical.startswith(f"{STATIC_PREFIX}/")


def build_spec(app: web.Application) -> dict[str, Any]:
    """The document for every route of `app` (static files aside); a route missing from OPERATIONS is an error."""
    spec = make_spec()
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None or is_static(route.resource):
            continue
        paths.setdefault(route.resource.canonical, {})[route.method.lower()] = _operation(route)
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def setup_openapi(app: web.Application) -> None:
    """Serve the document at /api/docs/openapi.json and Swagger UI at /api/docs; neither needs a token."""
    document: list[bytes] = []

    async def openapi_json(request: web.Request) -> web.Response:
        if not document:
            document.append(orjson.dumps(build_spec(request.app)))
        return web.Response(body=document[0], content_type="application/json")

    page = UI_PAGE.format(static=STATIC_PREFIX, spec=SPEC_PATH)

    async def swagger_ui(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    # The UI's few files by name, read once, not add_static or FileResponse: aiohttp's static route answers a path
    # too long for the file system with a 500 (ENAMETOOLONG), and both answer a missing file or an unsatisfiable
    # Range with a bare 4xx past the error middleware. The files are small: each is sent whole.
    assets = {path.name: path for path in STATIC_DIR.iterdir() if path.is_file()}
    loaded: dict[str, tuple[bytes, str]] = {}

    async def static_asset(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in assets:
            raise web.HTTPNotFound()
        if name not in loaded:
            loaded[name] = (assets[name].read_bytes(),
                            mimetypes.guess_type(name)[0] or "application/octet-stream")
        body, content_type = loaded[name]
        return web.Response(body=body, content_type=content_type)

    app.router.add_get(SPEC_PATH, openapi_json, allow_head=False)
    app.router.add_get(UI_PATH, swagger_ui, allow_head=False)
    app.router.add_get(f"{STATIC_PREFIX}/{{name}}", static_asset)

