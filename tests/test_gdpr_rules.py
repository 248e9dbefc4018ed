"""Unit tests of the GDPR rules: lifecycle dates and exactly what anonymization removes and keeps."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from app.domain.gdpr import (
    KEPT_ADDRESS_FIELDS,
    REMOVED_CONSUMER_FIELDS,
    anonymize,
    anonymized_consumer,
    cleaned_up,
    is_due,
    lifecycle_dates,
)
from tests.factories import full_record

NOW = datetime(2027, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
NOW_TEXT = "2027-03-01T08:30:15.123Z"
ADDRESS_FIELDS = ("firstName", "lastName", "companyName", "street", "houseNumber", "postalCode", "city", "province",
                  "country", "additionalAddressInfo")


def stored_record(**overrides: Any) -> dict[str, Any]:
    """A record as the store holds it: the request fields plus the system fields."""
    record = full_record()
    record.update({
        "id": "0123456789abcdef01234567", "version": 1, "created": "2026-11-01T09:15:00.000Z",
        "lastModified": "2026-11-01T09:15:00.000Z", "anonymized": False,
        "gdprCleanupDate": "2027-01-30T09:15:00.000Z", "deletionDate": "2036-10-29T09:15:00.000Z",
    })
    record["consumer"]["addresses"].append({
        "firstName": "Max", "lastName": "Muster", "street": "Ring",
        "houseNumber": "9", "postalCode": "80331", "city": "München", "country": "AT",
        "province": "Wien",
    })
    record["consumer"]["addresses"].append({"country": "CH", "city": "Zürich", "province": "ZH"})
    record.update(overrides)
    return record


# --- lifecycle_dates -----------------------------------------------------------------------------------------

def test_cleanup_counts_from_the_record_date_and_deletion_from_the_cleanup() -> None:
    cleanup, deletion = lifecycle_dates(datetime(2026, 11, 1, 9, 15, tzinfo=UTC), 90, 3560)
    assert cleanup == datetime(2027, 1, 30, 9, 15, tzinfo=UTC)
    assert deletion == datetime(2036, 10, 29, 9, 15, tzinfo=UTC)  # 3650 days in all, three leap days in between


def test_lifecycle_dates_are_utc_whatever_the_offset() -> None:
    local = datetime(2026, 11, 1, 10, 15, tzinfo=timezone(timedelta(hours=1)))
    cleanup, deletion = lifecycle_dates(local, 1, 2)
    assert cleanup.utcoffset() == timedelta(0) and deletion.utcoffset() == timedelta(0)
    assert cleanup == datetime(2026, 11, 2, 9, 15, tzinfo=UTC)
    assert deletion == datetime(2026, 11, 4, 9, 15, tzinfo=UTC)
    west = datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert lifecycle_dates(west, 0, 0) == (datetime(2027, 1, 1, 4, 30, tzinfo=UTC),) * 2


def test_lifecycle_dates_are_exact_days_across_dst() -> None:
    """Days of 24 hours from the instant, not calendar days in a local zone."""
    start = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    cleanup, deletion = lifecycle_dates(start, 1, 364)
    assert cleanup - start == timedelta(days=1)
    assert deletion - start == timedelta(days=365)


@pytest.mark.parametrize(("retention", "deletion_after"), [(0, 0), (0, 1), (90, 3560), (30, 30), (7, 10000)])
def test_lifecycle_date_offsets(retention: int, deletion_after: int) -> None:
    base = datetime(2025, 2, 28, 23, 59, 59, 999000, tzinfo=UTC)
    cleanup, deletion = lifecycle_dates(base, retention, deletion_after)
    assert cleanup - base == timedelta(days=retention)
    assert deletion - cleanup == timedelta(days=deletion_after)
    assert cleanup <= deletion


# --- anonymized_consumer -------------------------------------------------------------------------------------

def test_anonymized_consumer_removes_identity_and_address_details() -> None:
    consumer = stored_record()["consumer"]
    assert anonymized_consumer(consumer) == {"addresses": [
        {"country": "DE"},
        {"country": "AT"},
        {"country": "CH"},
    ]}


def test_the_rule_constants_match_the_contract() -> None:
    assert set(REMOVED_CONSUMER_FIELDS) == {"consumerId", "email"}
    assert set(KEPT_ADDRESS_FIELDS) == {"country"}


@pytest.mark.parametrize("field", [f for f in ADDRESS_FIELDS if f != "country"])
def test_each_personal_address_field_is_removed(field: str) -> None:
    address = {f: "x" for f in ADDRESS_FIELDS} | {"country": "DE"}
    result = anonymized_consumer({"addresses": [address]})
    assert field not in result["addresses"][0]
    assert result["addresses"][0] == {"country": "DE"}


def test_consumer_without_addresses_gets_none_added() -> None:
    assert anonymized_consumer({"consumerId": "c", "email": "a@b.example"}) == {}
    assert anonymized_consumer({"email": "a@b.example"}) == {}
    assert anonymized_consumer({}) == {}
    assert anonymized_consumer({"addresses": []}) == {"addresses": []}


def test_anonymized_consumer_does_not_touch_its_input() -> None:
    consumer = stored_record()["consumer"]
    before = copy.deepcopy(consumer)
    result = anonymized_consumer(consumer)
    assert consumer == before
    result["addresses"][0]["country"] = "FR"
    assert consumer["addresses"][0]["country"] == "DE"


# --- anonymize -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("actor_anonymization", [True, False])
def test_anonymize_exact_result(actor_anonymization: bool) -> None:
    record = stored_record(version=3)
    result = anonymize(record, NOW, actor_anonymization)
    expected = copy.deepcopy(record)
    expected["consumer"] = {"addresses": [{"country": "DE"},
                                          {"country": "AT"},
                                          {"country": "CH"}]}
    expected.update({"anonymized": True, "version": 4, "lastModified": NOW_TEXT})
    if actor_anonymization:
        expected["origin"] = {"type": "POS", "terminalId": "T-7"}
    assert record["origin"] == {"type": "POS", "terminalId": "T-7", "cashierId": "C-3"}
    assert result == expected


def test_actor_anonymization_removes_only_the_cashier() -> None:
    assert anonymize(stored_record(origin={"cashierId": "C-3"}), NOW, True)["origin"] == {}
    without = stored_record()
    del without["origin"]
    assert "origin" not in anonymize(without, NOW, True)


def test_anonymize_changes_nothing_else() -> None:
    record = stored_record()
    result = anonymize(record, NOW, False)
    assert result.keys() == record.keys()
    changed = {k for k in record if result[k] != record[k]}
    assert changed == {"consumer", "anonymized", "version", "lastModified"}
    for unchanged in ("id", "created", "gdprCleanupDate", "deletionDate", "orderRecordDate", "facilityRef",
                      "tenantOrderRecordId", "lineItems", "payments", "origin", "pricing", "customAttributes"):
        assert result[unchanged] == record[unchanged], unchanged


def test_anonymize_removes_every_piece_of_personal_data() -> None:
    record = stored_record()
    result = anonymize(record, NOW, True)
    text = repr(result)
    for personal in ("consumer-42", "jane.doe@example.com", "Jane", "Doe", "Hauptstr.", "10115", "Berlin",
                     "+49301234567", "2nd floor", "Max", "Muster", "80331", "München", "Zürich", "+43 1 234", "'Ms'"):
        assert personal not in text, personal


def test_anonymize_version_and_last_modified() -> None:
    record = stored_record(version=7, lastModified="2020-01-01T00:00:00.000Z")
    result = anonymize(record, datetime(2027, 3, 1, 9, 30, 15, 999999, tzinfo=timezone(timedelta(hours=1))), True)
    assert result["version"] == 8
    assert result["lastModified"] == "2027-03-01T08:30:15.999Z"  # UTC, milliseconds, truncated
    assert result["anonymized"] is True


def test_anonymize_does_not_mutate_its_input() -> None:
    record = stored_record()
    before = copy.deepcopy(record)
    result = anonymize(record, NOW, True)
    assert record == before
    assert record["anonymized"] is False and record["version"] == 1
    assert result is not record and result["consumer"] is not record["consumer"]
    result["consumer"]["addresses"][0]["country"] = "FR"
    assert record["consumer"]["addresses"][0]["country"] == "DE"


def test_anonymize_without_consumer_adds_none() -> None:
    record = stored_record()
    del record["consumer"]
    result = anonymize(record, NOW, False)
    assert "consumer" not in result
    assert result == {**record, "anonymized": True, "version": 2, "lastModified": NOW_TEXT}


def test_anonymize_consumer_without_addresses() -> None:
    record = stored_record(consumer={"consumerId": "c-1", "email": "x@y.example"})
    assert anonymize(record, NOW, True)["consumer"] == {}


def test_anonymize_result_is_stable_when_repeated() -> None:
    """A second anonymization removes nothing more; only the bookkeeping moves (the stores never repeat it)."""
    once = anonymize(stored_record(), NOW, True)
    later = NOW + timedelta(days=1)
    twice = anonymize(once, later, True)
    assert twice["consumer"] == once["consumer"]
    assert twice["version"] == once["version"] + 1
    assert {k: v for k, v in twice.items() if k not in ("version", "lastModified")} == {
        k: v for k, v in once.items() if k not in ("version", "lastModified")}


# --- due records, and what reads serve in their place --------------------------------------------------------

def test_due_from_the_cleanup_date_on_until_anonymized() -> None:
    record = stored_record(gdprCleanupDate="2026-12-30T12:00:00.000Z")
    assert not is_due(record, datetime(2026, 12, 30, 11, 59, 59, 999000, tzinfo=UTC))
    assert is_due(record, datetime(2026, 12, 30, 12, 0, tzinfo=UTC))
    assert not is_due({**record, "anonymized": True}, datetime(2027, 1, 1, tzinfo=UTC))


def test_cleaned_up_is_anonymization_at_the_cleanup_date() -> None:
    record = stored_record(gdprCleanupDate="2026-12-30T12:00:00.000Z")
    assert cleaned_up(record, True) == anonymize(record, datetime(2026, 12, 30, 12, 0, tzinfo=UTC), True)
    assert cleaned_up(record, True)["lastModified"] == "2026-12-30T12:00:00.000Z"
    assert "email" not in cleaned_up(record, False)["consumer"]
