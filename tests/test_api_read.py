"""Contract tests of GET /api/orderrecords/{id} and GET /api/orderrecords (REFERENCE.md), on every store kind."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from bson import ObjectId
from yarl import URL as YURL

from tests.conftest import expect_problem, problem_view, put_records
from tests.factories import full_record, minimal_record

URL = "/api/orderrecords"


# --- helpers -------------------------------------------------------------------------------------------------------

async def seed(client: TestClient, auth: dict[str, str], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Store `records` (in batches of 25) and return them as created, in order."""
    stored: list[dict[str, Any]] = []
    for start in range(0, len(records), 25):
        results = await put_records(client, records[start:start + 25], auth)
        assert [r["status"] for r in results] == ["CREATED"] * len(results), results
        stored += [r["orderRecord"] for r in results]
    return stored


async def get_list(client: TestClient, auth: dict[str, str], query: str = "") -> dict[str, Any]:
    response = await client.get(f"{URL}{'?' + query if query else ''}", headers=auth)
    assert response.status == 200, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert set(body) == {"total", "orderRecords"}
    assert isinstance(body["total"], int) and isinstance(body["orderRecords"], list)
    return body





async def list_problem(client: TestClient, auth: dict[str, str], query: str) -> list[str]:
    """The fields named by a 400 answer to GET /api/orderrecords?query."""
    body = problem_view(await expect_problem(await client.get(f"{URL}?{query}", headers=auth), 400))
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"field", "message"} and error["message"]
    return [e["field"] for e in body["errors"]]


async def all_pages(client: TestClient, auth: dict[str, str], size: int, extra: str = ""
                    ) -> tuple[list[list[str]], set[int]]:
    """Follow startAfterId until an empty page; the ids of every page and every `total` seen."""
    pages: list[list[str]] = []
    totals: set[int] = set()
    after = ""
    for _ in range(1000):
        query = f"size={size}{extra}{'&startAfterId=' + after if after else ''}"
        body = await get_list(client, auth, query)
        totals.add(body["total"])
        ids = [r["id"] for r in body["orderRecords"]]
        pages.append(ids)
        if not ids:
            return pages, totals
        after = ids[-1]
    raise AssertionError("paging never ended")


def sizes(pages: list[list[str]]) -> list[int]:
    return [len(p) for p in pages]


def flat(pages: list[list[str]]) -> list[str]:
    return [i for p in pages for i in p]


# --- GET /api/orderrecords/{id} ------------------------------------------------------------------------------------

async def test_get_returns_the_stored_record(client: TestClient, auth: dict[str, str]) -> None:
    full, minimal = await seed(client, auth, [full_record(), minimal_record()])
    for record in (full, minimal):
        response = await client.get(f"{URL}/{record['id']}", headers=auth)
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.json() == record


@pytest.mark.parametrize("record_id", [
    str(ObjectId()), "000000000000000000000000", "ffffffffffffffffffffffff", "abc", "zzzzzzzzzzzzzzzzzzzzzzzz",
    "0123456789abcdef0123456", "0123456789abcdef012345678", "%20" * 3, "null", "-1", "x" * 300,
], ids=["unknown ObjectId", "zeros", "all f", "short", "24 non-hex", "23 hex", "25 hex", "spaces", "null", "-1",
        "very long"])
async def test_get_unknown_or_malformed_id_is_404(client: TestClient, auth: dict[str, str], record_id: str) -> None:
    await seed(client, auth, [minimal_record()])
    response = await client.get(YURL(f"{URL}/{record_id}", encoded=True), headers=auth)
    body = await expect_problem(response, 404)
    assert "errors" not in body


@pytest.mark.parametrize("path", ["..%2Fetc%2Fpasswd", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "..%2F..%2F",
                                  "%00" + "a" * 23, "a" * 23 + "%0A"])
async def test_get_path_tricks_are_404(client: TestClient, auth: dict[str, str], path: str) -> None:
    await seed(client, auth, [minimal_record()])
    response = await client.get(YURL(f"{URL}/{path}", encoded=True), headers=auth)
    await expect_problem(response, 404)


@pytest.mark.parametrize("suffix", ["%0A", "%0D%0A", "%20", "%09", "%0B"])
async def test_stored_id_with_trailing_whitespace_is_404(client: TestClient, auth: dict[str, str],
                                                         suffix: str) -> None:
    [record] = await seed(client, auth, [minimal_record()])
    response = await client.get(YURL(f"{URL}/{record['id']}{suffix}", encoded=True), headers=auth)
    await expect_problem(response, 404)


async def test_get_upper_case_hex_is_404(client: TestClient, auth: dict[str, str]) -> None:
    [record] = await seed(client, auth, [minimal_record()])
    assert record["id"] == record["id"].lower()
    await expect_problem(await client.get(f"{URL}/{record['id'].upper()}", headers=auth), 404)
    assert (await client.get(f"{URL}/{record['id']}", headers=auth)).status == 200


# --- GET /api/orderrecords -----------------------------------------------------------------------------------------

async def test_empty_store_lists_nothing(client: TestClient, auth: dict[str, str]) -> None:
    assert await get_list(client, auth) == {"total": 0, "orderRecords": []}


async def test_list_returns_full_records_in_ascending_id_order(client: TestClient, auth: dict[str, str]) -> None:
    stored = await seed(client, auth, [full_record(tenantOrderRecordId=f"t-{i}") for i in range(3)]
                        + [minimal_record() for _ in range(2)])
    body = await get_list(client, auth)
    assert body["total"] == 5
    ids = [r["id"] for r in body["orderRecords"]]
    assert ids == sorted(ids)
    assert sorted(body["orderRecords"], key=lambda r: r["id"]) == sorted(stored, key=lambda r: r["id"])


async def test_default_page_size_is_20(client: TestClient, auth: dict[str, str]) -> None:
    stored = await seed(client, auth, [minimal_record() for _ in range(25)])
    body = await get_list(client, auth)
    assert body["total"] == 25
    assert [r["id"] for r in body["orderRecords"]] == sorted(r["id"] for r in stored)[:20]


@pytest.mark.parametrize(("size", "count"), [(1, 1), (24, 24), (25, 25), (26, 25), (500, 25)])
async def test_size_within_limits(client: TestClient, auth: dict[str, str], size: int, count: int) -> None:
    stored = await seed(client, auth, [minimal_record() for _ in range(25)])
    body = await get_list(client, auth, f"size={size}")
    assert body["total"] == 25
    assert [r["id"] for r in body["orderRecords"]] == sorted(r["id"] for r in stored)[:count]


@pytest.mark.parametrize("size", ["25", "25.0", "25.00", "500.0"])
async def test_size_is_a_number_that_is_integral(client: TestClient, auth: dict[str, str], size: str) -> None:
    """The official document types `size` as a number: generated clients may send 25.0."""
    response = await client.get(f"{URL}?size={size}", headers=auth)
    assert response.status == 200, await response.text()


@pytest.mark.parametrize("size", ["0", "501", "abc", "-1", "", "1.5", "1e2", "99999999999999999999999", "25.",
                                  ".5", "500.1"])
async def test_size_out_of_limits_is_400(client: TestClient, auth: dict[str, str], size: str) -> None:
    assert await list_problem(client, auth, f"size={size}") == ["size"]


@pytest.mark.parametrize("value", ["abc", "0123456789ABCDEF01234567", "0123456789abcdef0123456",
                                   "0123456789abcdef012345678", "zzzzzzzzzzzzzzzzzzzzzzzz", "",
                                   "0123456789abcdef01234567%0A", "%0A0123456789abcdef01234567",
                                   "0123456789abcdef01234567%20"])
async def test_invalid_start_after_id_is_400(client: TestClient, auth: dict[str, str], value: str) -> None:
    assert await list_problem(client, auth, f"startAfterId={value}") == ["startAfterId"]


@pytest.mark.parametrize(("query", "field"), [("page=2", "page"), ("limit=5", "limit"), ("size=5&sort=id", "sort"),
                                              ("facilityref=x", "facilityref"), ("offset=0", "offset")])
async def test_unknown_query_parameter_is_400(client: TestClient, auth: dict[str, str], query: str,
                                              field: str) -> None:
    assert field in await list_problem(client, auth, query)


@pytest.mark.parametrize(("query", "field"), [("size=1&size=2", "size"), ("size=1&size=1", "size"),
                                              ("facilityRef=a&facilityRef=b", "facilityRef"),
                                              ("startAfterId=000000000000000000000000&startAfterId="
                                               "000000000000000000000000", "startAfterId"),
                                              ("tenantOrderRecordId=a&tenantOrderRecordId=a", "tenantOrderRecordId")])
async def test_repeated_query_parameter_is_400(client: TestClient, auth: dict[str, str], query: str,
                                               field: str) -> None:
    assert await list_problem(client, auth, query) == [field]


@pytest.mark.parametrize(("query", "field"), [("facilityRef=", "facilityRef"),
                                              ("tenantOrderRecordId=" + "t" * 257, "tenantOrderRecordId")])
async def test_invalid_filter_is_400(client: TestClient, auth: dict[str, str], query: str, field: str) -> None:
    assert await list_problem(client, auth, query) == [field]


async def test_paging_through_53_records(client: TestClient, auth: dict[str, str]) -> None:
    stored = await seed(client, auth, [minimal_record(tenantOrderRecordId=f"p-{i:02d}") for i in range(53)])
    all_ids = sorted(r["id"] for r in stored)
    assert len(set(all_ids)) == 53
    # ids are handed out in creation order, so the listing order is the creation order
    assert all_ids == [r["id"] for r in stored]

    pages, totals = await all_pages(client, auth, 10)
    assert sizes(pages) == [10, 10, 10, 10, 10, 3, 0]
    assert flat(pages) == all_ids
    assert totals == {53}

    # a page boundary that falls exactly on the end: the next page is empty, not an error
    pages, totals = await all_pages(client, auth, 53)
    assert sizes(pages) == [53, 0]
    assert totals == {53}


async def test_start_after_id_need_not_be_a_stored_id(client: TestClient, auth: dict[str, str]) -> None:
    stored = await seed(client, auth, [minimal_record() for _ in range(5)])
    ids = [r["id"] for r in stored]
    first = await get_list(client, auth, "startAfterId=000000000000000000000000&size=500")
    assert [r["id"] for r in first["orderRecords"]] == ids
    last = await get_list(client, auth, "startAfterId=ffffffffffffffffffffffff")
    assert last == {"total": 5, "orderRecords": []}
    # an id just below the third stored one (the second itself, or a gap between them)
    below_third = f"{int(ids[2], 16) - 1:024x}"
    assert ids[1] <= below_third < ids[2]
    middle = await get_list(client, auth, f"startAfterId={below_third}")
    assert [r["id"] for r in middle["orderRecords"]] == ids[2:]
    after_third = await get_list(client, auth, f"startAfterId={ids[2]}")
    assert [r["id"] for r in after_third["orderRecords"]] == ids[3:]
    assert after_third["total"] == 5


async def test_filters_with_paging(client: TestClient, auth: dict[str, str]) -> None:
    # two facilities interleaved, so a filtered page is never simply a slice of the whole list
    records = [minimal_record(facilityRef="north" if i % 3 else "south", tenantOrderRecordId=f"f-{i:02d}")
               for i in range(40)]
    records += [minimal_record(facilityRef="north") for _ in range(5)]  # without tenantOrderRecordId
    stored = await seed(client, auth, records)
    north = [r["id"] for r in stored if r["facilityRef"] == "north"]
    south = [r["id"] for r in stored if r["facilityRef"] == "south"]
    assert (len(north), len(south)) == (31, 14)

    pages, totals = await all_pages(client, auth, 7, "&facilityRef=north")
    assert flat(pages) == sorted(north)
    assert sizes(pages) == [7, 7, 7, 7, 3, 0]
    assert totals == {31}

    pages, totals = await all_pages(client, auth, 5, "&facilityRef=south")
    assert flat(pages) == sorted(south)
    assert sizes(pages) == [5, 5, 4, 0]
    assert totals == {14}

    body = await get_list(client, auth, "size=2&facilityRef=north")
    assert body["total"] == 31 and len(body["orderRecords"]) == 2
    assert all(r["facilityRef"] == "north" for r in body["orderRecords"])

    # tenantOrderRecordId: the one record, alone or with its own facility; none with another facility
    target = next(r for r in stored if r.get("tenantOrderRecordId") == "f-09")
    assert target["facilityRef"] == "south"
    assert await get_list(client, auth, "tenantOrderRecordId=f-09") == {"total": 1, "orderRecords": [target]}
    assert await get_list(client, auth, "tenantOrderRecordId=f-09&facilityRef=south&size=1") == {
        "total": 1, "orderRecords": [target]}
    assert await get_list(client, auth, "tenantOrderRecordId=f-09&facilityRef=north") == {
        "total": 0, "orderRecords": []}
    # with a cursor past the match the page is empty, but total still counts the match
    assert await get_list(client, auth, f"tenantOrderRecordId=f-09&startAfterId={target['id']}") == {
        "total": 1, "orderRecords": []}

    # filters match exactly: no prefixes, no case folding
    for query in ("facilityRef=nort", "facilityRef=NORTH", "facilityRef=north%20", "tenantOrderRecordId=f-0",
                  "tenantOrderRecordId=F-09", "facilityRef=nowhere"):
        assert await get_list(client, auth, query) == {"total": 0, "orderRecords": []}, query


async def test_filter_values_with_special_characters(client: TestClient, auth: dict[str, str]) -> None:
    odd = "fäc/ility?&=%#+ 🙂"
    stored = await seed(client, auth, [minimal_record(facilityRef=odd, tenantOrderRecordId=odd),
                                       minimal_record(facilityRef="plain")])
    response = await client.get(URL, params={"facilityRef": odd, "tenantOrderRecordId": odd}, headers=auth)
    assert response.status == 200
    assert await response.json() == {"total": 1, "orderRecords": [stored[0]]}


async def test_failed_and_duplicate_records_are_not_listed(client: TestClient, auth: dict[str, str]) -> None:
    results = await put_records(client, [minimal_record(tenantOrderRecordId="a"), minimal_record(lineItems=[]),
                                         minimal_record(tenantOrderRecordId="a")], auth)
    assert [r["status"] for r in results] == ["CREATED", "FAILED", "UNCHANGED"]
    assert await get_list(client, auth) == {"total": 1, "orderRecords": [results[0]["orderRecord"]]}
