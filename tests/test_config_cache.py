"""The short cache of the configurations in force: how old a value may get, and how often the database is read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from app.config.cache import CACHE_SECONDS, Configurations
from app.config.model import GDPR, ORDER_RECORDS, defaults
from app.settings import Settings
from app.store.base import Record
from app.store.sqlite import SqliteStore
from tests.conftest import NOW


class CountingTable:
    """The store's table, counting reads."""

    def __init__(self, table: Any) -> None:
        self.table, self.reads = table, 0

    async def get(self, name: str) -> Record | None:
        self.reads += 1
        found = await self.table.get(name)
        await asyncio.sleep(0.2)  # slow to come back: a write of this process may end meanwhile
        return found

    async def put(self, name: str, values: Record, version: int, now: datetime) -> Record:
        return await self.table.put(name, values, version, now)


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def shared(tmp_path: Any) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(str(tmp_path / "shared.sqlite3"))
    await store.open()
    yield store
    await store.close()


def worker(store: SqliteStore, settings: Settings, ticks: Ticks) -> tuple[Configurations, CountingTable]:
    table = CountingTable(store.configurations)
    return Configurations(table, defaults(settings), monotonic=ticks), table


def test_the_cache_leaves_room_within_the_promised_5_seconds() -> None:
    assert 0 < CACHE_SECONDS <= 2


async def test_a_change_by_another_worker_is_seen_once_the_cached_value_expires(
        shared: SqliteStore, settings: Settings) -> None:
    ticks = Ticks()
    (reader, reads), (writer, _) = worker(shared, settings, ticks), worker(shared, settings, ticks)
    assert await reader.order_records_enabled() is True
    await writer.write(ORDER_RECORDS, {"isOrderRecordsEnabled": False}, 0, NOW)
    assert await writer.order_records_enabled() is False  # the writing worker: at once
    ticks.now += CACHE_SECONDS
    assert await reader.order_records_enabled() is False
    assert reads.reads == 2


async def test_concurrent_requests_on_an_expired_value_read_the_database_once(
        shared: SqliteStore, settings: Settings) -> None:
    configurations, table = worker(shared, settings, Ticks())
    policies = await asyncio.gather(*(configurations.policy() for _ in range(50)))
    assert {p.retention_time for p in policies} == {90}
    assert table.reads == 1


async def test_a_get_reads_the_database_and_refreshes_the_cache(shared: SqliteStore, settings: Settings) -> None:
    ticks = Ticks()
    (reader, reads), (writer, _) = worker(shared, settings, ticks), worker(shared, settings, ticks)
    assert (await reader.policy()).actor_anonymization is True
    await writer.write(GDPR, {"retentionTime": 30, "deletionTimeAfterRetention": 60, "actorAnonymization": False},
                       0, NOW)
    assert (await reader.read(GDPR))["version"] == 1
    assert await reader.actor_anonymization() is False
    assert reads.reads == 2


async def test_a_read_begun_before_this_process_wrote_does_not_bring_the_old_value_back(
        shared: SqliteStore, settings: Settings) -> None:
    configurations = Configurations(CountingTable(shared.configurations), defaults(settings))
    reading = asyncio.create_task(configurations.read(ORDER_RECORDS))
    await asyncio.sleep(0.05)  # it has read the defaults (enabled) and not come back yet
    await configurations.write(ORDER_RECORDS, {"isOrderRecordsEnabled": False}, 0, NOW)
    assert (await reading)["version"] == 1  # what was written since, not what was read before
    assert await configurations.order_records_enabled() is False
