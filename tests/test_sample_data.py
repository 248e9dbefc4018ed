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
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest

from app.records import RecordBuilder, RecordRejected
from app.settings import make_settings
from scripts import make_sample_data
from scripts.make_sample_data import generate_records

NOW = datetime(2025, 6, 1, tzinfo=UTC)
BUILDER = RecordBuilder(make_settings().gdpr)
TOP_LEVEL = {"orderRecordDate", "facilityRef", "lineItems", "tenantOrderRecordId", "consumer", "payments",
             "origin", "pricing", "customAttributes"}
LINE_ITEM = {"article", "quantity", "measurementUnitKey", "warranty", "returnPolicy", "customAttributes"}
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


def prices(item: dict[str, Any]) -> dict[tuple[str, str], str]:
    """A line's price attributes by (category, key)."""
    return {(a["category"], a["key"]): a["value"] for a in item["article"]["attributes"]
            if a.get("category") in ("basePrice", "discount", "tax", "surcharge")}


def rounded(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), ROUND_HALF_EVEN))


def test_same_seed_same_records_and_start_continues_the_stream() -> None:
    full = list(generate_records(12, seed=3, now=NOW))
    assert full == list(generate_records(12, seed=3, now=NOW))
    assert list(generate_records(5, seed=3, start=7, now=NOW)) == full[7:]
    assert full != list(generate_records(12, seed=4, now=NOW))


def test_every_record_is_valid_for_the_service(sample: list[dict[str, Any]]) -> None:
    for record in sample:
        try:
            built = BUILDER.build(record, "65a1b2c3d4e5f60718293a4b", NOW)
        except RecordRejected as rejected:
            pytest.fail(f"{record['tenantOrderRecordId']}: {rejected.errors}")
        assert built["anonymized"] is (datetime.fromisoformat(record["orderRecordDate"]) <= NOW - timedelta(days=90))


def test_records_follow_the_official_shape(sample: list[dict[str, Any]]) -> None:
    for record in sample:
        assert set(record) <= TOP_LEVEL and {"orderRecordDate", "facilityRef", "lineItems"} <= set(record)
        assert DATE.match(record["orderRecordDate"]), record["orderRecordDate"]
        assert 1 <= len(record["lineItems"]) <= 20
        currencies = {money["currency"] for money in monetary_values(record)}
        for item in record["lineItems"]:
            assert set(item) <= LINE_ITEM and item["quantity"] >= 1
            assert item["article"]["tenantArticleId"] and isinstance(item["article"]["title"], str)
            attributes = prices(item)
            assert int(attributes[("basePrice", "value")]) > 0
            currencies.add(attributes[("basePrice", "currency")])
            places = attributes.get(("basePrice", "decimalPlaces"))
            assert places is None or int(places) == DECIMALS[attributes[("basePrice", "currency")]]
            if "warranty" in item:
                assert DATE.match(item["warranty"]["warrantyStartDate"])
                assert item["warranty"]["warrantyPeriod"] in {"P1Y", "P2Y", "P3Y"}
        assert len(currencies) == 1, currencies  # a till takes one currency
        for money in monetary_values(record):
            assert isinstance(money["value"], int)
            assert money.get("decimalPlaces", DECIMALS[money["currency"]]) == DECIMALS[money["currency"]]
        for payment in record["payments"]:
            assert payment["status"] in STATUSES and payment["paymentMethod"] and payment["receiptNumber"]
        assert record["origin"]["type"] == "POS" and record["origin"]["terminalId"] and record["origin"]["cashierId"]
        for tax in record.get("pricing", {}).get("taxes", []):
            assert 0 < tax["ratePercent"] < 100 and tax["type"] in ("VAT", "SALES_TAX")
        consumer = record.get("consumer")
        if consumer:
            assert 1 <= len(consumer["addresses"]) <= 3 and "@" in consumer["email"]
            assert all(re.fullmatch(r"[A-Z]{2}", a["country"]) for a in consumer["addresses"])
        assert not {"id", "version", "created", "lastModified", "anonymized"} & set(record)
        assert "total" not in record.get("pricing", {})
        assert not any("id" in item for item in record["lineItems"])


def test_payments_cover_the_total_the_service_computes(sample: list[dict[str, Any]]) -> None:
    """The total by REFERENCE.md's formulas from the price attributes, order discounts and fees (prices are gross:
    taxes are contained, never added) is what the valid payments add up to, and each tax is contained in it."""
    for record in sample:
        base = 0
        for item in record["lineItems"]:
            attributes = prices(item)
            subtotal = rounded(Decimal(str(item["quantity"])) * int(attributes[("basePrice", "value")]))
            if ("discount", "value") in attributes:
                discount = int(attributes[("discount", "value")])
            else:
                discount = rounded(subtotal * Decimal(attributes.get(("discount", "percentage"), "0")) / 100)
            base += subtotal - discount + int(attributes.get(("surcharge", "value"), "0"))
        pricing = record.get("pricing", {})
        total = base + sum(f["value"]["value"] for f in pricing.get("fees", []))
        for discount in pricing.get("discounts", []):
            total -= discount["value"]["value"] if "value" in discount else rounded(
                base * Decimal(discount["percentage"]) / 100)
        paid = [p["value"]["value"] for p in record["payments"] if p["status"] not in ("FAILED", "CANCELLED")]
        assert sum(paid) == total, record["tenantOrderRecordId"]
        for tax in pricing.get("taxes", []):
            assert tax["value"]["value"] + tax["taxableValue"]["value"] == total
        line_taxes = [int(prices(i)[("tax", "value")]) for i in record["lineItems"] if ("tax", "value") in prices(i)]
        assert not (line_taxes and pricing.get("taxes")), "a record's tax is given per line or per order, not both"
        assert sum(line_taxes) <= total


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
    assert 0.1 < sum("consumer" in r for r in sample) / len(sample) < 0.3  # a few loyalty-card customers
    quantities = [i["quantity"] for r in sample for i in r["lineItems"]]
    assert any(isinstance(q, float) and not q.is_integer() for q in quantities)  # weighed goods
    categories = Counter(a.get("category") for r in sample for i in r["lineItems"] for a in i["article"]["attributes"])
    assert {"basePrice", "discount", "tax", "surcharge", "descriptive"} <= set(categories)
    flat = json.dumps(sample)
    for feature in ("keyLocalized", "valueLocalized", "nameLocalized", "returnWindowEndDate", '"PERCENTAGE"',
                    '"ABSOLUTE"', '"fees"', '"taxes"', "taxValue", "taxableValue", "province", "terminalId"):
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
    assert make_sample_data.main(["--count", "3", "--now", "2025-06-01T00:00:00+00:00", "--out", "-"]) == 0
    assert [json.loads(x)["tenantOrderRecordId"] for x in capsysbinary.readouterr().out.splitlines()] == [
        "legacy-0-0", "legacy-0-1", "legacy-0-2"]


def test_cli_writes_by_default_where_git_ignores_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ignored = (Path(__file__).parent.parent / ".gitignore").read_text().splitlines()
    assert make_sample_data.DEFAULT_OUT.split("/")[0] + "/" in ignored
    monkeypatch.chdir(tmp_path)
    assert make_sample_data.main(["--count", "4", "--now", "2025-06-01"]) == 0
    data = gzip.decompress((tmp_path / make_sample_data.DEFAULT_OUT).read_bytes())
    assert [json.loads(line) for line in data.splitlines()] == list(generate_records(4, now=NOW))


def test_fast_enough_for_100k_records() -> None:
    started = time.perf_counter()
    for _ in generate_records(5000, seed=1, now=NOW):
        pass
    assert time.perf_counter() - started < 5  # about 0.3 s here: 100,000 take seconds, not minutes
