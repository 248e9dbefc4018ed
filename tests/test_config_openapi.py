"""The configuration operations in the OpenAPI document, under the official names, and the answers conforming."""

from __future__ import annotations

from typing import Any

from app.api.auth import PERMISSIONS
from app.openapi.document import build_spec
from tests.conftest import bearer
from tests.test_openapi import CHECKS, SCHEMA, docs_app, live_url  # noqa: F401  (live_url: a fixture)

GDPR = "/api/configurations/gdpr"
ORDER_RECORDS = "/api/configurations/orderrecords"


def test_the_four_operations_are_documented_with_the_official_names() -> None:
    doc = build_spec(docs_app())
    ops = doc["paths"]
    expected = {(GDPR, "get"): ("getGdprConfiguration", "CONFIG_READ", {"200"}),
                (GDPR, "put"): ("putGdprConfiguration", "CONFIG_WRITE", {"200", "400", "409", "415"}),
                (ORDER_RECORDS, "get"): ("getOrderRecordsConfiguration", "CONFIG_READ", {"200"}),
                (ORDER_RECORDS, "put"): ("updateOrderRecordsConfiguration", "CONFIG_WRITE",
                                         {"200", "201", "400", "409", "415"})}
    for (path, method), (operation_id, permission, statuses) in expected.items():
        op = ops[path][method]
        assert op["operationId"] == operation_id
        assert op["security"] == [{"bearerAuth": [permission]}]
        assert statuses | {"401", "403", "500", "503"} == set(op["responses"])
    schemas = doc["components"]["schemas"]
    ref = "#/components/schemas/"
    for path, name in ((GDPR, "GdprConfiguration"), (ORDER_RECORDS, "OrderRecordsConfigurationInput")):
        assert ops[path]["put"]["requestBody"]["content"]["application/json"]["schema"] == {"$ref": ref + name}
    gdpr = schemas["GdprConfiguration"]
    assert gdpr["additionalProperties"] is False and set(gdpr["required"]) == {"version", "retentionTime"}
    retention = gdpr["properties"]["retentionTime"]
    assert retention["type"] == "number" and retention["minimum"] == 1 and retention["multipleOf"] == 1
    assert all(gdpr["properties"][name]["readOnly"] for name in ("id", "created", "lastModified"))
    assert set(schemas["OrderRecordsConfiguration"]["required"]) == {"id", "version", "isOrderRecordsEnabled"}
    assert set(schemas["OrderRecordsConfigurationInput"]["required"]) == {"version", "isOrderRecordsEnabled"}
    assert doc["components"]["responses"]["Conflict"]


def test_answers_conform_first_write_update_and_conflict(live_url: str) -> None:  # noqa: F811
    auth = bearer(*PERMISSIONS)
    for path, fields in ((GDPR, {"retentionTime": 90}), (ORDER_RECORDS, {"isOrderRecordsEnabled": True})):
        reading = SCHEMA[path]["GET"].Case()
        current = reading.call(base_url=live_url, headers=auth)
        reading.validate_response(current, checks=CHECKS)
        version = current.json()["version"]
        statuses = []
        for sent in (version, version):  # the second one is stale
            body: dict[str, Any] = {**fields, "version": sent}
            writing = SCHEMA[path]["PUT"].Case(body=body, media_type="application/json")
            response = writing.call(base_url=live_url, headers=auth)
            writing.validate_response(response, checks=CHECKS)
            statuses.append(response.status_code)
        assert statuses[0] in (200, 201) and statuses[1] == 409
