"""Generate realistic synthetic OrderRecordForCreation records (the official shape) as JSON Lines."""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from random import Random
from typing import Any, BinaryIO

import orjson
from tqdm import tqdm

from app.domain.currencies import minor_unit
from scripts.sample_catalog import (
    ASCII,
    CATALOG,
    COLORS,
    COUNTRIES,
    DEPOSIT_MINOR,
    EUR_RATES,
    FACILITIES,
    FACILITY_WEIGHTS,
    FIRST,
    LAST,
    STREETS,
    US_SALES_TAX,
)

DAY = 86400.0
DEFAULT_OUT = "data/sample.jsonl.gz"  # data/ is git-ignored


def minor(amount: Decimal) -> int:
    """An amount rounded half to even to the minor unit, as the service's totals round."""
    return int(amount.quantize(Decimal(1), ROUND_HALF_EVEN))


def unit_price(rng: Random, eur: float, currency: str) -> int:
    """About `eur` euros in `currency`'s minor units, rounded to a shop-like price."""
    dp = minor_unit(currency)
    value = max(1, round(eur * EUR_RATES[currency] * 10**dp))
    if dp == 0:
        return max(10, value // 10 * 10)
    if value > 10**dp:
        return value // 10**dp * 10**dp + rng.choice((0, 49, 95, 99)) * 10 ** (dp - 2)
    return value


def mv(value: int, currency: str, rng: Random) -> dict[str, Any]:
    """A MonetaryValue; decimalPlaces left to the service's default half of the time."""
    out: dict[str, Any] = {"value": value, "currency": currency}
    if rng.random() < 0.5:
        out["decimalPlaces"] = minor_unit(currency)
    return out


def attr(category: str, key: str, value: object) -> dict[str, Any]:
    return {"category": category, "key": key, "value": str(value)}


def make_date(rng: Random, now: float, country: str) -> datetime:
    roll = rng.random()
    low, high = (0.01, 730) if roll < 0.75 else (730, 2190) if roll < 0.95 else (2190, 3285)
    age = rng.uniform(low, high)
    ts = int(now - age * DAY)
    _, _, winter, summer = COUNTRIES[country]
    month = time.gmtime(ts).tm_mon
    return datetime.fromtimestamp(ts, timezone(timedelta(hours=summer if 4 <= month <= 10 else winter)))


def line_item(rng: Random, when: datetime, country: str, currency: str) -> tuple[dict[str, Any], dict[str, int]]:
    """A line and its amounts (subtotal, discount, surcharge) as the service's totals read its attributes."""
    category, code, titles, (low, high), unit, warranty, returnable = rng.choice(CATALOG)
    index = rng.randrange(len(titles))
    article: dict[str, Any] = {"tenantArticleId": f"{code}-{index:02d}{rng.randrange(400):04d}",
                               "title": titles[index]}
    attributes = [{"key": "category", "value": category, "category": "descriptive", "priority": 1}]
    if category == "apparel":
        color = rng.choice(COLORS)
        attributes.append({"key": "size", "value": rng.choice(["XS", "S", "M", "L", "XL"]),
                           "keyLocalized": {"de_DE": "Größe", "en_US": "Size"}})
        attributes.append({"key": "color", "value": color[0], "type": "STRING",
                           "keyLocalized": {"de_DE": "Farbe", "en_US": "Colour"},
                           "valueLocalized": {"de_DE": color[1], "en_US": color[0]}})
    elif category == "electronics":
        attributes.append({"key": "brand", "value": rng.choice(["Sonora", "Voltix", "Nordlicht", "Kaizen"])})
    price = unit_price(rng, rng.uniform(low, high), currency)
    attributes += [attr("basePrice", "value", price), attr("basePrice", "currency", currency)]
    if rng.random() < 0.5:
        attributes.append(attr("basePrice", "decimalPlaces", minor_unit(currency)))
    if unit == "kg":
        quantity: float = rng.choice((1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.2))
    else:
        quantity = rng.choices((1, 2, 3, 4, 6, 12), (70, 17, 6, 3, 3, 1))[0]
    amounts = {"subtotal": minor(Decimal(str(quantity)) * price), "discount": 0, "surcharge": 0}
    if rng.random() < 0.08:  # a markdown, for the whole line: a percentage or an amount
        if rng.random() < 0.5:
            attributes.append(attr("discount", "percentage", 20))
            amounts["discount"] = minor(Decimal(amounts["subtotal"]) * 20 / 100)
        else:
            amounts["discount"] = amounts["subtotal"] // 4
            attributes.append(attr("discount", "value", amounts["discount"]))
    if unit == "bottle" and country in DEPOSIT_MINOR:
        amounts["surcharge"] = int(quantity) * DEPOSIT_MINOR[country]
        attributes.append(attr("surcharge", "value", amounts["surcharge"]))
    article["attributes"] = attributes
    item: dict[str, Any] = {"article": article, "quantity": quantity, "measurementUnitKey": unit}
    if warranty:
        period = "P3Y" if rng.random() < 0.1 else "P1Y" if country in ("US", "JP") else "P2Y"
        item["warranty"] = {"warrantyStartDate": when.isoformat(timespec="seconds"), "warrantyPeriod": period}
    if returnable:
        end = (when + timedelta(days=rng.choice((14, 30, 60)))).isoformat(timespec="seconds")
        item["returnPolicy"] = {"isReturnable": True, "returnWindowEndDate": end}
    elif rng.random() < 0.2:
        item["returnPolicy"] = {"isReturnable": False}
    if rng.random() < 0.02:
        item["customAttributes"] = {"scannedBy": rng.choice(["hand-scanner", "self-checkout", "till"])}
    return item, amounts


def consumer(rng: Random, country: str) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    addresses = []
    for i in range(rng.choices((1, 2, 3), (70, 22, 8))[0]):
        where = country if i == 0 or rng.random() < 0.8 else rng.choice(list(COUNTRIES))
        address: dict[str, Any] = {"firstName": first, "lastName": last, "street": rng.choice(STREETS),
                                   "houseNumber": str(rng.randint(1, 220)),
                                   "postalCode": f"{rng.randint(1000, 99999):05d}",
                                   "city": rng.choice(FACILITIES)[0].title(), "country": where}
        if where == "US":
            address["province"] = rng.choice(["NY", "IL", "CA"])
        if rng.random() < 0.05:
            address["companyName"] = f"{last} GmbH"
            address["additionalAddressInfo"] = "c/o reception"
        addresses.append(address)
    user = f"{first}.{last}".lower().translate(ASCII)
    tld = "com" if country in ("US", "JP", "KW") else country.lower()
    email = f"{user}{rng.randrange(100)}@example.{tld}"
    return {"consumerId": f"cust-{rng.randrange(10**7):07d}", "email": email, "addresses": addresses}


def payments(rng: Random, total: int, tax: int, currency: str, receipt: str) -> list[dict[str, Any]]:
    """Payments whose COMPLETED, REFUNDED and PARTIALLY_REFUNDED values add up to `total`."""
    def pay(method: str, amount: int, status: str = "COMPLETED") -> dict[str, Any]:
        out = {"paymentMethod": method, "value": mv(amount, currency, rng), "status": status,
               "transactionId": f"txn-{rng.getrandbits(64):016x}", "receiptNumber": receipt}
        if tax and amount == total and rng.random() < 0.3:
            out["taxValue"] = mv(tax, currency, rng)
        return out
    method = rng.choice(["CARD", "CARD", "CASH", "MOBILE_WALLET"])
    roll = rng.random()
    if roll < 0.85 or total <= 1:
        return [pay(method, total)]
    if roll < 0.90:
        gift = rng.randint(1, total - 1)
        return [pay("GIFT_CARD", gift), pay(method, total - gift)]
    if roll < 0.94:
        return [pay("CARD", total, "FAILED"), pay("CASH", total)]
    if roll < 0.97:
        return [pay(method, total, "REFUNDED")]
    if roll < 0.99:
        return [pay(method, total, "PARTIALLY_REFUNDED")]
    return [pay(method, total, "CANCELLED"), pay("CASH", total)]


def order_pricing(rng: Random, base: int, currency: str) -> tuple[dict[str, Any], int, int]:
    """Order-level discounts and fees on `base` (subtotal - line discounts + surcharges): (pricing, discount, fees)."""
    pricing: dict[str, Any] = {}
    discount = fees = 0
    roll = rng.random()
    if roll < 0.12 and base > 0:
        discount = minor(Decimal(base) * 10 / 100)
        entry: dict[str, Any] = {"type": "PERCENTAGE", "percentage": 10, "name": "10% off voucher",
                                 "nameLocalized": {"de_DE": "10 % Rabatt"}, "code": f"V{rng.randrange(10**6):06d}"}
        if rng.random() < 0.5:  # else left to the service, which computes the same
            entry["value"] = mv(discount, currency, rng)
        pricing["discounts"] = [entry]
    elif roll < 0.18:
        discount = min(base // 2, unit_price(rng, 5, currency))
        pricing["discounts"] = [{"type": "ABSOLUTE", "name": "Loyalty reward", "context": "loyalty",
                                 "tenantDiscountId": "LOYALTY-5", "value": mv(discount, currency, rng)}]
    if rng.random() < 0.1:
        fees = unit_price(rng, 0.2, currency)
        pricing["fees"] = [{"name": "Carrier bag", "value": mv(fees, currency, rng)}]
    return pricing, discount, fees


def make_record(seed: int, n: int, now: float) -> dict[str, Any]:
    """One POS sale. Prices are gross, as the service's totals read them: every tax is contained in them."""
    rng = Random(seed * 1_000_003 + n)
    city, country, _ = rng.choices(FACILITIES, FACILITY_WEIGHTS)[0]
    currency, vat = COUNTRIES[country][0], COUNTRIES[country][1]
    rate = US_SALES_TAX[city] if vat is None else vat
    when = make_date(rng, now, country)
    count = rng.choices((1, 2, 3, 4, 5, 6, 8, 10, 14, 20), (6, 9, 20, 24, 18, 9, 7, 4, 2, 1))[0]
    lines = [line_item(rng, when, country, currency) for _ in range(count)]
    items = [item for item, _ in lines]
    base = sum(a["subtotal"] - a["discount"] + a["surcharge"] for _, a in lines)
    pricing, discount, fees = order_pricing(rng, base, currency)
    total = base - discount + fees
    tax = minor(Decimal(total) * Decimal(str(rate)) / (100 + Decimal(str(rate))))
    if rate and rng.random() < 0.3:  # the tax per line instead of per order
        for item, amounts in lines:
            line_total = Decimal(amounts["subtotal"] - amounts["discount"] + amounts["surcharge"])
            line_tax = minor(line_total * Decimal(str(rate)) / (100 + Decimal(str(rate))))
            item["article"]["attributes"].append(attr("tax", "value", line_tax))
    elif rate:
        pricing["taxes"] = [{"type": "VAT" if vat else "SALES_TAX", "scope": "ORDER", "ratePercent": rate,
                             "value": mv(tax, currency, rng), "taxableValue": mv(total - tax, currency, rng)}]
    record: dict[str, Any] = {"tenantOrderRecordId": f"legacy-{seed}-{n}",
                              "orderRecordDate": when.isoformat(timespec="seconds"),
                              "facilityRef": f"store-{city}-01", "lineItems": items}
    if rng.random() < 0.2:  # a loyalty-card customer
        record["consumer"] = consumer(rng, country)
    receipt = f"R-{city[:3].upper()}-{rng.randrange(10**8):08d}"
    record["payments"] = payments(rng, total, tax, currency, receipt)
    record["origin"] = {"type": "POS", "terminalId": f"POS-{city[:3].upper()}-{rng.randint(1, 12):02d}",
                        "cashierId": f"C{rng.randint(100, 999)}"}
    if pricing:
        record["pricing"] = pricing
    record["customAttributes"] = {"legacySystem": rng.choice(["kasse-v2", "pos-classic"]), "channel": "STORE",
                                  "importSeed": seed}
    return record


def generate_records(count: int, seed: int = 0, start: int = 0, *,
                     now: datetime | None = None) -> Iterator[dict]:
    """Yield records start..start+count-1 for `seed`; `now` (default: today 00:00 UTC) anchors the dates."""
    anchor = now or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    now_ts = anchor.timestamp()
    for n in range(start, start + count):
        yield make_record(seed, n, now_ts)


def write_records(out: BinaryIO, count: int, seed: int, start: int, now: datetime | None,
                  progress: bool = True) -> None:
    """Write the records as JSON Lines, with a progress bar on standard error when that is a terminal."""
    dumps = orjson.dumps
    with tqdm(total=count, unit=" rec", unit_scale=True, file=sys.stderr, dynamic_ncols=True,
              disable=None if progress else True) as bar:
        for n, record in enumerate(generate_records(count, seed, start, now=now), 1):
            out.write(dumps(record) + b"\n")
            if n % 1000 == 0:
                bar.update(1000)
        bar.update(count - bar.n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, required=True, help="number of records")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same records)")
    parser.add_argument("--start", type=int, default=0, help="index of the first record")
    parser.add_argument("--now", type=datetime.fromisoformat, help="anchor date (default: today, UTC)")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help=f"output file (.gz: gzip) or - for stdout (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    now = args.now if args.now is None or args.now.tzinfo else args.now.replace(tzinfo=UTC)
    if args.out == "-":
        try:
            write_records(sys.stdout.buffer, args.count, args.seed, args.start, now)
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # e.g. piped into `head`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
    else:
        started = time.monotonic()
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) \
                if args.out.endswith(".gz") else raw as out:
            write_records(out, args.count, args.seed, args.start, now)
        print(f"wrote {args.count:,} records to {args.out} ({os.path.getsize(args.out) / 2**20:,.1f} MiB) in "
              f"{time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
