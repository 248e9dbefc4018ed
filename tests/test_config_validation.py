"""What a configuration PUT accepts: the official schemas, whole days, read-only fields, the date range."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from app.domain.gdpr import days_left
from app.factory import create_app
from app.settings import Settings
from app.store.sqlite import SqliteStore
from tests.conftest import NOW
from tests.test_configurations import CONFIG, GDPR, ORDER_RECORDS, get, put


@pytest.fixture
async def memory_client(aiohttp_client: Any, settings: Settings, clock: Any) -> TestClient:
    """Validation does not depend on the store: one in-memory SQLite store is enough."""
    return await aiohttp_client(create_app(settings, store=SqliteStore(":memory:"), clock=clock, sweep=False))


@pytest.mark.parametrize("body", [
    {"retentionTime": 30},                                            # no version
    {"version": 0},                                                   # no retentionTime
    {"version": 0, "retentionTime": 0},
    {"version": 0, "retentionTime": -5},
    {"version": 0, "retentionTime": 30.5},
    {"version": 0, "retentionTime": "30"},
    {"version": 0, "retentionTime": True},
    {"version": 0, "retentionTime": None},
    {"version": 0, "retentionTime": 30, "deletionTimeAfterRetention": 0},
    {"version": 0, "retentionTime": 30, "deletionTimeAfterRetention": 1.25},
    {"version": 0, "retentionTime": 30, "actorAnonymization": "yes"},
    {"version": 0, "retentionTime": 30, "actorAnonymization": 1},
    {"version": 0, "retentionTime": 30, "anonymizeAfterDays": 30},     # unknown: additionalProperties false
    {"version": -1, "retentionTime": 30},
    {"version": 0.5, "retentionTime": 30},
    {"version": "0", "retentionTime": 30},
    {"version": False, "retentionTime": 30},
    [],
    "gdpr",
], ids=lambda body: str(body)[:60])
async def test_gdpr_put_refuses(memory_client: TestClient, body: Any) -> None:
    response = await memory_client.put(GDPR, json=body, headers=CONFIG)
    assert response.status == 400, await response.text()
    assert (await get(memory_client, GDPR))["version"] == 0


@pytest.mark.parametrize("body", [
    {"isOrderRecordsEnabled": True},
    {"version": 0},
    {"version": 0, "isOrderRecordsEnabled": "false"},
    {"version": 0, "isOrderRecordsEnabled": 0},
    {"version": 0, "isOrderRecordsEnabled": True, "enabled": True},
    {"version": 1.5, "isOrderRecordsEnabled": True},
], ids=lambda body: str(body)[:60])
async def test_order_records_put_refuses(memory_client: TestClient, body: Any) -> None:
    response = await memory_client.put(ORDER_RECORDS, json=body, headers=CONFIG)
    assert response.status == 400, await response.text()
    assert (await get(memory_client, ORDER_RECORDS))["version"] == 0


@pytest.mark.parametrize(("field", "given"), [("retentionTime", 3_000_000), ("deletionTimeAfterRetention", 3_000_000),
                                              ("retentionTime", 1e300)])
async def test_a_retention_beyond_the_date_range_is_refused_clearly(memory_client: TestClient, field: str,
                                                                     given: float) -> None:
    body = {"version": 0, "retentionTime": 30, field: given}
    response = await memory_client.put(GDPR, json=body, headers=CONFIG)
    text = await response.text()
    assert response.status == 400, text
    assert field in text and "9999" in text


async def test_the_longest_retention_that_fits_is_accepted(memory_client: TestClient) -> None:
    # from 2026-11-25T12:00Z (the test clock) to the end of 9999: 2,912,114 whole days
    assert days_left(NOW) == 2_912_114
    stored = await put(memory_client, GDPR, {"version": 0, "retentionTime": 2_912_113, "deletionTimeAfterRetention": 1})
    assert stored["retentionTime"] == 2_912_113
    too_long = {"version": 1, "retentionTime": 2_912_113, "deletionTimeAfterRetention": 2}
    assert (await memory_client.put(GDPR, json=too_long, headers=CONFIG)).status == 400


async def test_whole_days_may_be_written_as_decimals_and_are_answered_as_integers(memory_client: TestClient) -> None:
    stored = await put(memory_client, GDPR, {"version": 0, "retentionTime": 30.0, "deletionTimeAfterRetention": 1e2})
    assert stored["retentionTime"] == 30 and isinstance(stored["retentionTime"], int)
    assert stored["deletionTimeAfterRetention"] == 100 and isinstance(stored["deletionTimeAfterRetention"], int)
    assert '"retentionTime":30,' in await (await memory_client.get(GDPR, headers=CONFIG)).text()


async def test_read_only_fields_are_ignored_whatever_they_hold(memory_client: TestClient) -> None:
    stored = await put(memory_client, GDPR, {"version": 0, "retentionTime": 30, "id": "other", "created": 5,
                                             "lastModified": None})
    assert stored["id"] == "gdpr" and stored["created"] == stored["lastModified"] == "2026-11-25T12:00:00.000Z"


async def test_a_body_that_is_not_json_is_refused(memory_client: TestClient) -> None:
    not_json = await memory_client.put(GDPR, data=b"{", headers={**CONFIG, "Content-Type": "application/json"})
    assert not_json.status == 400
    wrong_type = await memory_client.put(ORDER_RECORDS, data=b"{}", headers={**CONFIG, "Content-Type": "text/plain"})
    assert wrong_type.status == 415
