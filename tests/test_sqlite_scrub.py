"""On SQLite, no file of the store (database, WAL, shared memory) keeps removed personal data after the sweep."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

from app import sweep
from app.factory import create_app
from app.keys import BUILDER
from app.settings import Settings
from app.store.sqlite import SqliteStore
from app.sweep import sweep_once
from tests.conftest import NOW, FakeClock
from tests.factories import minimal_record

EMAIL = b"wal.ghost@example.com"
NAME = b"Zebulon"


def leaking_files(directory: Path) -> list[str]:
    """Every file of the store that still holds the e-mail or the name, in any form SQLite keeps text."""
    return sorted(f.name for f in directory.iterdir() if f.is_file() and (
        EMAIL in (data := f.read_bytes()) or NAME in data or EMAIL.decode().encode("utf-16-le") in data))


def build(settings: Settings, store: SqliteStore, count: int, order_date: datetime) -> list[dict[str, Any]]:
    builder = create_app(settings, store=store, sweep=False)[BUILDER]
    records = []
    for i in range(count):
        personal = {"email": EMAIL.decode(), "addresses": [{"country": "DE", "firstName": NAME.decode()}]}
        raw = minimal_record(orderRecordDate=order_date.isoformat(), tenantOrderRecordId=f"ghost-{i}",
                             consumer=personal if i == 0 else {"email": f"other-{i}@example.org"},
                             customAttributes={"filler": "x" * 2000})
        records.append(builder.build(raw, str(ObjectId()), NOW))
    return records


@pytest.fixture
async def opened(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(str(tmp_path / "records.sqlite3"))
    await store.open()
    yield store
    await store.close()


async def seed(opened: SqliteStore, settings: Settings, count: int = 60) -> FakeClock:
    """Records whose cleanup date is one day after NOW; the store's files hold the e-mail afterwards."""
    order_date = NOW - timedelta(days=settings.gdpr.retention_time - 1)
    records = build(settings, opened, count, order_date)
    for start in range(0, count, 25):
        await opened.insert_batch(records[start:start + 25], NOW)
    assert leaking_files(Path(opened.path).parent), "the test needs the e-mail on disk before the sweep"
    return FakeClock(NOW + timedelta(days=1))


async def test_anonymization_leaves_no_personal_data_in_any_file(opened: SqliteStore, settings: Settings) -> None:
    clock = await seed(opened, settings)
    result = await sweep_once(opened, clock, settings.gdpr)
    assert result.anonymized == 60 and result.files_clean
    assert leaking_files(Path(opened.path).parent) == []


async def test_anonymized_then_deleted_leaves_nothing_also_after_more_writes(opened: SqliteStore,
                                                                          settings: Settings) -> None:
    clock = await seed(opened, settings)
    clock.advance(days=settings.gdpr.retention_time + settings.gdpr.deletion_time_after_retention)
    result = await sweep_once(opened, clock, settings.gdpr)
    assert (result.anonymized, result.deleted) == (60, 60)
    more = build(settings, opened, 25, NOW - timedelta(days=1))
    for record in more:  # other records, without the e-mail
        record["consumer"] = {"email": "someone.else@example.org"}
    await opened.insert_batch(more, clock)
    assert leaking_files(Path(opened.path).parent) == []


async def test_a_reader_holding_a_snapshot_delays_the_scrub_to_the_next_sweep(opened: SqliteStore,
                                                                             settings: Settings) -> None:
    clock = await seed(opened, settings)
    reader = sqlite3.connect(opened.path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM order_records").fetchone()  # holds a snapshot inside the WAL
        result = await sweep_once(opened, clock, settings.gdpr)
        assert result.anonymized == 60 and not result.files_clean
        reader.execute("COMMIT")
    finally:
        reader.close()
    result = await sweep_once(opened, clock, settings.gdpr)
    assert result.anonymized == 0 and result.files_clean  # nothing new to anonymize, but the WAL still waited
    assert leaking_files(Path(opened.path).parent) == []


async def test_a_store_copied_mid_sweep_is_clean_after_its_first_sweep(opened: SqliteStore, settings: Settings,
                                                                       tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """What kill -9 between the anonymization and the scrub leaves behind, reopened: the next start cleans it."""
    clock = await seed(opened, settings)

    async def killed_before_scrub() -> bool:
        return False

    monkeypatch.setattr(opened, "scrub", killed_before_scrub)
    assert (await sweep_once(opened, clock, settings.gdpr)).anonymized == 60
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    for name in ("records.sqlite3", "records.sqlite3-wal"):
        shutil.copy(tmp_path / name, crashed / name)
    assert leaking_files(crashed)
    restarted = SqliteStore(str(crashed / "records.sqlite3"))
    await restarted.open()
    try:
        result = await sweep_once(restarted, clock, settings.gdpr)
        assert result.anonymized == 0 and result.files_clean
        assert leaking_files(crashed) == []
    finally:
        await restarted.close()


async def test_a_busy_scrub_is_retried_soon_not_an_interval_later(opened: SqliteStore, settings: Settings,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    clock = await seed(opened, settings)
    monkeypatch.setattr(sweep, "SCRUB_RETRY_SECONDS", 0.05)
    outcomes: list[bool] = []
    scrub = opened.scrub

    async def recorded() -> bool:
        outcomes.append(await scrub())
        return outcomes[-1]

    monkeypatch.setattr(opened, "scrub", recorded)
    reader = sqlite3.connect(opened.path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM order_records").fetchone()
    task = asyncio.create_task(sweep.run_sweeps(opened, clock, settings.gdpr))  # every 60 s
    try:
        while not outcomes:
            await asyncio.sleep(0.02)
        assert outcomes == [False]
        reader.execute("COMMIT")
        for _ in range(250):
            if outcomes[-1]:
                break
            await asyncio.sleep(0.02)
        assert outcomes[-1] is True
        assert leaking_files(Path(opened.path).parent) == []
    finally:
        reader.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
