"""The OpenAPI document (valid, complete, from the schemas), the offline Swagger UI, and a contract test."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import jsonschema
import pytest
import schemathesis
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, settings
from marshmallow import Schema
from marshmallow.validate import Validator
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.api.auth import PERMISSIONS
from app.domain.currencies import OFFICIAL_CURRENCIES
from app.factory import create_app
from app.openapi import examples as openapi_examples
from app.openapi.document import FUNCTION_VALIDATORS, SPEC_PATH, STATIC_DIR, UI_PATH, build_spec, is_static
from app.records import RecordBuilder
from app.schemas import query as query_schemas
from app.schemas import records as record_schemas
from app.schemas.records import PAYMENT_STATUSES
from app.settings import make_settings
from app.store.sqlite import SqliteStore
from tests.conftest import SECRET, bearer

CDN = re.compile(r"unpkg\.com|jsdelivr\.net|cdnjs\.|googleapis\.com|gstatic\.com|swagger\.io/swagger-ui")
API = "/api/orderrecords"


def docs_app() -> web.Application:
    """One app over an in-memory SQLite store: the document does not depend on the store kind."""
    return create_app(make_settings({"sqlite.path": ":memory:", "jwt.secret": SECRET}), store=SqliteStore(":memory:"),
                      sweep=False)


@pytest.fixture
async def docs_client(aiohttp_client: Any) -> TestClient:
    return await aiohttp_client(docs_app())


@pytest.fixture
async def doc(docs_client: TestClient) -> dict[str, Any]:
    response = await docs_client.get(SPEC_PATH)
    assert response.status == 200
    assert response.content_type == "application/json"
    return await response.json()


async def test_served_document_is_valid_openapi_31_built_once(docs_client: TestClient, doc: dict[str, Any]) -> None:
    validate(doc)
    assert doc["openapi"].startswith("3.1.")
    assert '"produces":' not in json.dumps(doc)  # a swagger 2 key that aiohttp-apigami would leave in
    again = await docs_client.get(SPEC_PATH)
    assert await again.json() == doc == build_spec(docs_client.app)  # type: ignore[arg-type]


async def test_every_route_is_documented_with_its_method(docs_client: TestClient, doc: dict[str, Any]) -> None:
    routes = [r for r in docs_client.app.router.routes()  # type: ignore[union-attr]
              if r.method != "HEAD" and not is_static(r.resource)]
    assert len(routes) >= 7
    for route in routes:
        assert route.method.lower() in doc["paths"][route.resource.canonical], route


def test_a_route_without_a_description_is_an_error() -> None:
    async def undocumented(request: web.Request) -> web.Response:
        return web.Response()

    app = docs_app()
    app.router.add_get("/undocumented", undocumented)
    with pytest.raises(LookupError, match="GET /undocumented"):
        build_spec(app)


async def test_parameters_carry_their_bounds(doc: dict[str, Any]) -> None:
    params = {p["name"]: p for p in doc["paths"][API]["get"]["parameters"]}
    assert all(p["in"] == "query" and not p["required"] and p["description"] for p in params.values())
    assert params["size"]["schema"] == {"type": "integer", "default": 20, "minimum": 1, "maximum": 500}
    assert params["startAfterId"]["schema"] == {"type": "string", "pattern": "^[0-9a-f]{24}$"}
    for name in ("facilityRef", "tenantOrderRecordId"):
        assert params[name]["schema"] == {"type": "string", "minLength": 1, "maxLength": 256}
    (path_param,) = doc["paths"][API + "/{orderRecordId}"]["get"]["parameters"]
    assert path_param["in"] == "path" and path_param["required"] is True
    assert path_param["schema"]["pattern"] == "^[0-9a-f]{24}$"


async def test_request_body_is_a_list_of_order_records_for_creation(doc: dict[str, Any]) -> None:
    body = doc["paths"][API]["put"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/OrderRecordBulkOperations"}
    envelope = doc["components"]["schemas"]["OrderRecordBulkOperations"]
    assert envelope["required"] == ["operations"]
    assert envelope["properties"]["operations"] == {"type": "array", "minItems": 1, "maxItems": 25,
                                                      "items": {"$ref": "#/components/schemas/OrderRecordForCreation"}}


async def test_fields_map_to_proper_types(doc: dict[str, Any]) -> None:
    s = doc["components"]["schemas"]
    money = s["OrderRecordMonetaryValue"]["properties"]
    assert money["value"]["type"] == "integer"
    assert money["value"]["format"] == "int64"
    assert money["decimalPlaces"] | {"description": "", "example": 0} == {
        "type": "integer", "format": "int64", "minimum": 0, "maximum": 8, "description": "", "example": 0}
    assert s["OrderRecordForCreation"]["properties"]["orderRecordDate"]["format"] == "date-time"
    assert s["OrderRecordLineItemReturnPolicy"]["properties"]["isReturnable"] == {"type": "boolean"}
    assert s["OrderRecordTax"]["properties"]["ratePercent"]["type"] == "number"
    assert s["OrderRecordLineItemForCreation"]["properties"]["quantity"]["type"] == "number"
    assert s["OrderRecordPayment"]["properties"]["status"]["enum"] == list(PAYMENT_STATUSES)
    assert s["OrderRecordLineItemForCreation"]["properties"]["customAttributes"]["type"] == ["object", "null"]
    assert s["OrderRecordArticleAttributeItem"]["properties"]["keyLocalized"]["maxProperties"] == 100
    assert money["currency"]["enum"] == list(OFFICIAL_CURRENCIES)
    assert len(OFFICIAL_CURRENCIES) == 179
    assert s["OrderRecordForCreation"]["additionalProperties"] is False
    totals = s["OrderRecordTotals"]["properties"]
    assert set(totals) == set(s["OrderRecordTotals"]["required"]) == {
        "subTotal", "totalDiscounts", "totalLineItemSurcharges", "totalTaxes", "totalFees", "total"}
    assert s["OrderRecordForCreation"]["additionalProperties"] is False


def test_every_function_validator_of_the_schemas_is_documented() -> None:
    classes = [cls for module in (record_schemas, query_schemas) for cls in vars(module).values()
               if isinstance(cls, type) and issubclass(cls, Schema)]
    found = {v for cls in classes for field in cls._declared_fields.values()
             for v in (*field.validators, *getattr(getattr(field, "inner", None), "validators", ()))
             if callable(v) and not isinstance(v, Validator) and getattr(v, "__module__", "").startswith("app.schemas")}
    assert found and found <= set(FUNCTION_VALIDATORS)


async def test_responses_security_and_problems(doc: dict[str, Any]) -> None:
    ops = doc["paths"]
    expected = {("put", API): ({"200", "400", "401", "403", "413", "415", "500", "503"}, "ORDER_RECORD_WRITE"),
                ("get", API): ({"200", "400", "401", "403", "500", "503"}, "ORDER_RECORD_READ"),
                ("get", API + "/{orderRecordId}"): ({"200", "401", "403", "404", "500", "503"}, "ORDER_RECORD_READ")}
    for (method, path), (statuses, permission) in expected.items():
        op = ops[path][method]
        assert set(op["responses"]) == statuses
        assert op["security"] == [{"bearerAuth": [permission]}]
        assert permission in op["description"]
    for path in ("/health", "/ready", UI_PATH, SPEC_PATH):
        assert ops[path]["get"]["security"] == []
    assert doc["components"]["securitySchemes"]["bearerAuth"] | {"description": ""} == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": ""}
    s = doc["components"]["schemas"]
    assert set(s["ErrorInner"]["properties"]) == {"summary", "description", "version", "requestVersion"}
    assert s["ApiError"]["type"] == "array"
    assert doc["components"]["responses"]["BadRequest"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ApiError"}
    system = {"id", "version", "created", "lastModified", "anonymized", "gdprCleanupDate", "deletionDate"}
    assert system <= set(s["OrderRecord"]["required"])
    assert set(s["OrderRecordForCreation"]["properties"]) < set(s["OrderRecord"]["properties"])
    assert "total" in s["OrderRecordPricing"]["properties"]
    assert s["OrderRecordBulkOperationResult"]["properties"]["status"]["enum"] == ["CREATED", "UNCHANGED", "FAILED"]
    ops = {op["operationId"] for path in doc["paths"].values() for op in path.values()}
    assert {"bulkCreateOrderRecords", "listOrderRecords", "getOrderRecord"} <= ops
    assert set(s["OrderRecords"]["required"]) == {"total", "orderRecords"}


async def test_examples_conform_to_their_schemas(doc: dict[str, Any]) -> None:
    parts = [part for path in doc["paths"].values() for op in path.values()
             for part in (op.get("requestBody", {}), *op["responses"].values())]
    media = [m for part in parts for m in part.get("content", {}).values()]
    media += [m for response in doc["components"]["responses"].values() for m in response["content"].values()]
    examples = [(m["example"], m["schema"]) for m in media if "example" in m]
    examples += [(e["value"], m["schema"]) for m in media for e in m.get("examples", {}).values()]
    assert len(examples) >= 12
    for instance, schema in examples:
        validator = jsonschema.Draft202012Validator({**schema, "components": doc["components"]},
                                                    format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        validator.validate(instance)


def test_the_stored_record_example_is_what_the_service_builds() -> None:
    example = openapi_examples.STORED_RECORD
    given = {k: v for k, v in example.items() if k not in openapi_examples.SYSTEM_FIELDS}
    given["pricing"] = {k: v for k, v in example["pricing"].items() if k != "total"}
    given["lineItems"] = [{k: v for k, v in item.items() if k != "id"} for item in example["lineItems"]]
    builder = RecordBuilder(make_settings({"jwt.secret": SECRET}).gdpr)
    built = builder.build(given, example["id"], datetime.fromisoformat(example["created"]))
    built["lineItems"] = [{**item, "id": ex["id"]} for item, ex in zip(built["lineItems"], example["lineItems"],
                                                                         strict=True)]
    assert built == example


async def test_request_examples_are_accepted(docs_client: TestClient) -> None:
    auth = bearer(*PERMISSIONS)
    for example in openapi_examples.BULK_REQUEST.values():
        response = await docs_client.put(API, json=example["value"], headers=auth)
        assert response.status == 200
        assert [r["status"] for r in (await response.json())["details"]] == ["CREATED"]
        again = await docs_client.put(API, json=example["value"], headers=auth)  # every example has a key
        assert [r["status"] for r in (await again.json())["details"]] == ["UNCHANGED"]


async def test_swagger_ui_is_served_offline_without_a_token(docs_client: TestClient) -> None:
    response = await docs_client.get(UI_PATH)
    assert response.status == 200 and response.content_type == "text/html"
    page = await response.text()
    assert f'data-spec-url="{SPEC_PATH}"' in page
    assert not re.search(r"https?://", page)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert {a.rsplit("/", 1)[1] for a in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css", "init.js"}
    for asset in assets:
        assert asset.startswith("/api/docs/static/"), asset
        served = await docs_client.get(asset)
        body = await served.read()
        assert served.status == 200 and len(body) > 0, asset
        assert not CDN.search(body.decode("utf-8", "replace")), asset
    init = await (await docs_client.get("/api/docs/static/init.js")).text()
    assert "validatorUrl: null" in init and "SwaggerUIBundle(" in init


@pytest.mark.parametrize("name", ["a" * 300, "a/" * 3000, "nope.js", "..%2F..%2Fpyproject.toml", "%2Fetc%2Fpasswd",
                                  "../../../pyproject.toml", "", "swagger-ui.css/x"],
                         ids=["name-too-long", "path-too-long", "missing", "encoded-traversal", "absolute",
                              "traversal", "directory", "below-a-file"])
async def test_unknown_static_asset_is_404_problem(docs_client: TestClient, name: str) -> None:
    response = await docs_client.get(f"/api/docs/static/{name}")
    assert response.status == 404, await response.text()
    assert response.content_type == "application/json"
    assert (await response.json())[0]["summary"] == "Not Found"


async def test_static_asset_answers_head(docs_client: TestClient) -> None:
    response = await docs_client.head("/api/docs/static/swagger-ui.css")
    assert response.status == 200 and response.content_type == "text/css"


@pytest.mark.parametrize("header", ["bytes=99999999-", "bytes=abc", "bytes=5-2", "bytes=0-10"])
async def test_static_asset_is_sent_whole_whatever_the_range(docs_client: TestClient, header: str) -> None:
    """A bad Range got a bare 416 past the error middleware; the files are small, so each is simply sent whole."""
    response = await docs_client.get("/api/docs/static/init.js", headers={"Range": header})
    assert response.status == 200 and response.content_type.endswith("javascript")
    assert await response.read() == (STATIC_DIR / "init.js").read_bytes()


# --- the contract test: schemathesis against the app on a loopback port -----------------------------------------

SCHEMA = schemathesis.openapi.from_dict(build_spec(docs_app()))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def live_url() -> Iterator[str]:
    """The app with an in-memory store, served on 127.0.0.1 by its own event loop in a background thread."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(docs_app())
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.run_until_complete(runner.cleanup())
        loop.close()


@SCHEMA.parametrize()
@settings(max_examples=40, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document(case: schemathesis.Case, live_url: str) -> None:
    response = case.call(base_url=live_url, headers=bearer(*PERMISSIONS), timeout=30)
    case.validate_response(response, checks=CHECKS)


def test_stored_records_conform_to_their_document(live_url: str) -> None:
    """What the fuzzing above and the examples stored, read back as a page and one by one."""
    auth = bearer(*PERMISSIONS)
    switch = SCHEMA["/api/configurations/orderrecords"]  # the fuzzing may have turned order records off
    version = switch["GET"].Case().call(base_url=live_url, headers=auth).json()["version"]
    switch["PUT"].Case(body={"version": version, "isOrderRecordsEnabled": True},
                       media_type="application/json").call(base_url=live_url, headers=auth)
    for example in openapi_examples.BULK_REQUEST.values():
        create = SCHEMA[API]["PUT"].Case(body=example["value"], media_type="application/json")
        create.validate_response(create.call(base_url=live_url, headers=auth), checks=CHECKS)
    listing = SCHEMA[API]["GET"].Case(query={"size": 500})
    page = listing.call(base_url=live_url, headers=auth)
    listing.validate_response(page, checks=CHECKS)
    records = page.json()["orderRecords"]
    assert len(records) >= 2
    for record in records[:100]:
        one = SCHEMA[API + "/{orderRecordId}"]["GET"].Case(path_parameters={"orderRecordId": record["id"]})
        response = one.call(base_url=live_url, headers=auth)
        one.validate_response(response, checks=CHECKS)
        assert response.status_code == 200 and response.json() == record
