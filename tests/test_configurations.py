"""The configuration operations on every store: defaults, versions, optimistic locking, permissions, races."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from app.api.auth import CONFIG_READ, CONFIG_WRITE, READ, WRITE
from app.store.base import Store, VersionConflict
from tests.conftest import NOW, FakeClock, bearer
from tests.factories import minimal_record

GDPR = "/api/configurations/gdpr"
ORDER_RECORDS = "/api/configurations/orderrecords"
STAMP = "2026-11-25T12:00:00.000Z"
CONFIG = bearer(CONFIG_READ, CONFIG_WRITE)


async def get(client: TestClient, path: str) -> dict[str, Any]:
    response = await client.get(path, headers=CONFIG)
    assert response.status == 200, await response.text()
    return await response.json()


async def put(client: TestClient, path: str, body: Any, status: int = 200) -> dict[str, Any]:
    response = await client.put(path, json=body, headers=CONFIG)
    assert response.status == status, await response.text()
    return await response.json(content_type=None)


async def test_until_first_written_get_answers_the_settings_defaults_as_version_0(client: TestClient) -> None:
    assert await get(client, GDPR) == {"id": "gdpr", "version": 0, "retentionTime": 90,
                                       "deletionTimeAfterRetention": 3560, "actorAnonymization": True}
    assert await get(client, ORDER_RECORDS) == {"id": "orderrecords", "version": 0, "isOrderRecordsEnabled": True}


async def test_defaults_follow_the_settings(aiohttp_client: Any, make_app: Any, settings: Any) -> None:
    custom = settings.replace({"gdpr.retention_time": 7, "gdpr.deletion_time_after_retention": 30,
                               "gdpr.actor_anonymization": False, "orderrecords.enabled": False})
    client = await aiohttp_client(make_app(settings=custom))
    gdpr = await get(client, GDPR)
    assert (gdpr["retentionTime"], gdpr["deletionTimeAfterRetention"], gdpr["actorAnonymization"]) == (7, 30, False)
    assert (await get(client, ORDER_RECORDS))["isOrderRecordsEnabled"] is False


async def test_gdpr_put_stores_a_new_version_and_get_reads_it(client: TestClient, clock: FakeClock) -> None:
    first = await put(client, GDPR, {"version": 0, "retentionTime": 30, "deletionTimeAfterRetention": 180,
                                     "actorAnonymization": False})
    assert first == {"id": "gdpr", "version": 1, "created": STAMP, "lastModified": STAMP, "retentionTime": 30,
                     "deletionTimeAfterRetention": 180, "actorAnonymization": False}
    assert await get(client, GDPR) == first
    clock.advance(hours=1)
    second = await put(client, GDPR, {"version": 1, "retentionTime": 31.0})  # the rest: the defaults again
    assert second == {"id": "gdpr", "version": 2, "created": STAMP, "lastModified": "2026-11-25T13:00:00.000Z",
                      "retentionTime": 31, "deletionTimeAfterRetention": 3560, "actorAnonymization": True}
    assert await get(client, GDPR) == second


async def test_a_get_answer_can_be_edited_and_sent_back(client: TestClient) -> None:
    stored = await put(client, GDPR, {"version": 0, "retentionTime": 30})
    edited = {**stored, "retentionTime": 45, "created": "not even a date"}  # read-only fields are ignored
    assert (await put(client, GDPR, edited))["retentionTime"] == 45
    switch = await put(client, ORDER_RECORDS, {"version": 0, "isOrderRecordsEnabled": True}, 201)
    assert (await put(client, ORDER_RECORDS, {**switch, "isOrderRecordsEnabled": False}))["version"] == 2


async def test_order_records_put_answers_201_when_first_stored_then_200(client: TestClient) -> None:
    created = await put(client, ORDER_RECORDS, {"version": 0, "isOrderRecordsEnabled": False}, 201)
    assert created == {"id": "orderrecords", "version": 1, "created": STAMP, "lastModified": STAMP,
                       "isOrderRecordsEnabled": False}
    updated = await put(client, ORDER_RECORDS, {"version": 1, "isOrderRecordsEnabled": True}, 200)
    assert (updated["version"], updated["isOrderRecordsEnabled"]) == (2, True)
    assert await get(client, ORDER_RECORDS) == updated


@pytest.mark.parametrize(("path", "body"), [(GDPR, {"retentionTime": 30}),
                                            (ORDER_RECORDS, {"isOrderRecordsEnabled": True})])
async def test_a_stale_version_is_a_409_naming_both_versions(client: TestClient, path: str,
                                                             body: dict[str, Any]) -> None:
    never_written = await client.put(path, json={**body, "version": 3}, headers=CONFIG)
    assert never_written.status == 409
    assert '"version":0' in await never_written.text() and '"requestVersion":3' in await never_written.text()
    stored = await put(client, path, {**body, "version": 0}, 201 if path == ORDER_RECORDS else 200)
    for stale in (0, 2):
        response = await client.put(path, json={**body, "version": stale}, headers=CONFIG)
        assert response.status == 409
        text = await response.text()
        assert '"version":1' in text and f'"requestVersion":{stale}' in text
    assert await get(client, path) == stored


@pytest.mark.parametrize("version", [0, 1])
@pytest.mark.parametrize("path", [GDPR, ORDER_RECORDS])
async def test_two_concurrent_puts_of_one_version_exactly_one_wins(client: TestClient, path: str,
                                                                   version: int) -> None:
    fields: dict[str, Any] = {"retentionTime": 30} if path == GDPR else {"isOrderRecordsEnabled": True}
    if version:
        await put(client, path, {**fields, "version": 0}, 201 if path == ORDER_RECORDS else 200)
    bodies = [{**fields, "version": version, **({"retentionTime": 40 + i} if path == GDPR else {})} for i in range(2)]
    responses = await asyncio.gather(*(client.put(path, json=body, headers=CONFIG) for body in bodies))
    statuses = sorted(r.status for r in responses)
    assert statuses in ([200, 409], [201, 409]), statuses
    winner = next(r for r in responses if r.status != 409)
    assert await get(client, path) == await winner.json()
    assert (await get(client, path))["version"] == version + 1


async def test_two_stores_on_one_sqlite_file_race_and_exactly_one_wins(tmp_path: Any) -> None:
    """Two workers (two connections to one file) writing the same version at once."""
    from app.store.sqlite import SqliteStore

    path = str(tmp_path / "shared.sqlite3")
    stores = [SqliteStore(path), SqliteStore(path)]
    for store in stores:
        await store.open()
    try:
        for version in (0, 1, 2):
            outcomes = await asyncio.gather(
                *(s.configurations.put("gdpr", {"retentionTime": 30 + i}, version, NOW) for i, s in enumerate(stores)),
                return_exceptions=True)
            conflicts = [o for o in outcomes if isinstance(o, VersionConflict)]
            won = [o for o in outcomes if isinstance(o, dict)]
            assert len(won) == 1 and len(conflicts) == 1, outcomes
            assert conflicts[0].stored == version + 1
            assert await stores[0].configurations.get("gdpr") == won[0]
    finally:
        for store in stores:
            await store.close()


async def test_the_table_keeps_each_document_apart(store: Store) -> None:
    await store.open()
    try:
        assert await store.configurations.get("gdpr") is None
        await store.configurations.put("gdpr", {"retentionTime": 30}, 0, NOW)
        await store.configurations.put("orderrecords", {"isOrderRecordsEnabled": False}, 0, NOW)
        assert (await store.configurations.get("gdpr") or {})["retentionTime"] == 30
        assert (await store.configurations.get("orderrecords") or {})["isOrderRecordsEnabled"] is False
        with pytest.raises(VersionConflict) as caught:
            await store.configurations.put("gdpr", {"retentionTime": 31}, 0, NOW)
        assert caught.value.stored == 1
    finally:
        await store.close()


@pytest.mark.parametrize(("granted", "get_status", "put_status"), [
    ((CONFIG_READ,), 200, 403),
    ((CONFIG_WRITE,), 403, 200),
    ((READ, WRITE), 403, 403),
])
async def test_permissions(client: TestClient, granted: tuple[str, ...], get_status: int, put_status: int) -> None:
    headers = bearer(*granted)
    for path, body in ((GDPR, {"version": 0, "retentionTime": 30}), (ORDER_RECORDS, {"version": 0,
                                                                                      "isOrderRecordsEnabled": True})):
        assert (await client.get(path, headers=headers)).status == get_status
        response = await client.put(path, json=body, headers=headers)
        assert response.status == (201 if put_status == 200 and path == ORDER_RECORDS else put_status)
        assert (await client.get(path)).status == 401
        assert (await client.put(path, json=body)).status == 401
    creating = await client.put("/api/orderrecords", json={"orderRecords": [minimal_record()]},
                                headers=bearer(CONFIG_READ, CONFIG_WRITE))
    assert creating.status == 403  # the configuration permissions grant nothing on records

