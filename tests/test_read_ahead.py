"""Read-ahead of list pages on SQLite: a page read ahead is served only while it is exactly what reading it now
would give; otherwise the request reads for itself."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from bson import ObjectId

from app.factory import make_store
from app.records import RecordBuilder
from app.settings import Settings
from app.store.base import PagePart, Record, RecordFilter
from app.store.sqlite import SqliteStore
from app.store.sqlite import records as sqlite_records
from app.store.sqlite.read_ahead import AheadPage, Page, PageKey, ReadAhead
from tests.conftest import NOW, FakeClock
from tests.factories import minimal_record

SIZE = 5
EMAIL = "ahead.reader@example.com"
IDS = itertools.count(int(str(ObjectId()), 16) & ~0xFFFF, 2)


def ids_of(part: PagePart) -> list[str]:
    return [r["id"] for r in orjson.loads(b"[%b]" % part.records)]


def build(settings: Settings, count: int, **fields: Any) -> list[Record]:
    """`count` records with ids two apart: one more can be stored between any two of them."""
    builder = RecordBuilder(settings.gdpr)
    return [builder.build(minimal_record(facilityRef=f"f-{i % 2}", **fields), f"{next(IDS):024x}", NOW)
            for i in range(count)]


async def settled(store: SqliteStore) -> None:
    """Wait until the reader thread has done whatever it was given, reads ahead included."""
    await store._run(store._read_pool, lambda: None)


@pytest.fixture
async def stores(tmp_path: Any, settings: Settings) -> AsyncIterator[tuple[SqliteStore, SqliteStore]]:
    """A store reading ahead and one that does not, on one database file, holding 23 records."""
    path = str(tmp_path / "ahead.sqlite3")
    ahead, plain = SqliteStore(path, read_ahead_pages=4), SqliteStore(path, read_ahead_pages=0)
    await ahead.open()
    await plain.open()
    await plain.insert_batch(build(settings, 23), NOW)
    yield ahead, plain
    await ahead.close()
    await plain.close()


async def page_through(store: SqliteStore, clock: FakeClock, filters: RecordFilter,
                       size: int = SIZE) -> list[tuple[int | None, bytes]]:
    pages, start = [], None
    while True:
        total, part = await store.list_part(filters, start, size, clock, 1 << 20)
        pages.append((total, part.records))
        if part.count < size:
            return pages
        start = ids_of(part)[-1]


@pytest.mark.parametrize("filters", [RecordFilter(), RecordFilter(facility_ref="f-1")])
async def test_pages_read_ahead_are_the_pages(stores: tuple[SqliteStore, SqliteStore], clock: FakeClock,
                                              filters: RecordFilter) -> None:
    ahead, plain = stores
    got = await page_through(ahead, clock, filters)
    assert got == await page_through(plain, clock, filters)
    assert len(got) >= 3
    assert ahead._ahead.served == len(got) - 2  # every page after the second was read ahead
    assert plain._ahead.served == 0 and len(plain._ahead) == 0


async def test_clients_paging_at_once_each_get_their_pages_read_ahead(stores: tuple[SqliteStore, SqliteStore],
                                                                       clock: FakeClock) -> None:
    ahead, plain = stores
    starts: dict[RecordFilter, str | None] = {RecordFilter(): None, RecordFilter(facility_ref="f-0"): None}
    for _ in range(3):  # page by page, in turns
        for filters, start in starts.items():
            got = await ahead.list_part(filters, start, SIZE, clock, 1 << 20)
            assert got == await plain.list_part(filters, start, SIZE, clock, 1 << 20)
            starts[filters] = ids_of(got[1])[-1]
    assert ahead._ahead.served == 2  # each client's third page


async def test_a_first_page_reads_nothing_ahead(stores: tuple[SqliteStore, SqliteStore], clock: FakeClock) -> None:
    ahead, _ = stores
    await ahead.list_part(RecordFilter(), None, SIZE, clock, 1 << 20)
    await settled(ahead)
    assert len(ahead._ahead) == 0  # a client taking one page (a dashboard) costs one read, not two


async def test_a_last_page_reads_nothing_ahead(stores: tuple[SqliteStore, SqliteStore], clock: FakeClock) -> None:
    ahead, _ = stores
    total, first = await ahead.list_part(RecordFilter(), None, 100, clock, 1 << 20)
    assert (total, first.count) == (23, 23)
    await ahead.list_part(RecordFilter(), ids_of(first)[2], 100, clock, 1 << 20)
    await settled(ahead)
    assert len(ahead._ahead) == 0


async def test_a_write_after_the_read_ahead_is_in_the_page(stores: tuple[SqliteStore, SqliteStore],
                                                           clock: FakeClock, settings: Settings) -> None:
    ahead, plain = stores
    _, first = await ahead.list_part(RecordFilter(), None, SIZE, clock, 1 << 20)
    _, second = await ahead.list_part(RecordFilter(), ids_of(first)[-1], SIZE, clock, 1 << 20)
    await settled(ahead)
    assert len(ahead._ahead) == 1  # the third page, read ahead
    # Another process (`plain`) stores a record whose id falls inside the third page, and deletes nothing.
    third_first = await plain.list_part(RecordFilter(), ids_of(second)[-1], 1, clock, 1 << 20)
    inside = f"{int(ids_of(third_first[1])[0], 16) - 1:024x}"
    assert inside > ids_of(second)[-1]
    (late,) = build(settings, 1)
    await plain.insert_batch([{**late, "id": inside}], NOW)
    total, third = await ahead.list_part(RecordFilter(), ids_of(second)[-1], SIZE, clock, 1 << 20)
    assert total == 24 and ids_of(third)[0] == inside
    assert ahead._ahead.served == 0
    assert (total, third) == await plain.list_part(RecordFilter(), ids_of(second)[-1], SIZE, clock, 1 << 20)


async def test_a_record_due_after_the_read_ahead_is_served_without_personal_data(
        tmp_path: Any, settings: Settings, clock: FakeClock) -> None:
    store = SqliteStore(str(tmp_path / "due.sqlite3"), read_ahead_pages=4)
    await store.open()
    try:
        order_date = NOW - timedelta(days=settings.gdpr.retention_time) + timedelta(seconds=1)
        records = build(settings, 3 * SIZE)
        records[-1] = build(settings, 1, orderRecordDate=order_date.isoformat(),
                            consumer={"email": EMAIL, "addresses": [{"country": "DE", "firstName": "Ada"}]})[0]
        await store.insert_batch(records, NOW)
        _, first = await store.list_part(RecordFilter(), None, SIZE, clock, 1 << 20)
        _, second = await store.list_part(RecordFilter(), ids_of(first)[-1], SIZE, clock, 1 << 20)
        await settled(store)
        assert len(store._ahead) == 1
        clock.advance(seconds=2)  # the record in the third page is now due; the sweep has not been there
        _, third = await store.list_part(RecordFilter(), ids_of(second)[-1], SIZE, clock, 1 << 20)
        assert third.count == SIZE and EMAIL.encode() not in third.records and b"Ada" not in third.records
        assert store._ahead.served == 0 and len(store._ahead) == 0
    finally:
        await store.close()


async def test_a_different_question_at_the_same_start_is_read_afresh(stores: tuple[SqliteStore, SqliteStore],
                                                                      clock: FakeClock) -> None:
    ahead, plain = stores
    _, first = await ahead.list_part(RecordFilter(), None, SIZE, clock, 1 << 20)
    _, second = await ahead.list_part(RecordFilter(), ids_of(first)[-1], SIZE, clock, 1 << 20)
    start = ids_of(second)[-1]
    for filters, size in ((RecordFilter(facility_ref="f-0"), SIZE), (RecordFilter(), SIZE + 1)):
        got = await ahead.list_part(filters, start, size, clock, 1 << 20)
        assert got == await plain.list_part(filters, start, size, clock, 1 << 20)
    assert ahead._ahead.served == 0


async def test_close_lets_go_of_pages_read_ahead(tmp_path: Any, settings: Settings, clock: FakeClock) -> None:
    store = SqliteStore(str(tmp_path / "close.sqlite3"))
    await store.open()
    await store.insert_batch(build(settings, 3 * SIZE), NOW)
    _, first = await store.list_part(RecordFilter(), None, SIZE, clock, 1 << 20)
    await store.list_part(RecordFilter(), ids_of(first)[-1], SIZE, clock, 1 << 20)
    await settled(store)
    assert len(store._ahead) == 1
    await store.close()
    assert len(store._ahead) == 0


def key(start: str) -> PageKey:
    return PageKey(RecordFilter(), start, SIZE, 1 << 20, False)


def held(stamp: tuple[int, int] = (1, 0), due_ms: int | None = None, tag: bytes = b"{}") -> AheadPage:
    return AheadPage(Page(1, PagePart(tag, 1), None, joined=True), stamp, due_ms)


def test_a_page_is_served_once_for_its_key_stamp_and_time() -> None:
    ahead = ReadAhead(4)
    ahead.keep(key("a"), held(due_ms=1000))
    assert ahead.take(key("b"), (1, 0), 0) is None and len(ahead) == 1
    assert ahead.take(key("a"), (1, 0), 999) == held(due_ms=1000).page
    assert ahead.take(key("a"), (1, 0), 999) is None and ahead.served == 1


@pytest.mark.parametrize(("stamp", "now_ms"), [((2, 0), 0), ((1, 1), 0), ((1, 0), 1000)])
def test_a_page_no_longer_true_is_let_go(stamp: tuple[int, int], now_ms: int) -> None:
    ahead = ReadAhead(4)
    ahead.keep(key("a"), held(due_ms=1000))
    ahead.keep(key("b"), held(due_ms=1000))
    assert ahead.take(key("a"), stamp, now_ms) is None
    assert len(ahead) == 0 and ahead.served == 0  # "b" was no truer than "a"


def test_pages_are_held_for_as_many_clients_as_set() -> None:
    ahead = ReadAhead(2)
    for start in "abc":
        ahead.keep(key(start), held(tag=start.encode()))
    assert len(ahead) == 2 and ahead.take(key("a"), (1, 0), 0) is None
    assert ahead.take(key("c"), (1, 0), 0) == held(tag=b"c").page


async def test_a_read_ahead_that_fails_is_logged_and_the_page_read_when_asked(
        stores: tuple[SqliteStore, SqliteStore], clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    ahead, plain = stores
    _, first = await ahead.list_part(RecordFilter(), None, SIZE, clock, 1 << 20)
    monkeypatch.setattr(sqlite_records, "read_page", broken_after(1))
    _, second = await ahead.list_part(RecordFilter(), ids_of(first)[-1], SIZE, clock, 1 << 20)
    await settled(ahead)
    assert len(ahead._ahead) == 0
    assert "reading a page ahead failed: ZeroDivisionError" in caplog.text
    monkeypatch.undo()
    got = await ahead.list_part(RecordFilter(), ids_of(second)[-1], SIZE, clock, 1 << 20)
    assert got == await plain.list_part(RecordFilter(), ids_of(second)[-1], SIZE, clock, 1 << 20)


def broken_after(calls: int) -> Any:
    """read_page that works `calls` times, then fails as a bug would."""
    real, left = sqlite_records.read_page, [calls]

    def read(*args: Any) -> Any:
        left[0] -= 1
        if left[0] < 0:
            raise ZeroDivisionError
        return real(*args)

    return read


@pytest.mark.parametrize("pages", [0, 7])
def test_the_setting_is_the_stores(settings: Settings, tmp_path: Any, pages: int) -> None:
    store = make_store(settings.replace({"sqlite.path": str(tmp_path / "s.sqlite3"), "sqlite.read_ahead_pages": pages}))
    assert isinstance(store, SqliteStore) and store._ahead.pages == pages
