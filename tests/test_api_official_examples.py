"""The official examples as a client of the official API sends them: the eight Postman bodies and the document's own."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import put_records
from tests.contract import official_example, postman_bulk_examples, validate


async def test_the_eight_postman_examples_are_created_and_resends_unchanged(client: TestClient,
                                                                             auth: dict[str, str]) -> None:
    examples = postman_bulk_examples()
    assert len(examples) == 8
    first: list[list[dict[str, Any]]] = []
    for name, body in examples:
        details = await put_records(client, body["operations"], auth)
        assert [d["status"] for d in details] == ["CREATED"] * len(body["operations"]), (name, details)
        first.append(details)
    for (name, body), created in zip(examples, first, strict=True):
        details = await put_records(client, body["operations"], auth)
        for operation, detail, before in zip(body["operations"], details, created, strict=True):
            if "tenantOrderRecordId" in operation:
                assert detail == {"status": "UNCHANGED", "orderRecord": before["orderRecord"]}, name
            else:
                assert detail["status"] == "CREATED", name
                assert detail["orderRecord"]["id"] != before["orderRecord"]["id"]
    keyed = sum("tenantOrderRecordId" in op for _, body in examples for op in body["operations"])
    assert keyed >= 6


async def test_the_documents_own_example_is_created(client: TestClient, auth: dict[str, str]) -> None:
    record = official_example()
    assert not validate("OrderRecordForCreation", record)
    # its example decimalPlaces (42) is beyond REFERENCE.md's 0-8: refused naming it, then accepted within the rule
    [refused] = await put_records(client, [record], auth)
    assert refused["status"] == "FAILED" and "decimalPlaces" in refused["error"]["message"]
    fixed = _with_places(record, 2)
    [created] = await put_records(client, [fixed], auth)
    assert created["status"] == "CREATED", created


def _with_places(node: Any, places: int) -> Any:
    if isinstance(node, list):
        return [_with_places(x, places) for x in node]
    if isinstance(node, dict):
        out = {k: _with_places(v, places) for k, v in node.items()}
        if "decimalPlaces" in out and "currency" in out:
            out["decimalPlaces"] = places
        return out
    return node
