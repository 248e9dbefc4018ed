"""A store written by an earlier version of the service (another record shape) is refused, never served mixed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from mongomock_motor import AsyncMongoMockClient

from app.__main__ import main
from app.store.base import StoreIncompatible
from app.store.mongo import MongoStore
from app.store.sqlite import SqliteStore

# The table as the previous version created it: no digests, no user_version.
OLD_TABLE = """CREATE TABLE order_records (id BLOB NOT NULL UNIQUE, facility_ref TEXT NOT NULL,
    tenant_order_record_id TEXT, anonymized INTEGER NOT NULL, gdpr_cleanup_ms INTEGER NOT NULL,
    deletion_ms INTEGER NOT NULL, version INTEGER NOT NULL, doc BLOB NOT NULL)"""


def old_sqlite_store(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute(OLD_TABLE)
    conn.commit()
    conn.close()


async def test_a_new_sqlite_file_is_marked_and_opens_again(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    for _ in range(2):
        store = SqliteStore(str(path))
        await store.open()
        await store.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 3


async def test_an_sqlite_file_of_the_earlier_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old_sqlite_store(path)
    store = SqliteStore(str(path))
    with pytest.raises(StoreIncompatible, match="earlier version") as refused:
        await store.open()
    assert str(path) in str(refused.value) and "backfill again" in str(refused.value)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 0  # left as it was


# The table of the version that kept content digests beside each record (format 2).
DIGEST_TABLE = """CREATE TABLE order_records (id BLOB NOT NULL UNIQUE, facility_ref TEXT NOT NULL,
    tenant_order_record_id TEXT, anonymized INTEGER NOT NULL, gdpr_cleanup_ms INTEGER NOT NULL,
    deletion_ms INTEGER NOT NULL, version INTEGER NOT NULL, content_digest TEXT, kept_digest TEXT NOT NULL,
    doc BLOB NOT NULL)"""


async def test_an_sqlite_file_that_keeps_digests_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "digests.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(DIGEST_TABLE)
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    with pytest.raises(StoreIncompatible, match="earlier version"):
        await SqliteStore(str(path)).open()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 2  # left as it was


def test_the_service_refuses_to_start_on_it_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "old.sqlite3"
    old_sqlite_store(path)
    monkeypatch.delenv("ORDER_RECORDS_MONGODB_URI", raising=False)  # the embedded store's refusal is tested here
    monkeypatch.setenv("ORDER_RECORDS_SQLITE_PATH", str(path))
    monkeypatch.setenv("ORDER_RECORDS_JWT_SECRET", "s" * 40)
    assert main(["gdpr-sweep"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "earlier version" in err and "\n" not in err


async def test_a_mongodb_database_of_the_earlier_version_is_refused() -> None:
    client = AsyncMongoMockClient()
    await client["old"]["orderRecords"].insert_one({"facilityRef": "f"})  # records, and no format mark
    with pytest.raises(StoreIncompatible, match="earlier version"):
        await MongoStore(client, "old").open()
    fresh = MongoStore(client, "fresh")
    await fresh.open()
    await fresh.open()  # marked at the first open: opens again
    assert (await client["fresh"]["orderRecordsMeta"].find_one({"_id": "storeFormat"}))["version"] == 3
    for version in (1, 2):  # 2: the official shape with content digests beside each record
        await client[f"marked-{version}"]["orderRecordsMeta"].insert_one({"_id": "storeFormat", "version": version})
        with pytest.raises(StoreIncompatible, match="earlier version"):
            await MongoStore(client, f"marked-{version}").open()
