"""Tests of the synthetic order-record generator (scripts.make_sample_data)."""

from __future__ import annotations

import gzip
import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scripts import make_sample_data
from scripts.make_sample_data import generate_records

NOW = datetime(2025, 6, 1, tzinfo=UTC)
TOP_LEVEL = {"orderRecordDate", "facilityRef", "lineItems", "tenantOrderRecordId", "consumer", "payments",
             "origin", "pricing", "customAttributes"}
LINE_ITEM = {"article", "quantity", "measurementUnitKey", "price", "deposit", "warranty", "returnPolicy",
             "customAttributes"}
DECIMALS = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "SEK": 2, "DKK": 2, "JPY": 0, "KWD": 3}
STATUSES = {"COMPLETED", "FAILED", "CANCELLED", "REFUNDED", "PARTIALLY_REFUNDED"}
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


@pytest.fixture(scope="module")
def sample() -> list[dict[str, Any]]:
    return list(generate_records(3000, seed=11, now=NOW))


def monetary_values(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "currency" in node and "value" in node:
            yield node
        else:
            for value in node.values():
                yield from monetary_values(value)
    elif isinstance(node, list):
        for value in node:
            yield from monetary_values(value)


def test_same_seed_same_records_and_start_continues_the_stream() -> None:
    full = list(generate_records(12, seed=3, now=NOW))
    assert full == list(generate_records(12, seed=3, now=NOW))
    assert list(generate_records(5, seed=3, start=7, now=NOW)) == full[7:]
    assert full != list(generate_records(12, seed=4, now=NOW))


def test_records_follow_the_creation_shape(sample: list[dict[str, Any]]) -> None:
    for record in sample:
        assert set(record) <= TOP_LEVEL and {"orderRecordDate", "facilityRef", "lineItems"} <= set(record)
        assert DATE.match(record["orderRecordDate"]), record["orderRecordDate"]
        assert 1 <= len(record["lineItems"]) <= 20
        for item in record["lineItems"]:
            assert set(item) <= LINE_ITEM and isinstance(item["quantity"], int) and item["quantity"] >= 1
            assert item["article"]["tenantArticleId"] and isinstance(item["article"]["title"], str)
            if "warranty" in item:
                assert DATE.match(item["warranty"]["warrantyStartDate"])
                assert item["warranty"]["warrantyPeriod"] in {"P1Y", "P2Y", "P3Y"}
        currencies = {money["currency"] for money in monetary_values(record)}
        assert len(currencies) == 1, currencies  # one currency per record
        for money in monetary_values(record):
            assert isinstance(money["value"], int)
            assert money.get("decimalPlaces", DECIMALS[money["currency"]]) == DECIMALS[money["currency"]]
        for payment in record["payments"]:
            assert payment["status"] in STATUSES and payment["method"] and DATE.match(payment["paidAt"])
        for tax in record.get("pricing", {}).get("taxes", []):
            assert 0 <= tax["rate"] <= 100 and isinstance(tax["includedInPrice"], bool)
        consumer = record.get("consumer")
        if consumer:
            assert 1 <= len(consumer["addresses"]) <= 3 and "@" in consumer["email"]
            assert all(re.fullmatch(r"[A-Z]{2}", a["country"]) for a in consumer["addresses"])
        assert not {"id", "version", "created", "lastModified", "anonymized"} & set(record)
        assert "priceBreakdown" not in record.get("pricing", {})


def test_payments_cover_the_computed_total(sample: list[dict[str, Any]]) -> None:
    for record in sample:
        items = record["lineItems"]
        total = sum(i["quantity"] * (i["price"]["value"] + i.get("deposit", {}).get("value", 0))
                    for i in items)
        pricing = record.get("pricing", {})
        total -= sum(d["amount"]["value"] for d in pricing.get("discounts", []))
        total += sum(f["amount"]["value"] for f in pricing.get("fees", []))
        total += sum(t["amount"]["value"] for t in pricing.get("taxes", []) if not t["includedInPrice"])
        paid = [p for p in record["payments"] if p["status"] not in ("FAILED", "CANCELLED")]
        if paid:
            assert sum(p["amount"]["value"] for p in paid) == total


def test_realistic_distribution(sample: list[dict[str, Any]]) -> None:
    sizes = [len(r["lineItems"]) for r in sample]
    assert 3 <= statistics.median(sizes) <= 5 and max(sizes) >= 14
    currencies = Counter(next(monetary_values(r))["currency"] for r in sample)
    assert set(DECIMALS) == set(currencies) and currencies.most_common(1)[0][0] == "EUR"
    assert len({r["facilityRef"] for r in sample}) == 20
    assert len({r["tenantOrderRecordId"] for r in sample}) == len(sample)
    dates = [datetime.fromisoformat(r["orderRecordDate"]) for r in sample]
    assert all(NOW - timedelta(days=9 * 365) < d < NOW for d in dates)  # inside the 3650-day retention
    assert sum(d > NOW - timedelta(days=731) for d in dates) / len(dates) > 0.7  # mostly recent
    assert min(dates) < NOW - timedelta(days=5 * 365)  # but spread over years
    statuses = Counter(p["status"] for r in sample for p in r["payments"])
    assert set(statuses) == STATUSES
    flat = json.dumps(sample)
    for feature in ("keyLocalized", "valueLocalized", "deposit", "returnWindowEndDate", "discounts", "fees",
                    "refundedAmount", "phoneNumbers", "terminalId"):
        assert feature in flat, feature


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz"])
def test_cli_writes_json_lines(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    argv = ["--count", "25", "--seed", "5", "--now", "2025-06-01", "--out", str(target)]
    assert make_sample_data.main(argv) == 0
    data = gzip.decompress(target.read_bytes()) if name.endswith(".gz") else target.read_bytes()
    lines = [json.loads(line) for line in data.splitlines()]
    assert lines == list(generate_records(25, seed=5, now=NOW))


def test_cli_writes_to_stdout(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert make_sample_data.main(["--count", "3", "--now", "2025-06-01T00:00:00+00:00"]) == 0
    assert [json.loads(x)["tenantOrderRecordId"] for x in capsysbinary.readouterr().out.splitlines()] == [
        "legacy-0-0", "legacy-0-1", "legacy-0-2"]


def test_fast_enough_for_100k_records() -> None:
    started = time.perf_counter()
    for _ in generate_records(5000, seed=1, now=NOW):
        pass
    assert time.perf_counter() - started < 5  # about 0.3 s here: 100,000 take seconds, not minutes
