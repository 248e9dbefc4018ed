"""The MongoDB store's own failures: records too large for it, duplicate ids, and database errors in the logs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bson import ObjectId
from pymongo.errors import BulkWriteError, OperationFailure

from app.records import RecordBuilder
from app.settings import Settings
from app.store.base import RecordFilter
from app.store.mongo import MongoStore
from tests.conftest import MONGODB_URI, NOW, put_records
from tests.factories import full_record, minimal_record
from tests.realserver import needs_server

MAX_BSON_SIZE = 16 * 1024 * 1024  # MongoDB's documented limit of a document


@pytest.fixture(params=["mongomock", *(["mongodb"] if MONGODB_URI else [])])
def store_kind(request: pytest.FixtureRequest) -> str:
    """Overrides conftest's: these tests are about the MongoDB store only."""
    return request.param


@pytest.fixture
async def opened(store: MongoStore) -> AsyncIterator[MongoStore]:
    await store.open()
    yield store
    await store.close()


def built(settings: Settings, **fields: Any) -> dict[str, Any]:
    # The service's record caps (limits.*) keep such records out; these tests raise them to reach the store's own
    # line of defence.
    uncapped = settings.replace({"limits.max_record_bytes": 2**30, "limits.max_record_values": 10**8})
    return RecordBuilder(settings.gdpr, limits=uncapped.limits).build(minimal_record(**fields), str(ObjectId()), NOW)


def blob(megabytes: int) -> dict[str, Any]:
    """customAttributes of about this many MB: few, long strings, so that building the record is quick."""
    return {"blob": ["x" * 1_000_000] * megabytes}


@pytest.mark.parametrize("megabytes", [17, 50], ids=["over-16MiB", "over-48MB-refused-by-the-driver"])
async def test_a_record_too_large_for_mongodb_fails_alone_and_a_retry_stores_nothing_twice(
        opened: MongoStore, settings: Settings, megabytes: int) -> None:
    batch = [built(settings, tenantOrderRecordId="t-1"), built(settings, customAttributes=blob(megabytes)),
             built(settings), built(settings)]  # the last three without tenantOrderRecordId: no idempotency key
    for attempt in range(2):  # the second: the same batch again, as a caller retrying it would send it
        outcomes = await opened.insert_batch(batch, NOW)
        assert [o.status for o in outcomes] == ["CREATED", "FAILED", "CREATED", "CREATED"], attempt
        assert outcomes[1].json == b"" and "too large" in outcomes[1].message
        assert f"{MAX_BSON_SIZE:,}" in outcomes[1].message and "xxx" not in outcomes[1].message
        served = [batch[0], batch[2], batch[3]]
        assert [o.record for i, o in enumerate(outcomes) if i != 1] == served
        assert await opened.count(RecordFilter()) == 3
    assert await opened.get_json(batch[1]["id"], NOW) is None


async def test_a_record_just_within_the_limit_is_stored(opened: MongoStore, settings: Settings) -> None:
    record = built(settings, customAttributes={"blob": "x" * (MAX_BSON_SIZE - 4096)})
    [outcome] = await opened.insert_batch([record], NOW)
    assert outcome.status == "CREATED"
    assert await opened.get_json(record["id"], NOW) == outcome.json


async def test_a_record_whose_id_is_stored_already_is_answered_not_a_key_error(
        opened: MongoStore, settings: Settings) -> None:
    """A duplicate _id without tenantOrderRecordId: the same record again (a retried write whose answer was lost)
    is CREATED once; another record under a stored id gets the stored one."""
    record = built(settings)
    [first] = await opened.insert_batch([record], NOW)
    [again] = await opened.insert_batch([record], NOW)
    assert (again.status, again.json) == ("CREATED", first.json)
    other = {**built(settings, facilityRef="elsewhere"), "id": record["id"]}
    [clash] = await opened.insert_batch([other], NOW)
    assert (clash.status, clash.record) == ("EXISTS", record)
    assert await opened.count(RecordFilter()) == 1


def personal_record(tenant_id: str) -> tuple[dict[str, Any], list[str]]:
    """A request record full of personal data, and the strings that must never appear in a log."""
    mark = uuid.uuid4().hex[:10]
    secrets = [f"mail-{mark}@example.com", f"First{mark}", f"Last{mark}", f"Street{mark}", f"consumer-{mark}"]
    record = full_record(tenantOrderRecordId=tenant_id)
    record["consumer"]["email"], record["consumer"]["consumerId"] = secrets[0], secrets[4]
    address = record["consumer"]["addresses"][0]
    address["firstName"], address["lastName"], address["street"] = secrets[1:4]
    return record, secrets


class RefusingCollection:
    """The real collection, but insert_many fails as the driver reports a refused document: the document itself,
    and the values it was refused for, inside the error."""

    def __init__(self, inner: Any, bulk: bool) -> None:
        self.inner, self.bulk = inner, bulk

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def insert_many(self, docs: list[dict[str, Any]], ordered: bool = True) -> Any:
        email = docs[0]["consumer"]["email"]
        info = {"details": {"consideredValue": email, "reason": "type did not match"}}
        if self.bulk:  # the first document refused, the others stored: as in one unordered insert
            await self.inner.insert_many(docs[1:], ordered=ordered)
            raise BulkWriteError({"writeErrors": [{"index": 0, "code": 121, "errmsg": "Document failed validation",
                                                   "errInfo": info, "op": docs[0]}],
                                  "writeConcernErrors": [], "nInserted": len(docs) - 1, "nUpserted": 0,
                                  "nMatched": 0, "nModified": 0, "nRemoved": 0, "upserted": []})
        raise OperationFailure(f"Document failed validation: {email}", 121,
                               {"ok": 0, "code": 121, "errmsg": "Document failed validation", "errInfo": info,
                                "op": docs[0]})


@pytest.mark.parametrize("bulk", [True, False], ids=["one-document-refused", "whole-insert-failed"])
async def test_a_database_error_is_logged_without_record_contents(
        aiohttp_client: Any, make_app: Any, store: MongoStore, auth: dict[str, str],
        caplog: pytest.LogCaptureFixture, bulk: bool) -> None:
    caplog.set_level(logging.DEBUG)
    client = await aiohttp_client(make_app())
    refused, secrets = personal_record("pii-1")
    other, other_secrets = personal_record("pii-2")
    store.collection = RefusingCollection(store.collection, bulk)  # type: ignore[assignment]
    response = await client.put("/api/orderrecords", json={"operations": [refused, other]}, headers=auth)
    body = await response.text()
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert [s for s in secrets + other_secrets if s in logged] == [], logged[-3000:]
    assert [s for s in secrets if s in body] == [], body  # the other record is CREATED: its data is in the body
    assert "code 121" in logged and "insert" in logged
    if bulk:  # that record's own failure; the other one stored
        assert response.status == 200 and "FAILED" in body, body
        assert await store.count(RecordFilter()) == 1
    else:
        assert response.status == 500, body
    assert "Document failed validation" not in logged  # the driver's message: it may quote the data


@needs_server
@pytest.mark.parametrize("store_kind", ["mongodb"])
async def test_a_record_refused_by_a_real_server_validator_fails_alone_and_is_logged_safely(
        aiohttp_client: Any, make_app: Any, store: MongoStore, auth: dict[str, str],
        caplog: pytest.LogCaptureFixture) -> None:
    """A deployment's schema validator refuses a document: the driver's error holds it whole (`op`)."""
    caplog.set_level(logging.DEBUG)
    client = await aiohttp_client(make_app())
    await store.collection.database.command(
        "collMod", store.collection.name, validator={"facilityRef": {"$ne": "refused-facility"}})
    refused, secrets = personal_record("v-1")
    refused["facilityRef"] = "refused-facility"
    results = await put_records(client, [refused, full_record(tenantOrderRecordId="v-2")], auth)
    assert [r["status"] for r in results] == ["FAILED", "CREATED"]
    assert [s for s in secrets if s in caplog.text] == []
    assert "code 121" in caplog.text


@needs_server
@pytest.mark.parametrize("store_kind", ["mongodb"])
async def test_the_driver_logs_no_documents_even_at_debug(opened: MongoStore, settings: Settings,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """PyMongo logs each command with its documents at DEBUG; a DEBUG service log must not carry them."""
    caplog.set_level(logging.DEBUG)
    given, secrets = personal_record("d-1")
    record = RecordBuilder(settings.gdpr).build(minimal_record(consumer=given["consumer"]), str(ObjectId()), NOW)
    [outcome] = await opened.insert_batch([record], NOW)
    assert outcome.status == "CREATED" and await opened.get_json(record["id"], NOW) == outcome.json
    assert [s for s in secrets if s in caplog.text] == []
