"""The contract test for searchOrderRecord: its answers and errors conform to the served OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest

from app.api.auth import PERMISSIONS
from app.openapi import examples as openapi_examples
from tests.conftest import bearer
from tests.test_openapi import CHECKS, SCHEMA, live_url  # noqa: F401  (a fixture)

SEARCH = "/api/orderrecords/search"


@pytest.fixture(scope="module")
def stored(live_url: str) -> str:  # noqa: F811
    auth = bearer(*PERMISSIONS)
    for example in openapi_examples.BULK_REQUEST.values():
        create = SCHEMA["/api/orderrecords"]["PUT"].Case(body=example["value"], media_type="application/json")
        assert create.call(base_url=live_url, headers=auth).status_code == 200
    return live_url


@pytest.mark.parametrize(("body", "status"), [
    ({"query": {}, "size": 1, "options": {"withTotal": True}}, 200),
    ({"query": {"orderRecordDate": {"before": "P1D"}}, "sort": [{"orderRecordDate": "DESC"}], "last": 2}, 200),
    ({"query": {"or": [{"lineItems": {"exists": True}}, {"payments": {"exists": False}}]},
      "sort": [{"lineItems": {"quantity": "DESC"}}]}, 200),
    ({"query": {"tenantOrderRecordId": {"eq": "nothing"}}}, 200),
    ({"query": {"facilityName": {"eq": "x"}}}, 400),
    ({"query": {}, "size": 251}, 400),
    ({"query": {}, "after": "garbled"}, 400),
])
def test_search_answers_conform(stored: str, body: dict[str, Any], status: int) -> None:
    case = SCHEMA[SEARCH]["POST"].Case(body=body, media_type="application/json")
    response = case.call(base_url=stored, headers=bearer(*PERMISSIONS))
    assert response.status_code == status, response.text
    case.validate_response(response, checks=CHECKS)
    if status == 200 and body["query"] == {}:
        assert len(response.json()["orderRecords"]) >= 1
