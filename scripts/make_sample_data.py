"""Generate realistic synthetic OrderRecordForCreation records as JSON Lines."""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from random import Random
from typing import Any, BinaryIO

import orjson
from tqdm import tqdm

from app.domain.money import minor_unit

# currency -> units per EUR (decimal places come from the service's own ISO 4217 table)
EUR_RATES = {"EUR": 1.0, "USD": 1.1, "GBP": 0.85, "CHF": 0.95, "SEK": 11.5, "DKK": 7.45, "JPY": 160.0, "KWD": 0.33}
# country -> (currency, VAT rate (None: US sales tax, not included), winter UTC offset, summer offset, weight)
COUNTRIES = {"DE": ("EUR", 19.0, 1, 2), "AT": ("EUR", 20.0, 1, 2), "NL": ("EUR", 21.0, 1, 2),
             "FR": ("EUR", 20.0, 1, 2), "GB": ("GBP", 20.0, 0, 1), "US": ("USD", None, -5, -4),
             "CH": ("CHF", 8.1, 1, 2), "SE": ("SEK", 25.0, 1, 2), "DK": ("DKK", 25.0, 1, 2),
             "JP": ("JPY", 10.0, 9, 9), "KW": ("KWD", 0.0, 3, 3)}
FACILITIES = [("berlin", "DE", 8), ("hamburg", "DE", 6), ("munich", "DE", 6), ("cologne", "DE", 4),
              ("frankfurt", "DE", 4), ("vienna", "AT", 3), ("amsterdam", "NL", 3), ("paris", "FR", 3),
              ("london", "GB", 4), ("manchester", "GB", 2), ("newyork", "US", 4), ("chicago", "US", 2),
              ("sanfrancisco", "US", 2), ("zurich", "CH", 2), ("geneva", "CH", 1), ("stockholm", "SE", 2),
              ("copenhagen", "DK", 1), ("tokyo", "JP", 2), ("osaka", "JP", 1), ("kuwaitcity", "KW", 1)]
FACILITY_WEIGHTS = [w for _, _, w in FACILITIES]
US_SALES_TAX = {"newyork": 8.875, "chicago": 10.25, "sanfrancisco": 8.625}
DEPOSIT_MINOR = {"DE": 25, "AT": 25, "NL": 15, "SE": 100, "DK": 150}  # per bottle, local minor units
# category -> (code, titles, EUR price range, unit, warranty?, returnable?)
CATALOG = [
    ("grocery", "GRC", ["Sparkling Water 1L", "Apple Juice 1L", "Craft Beer 0.5L", "Cola 1.5L"], (0.6, 4),
     "bottle", False, False),
    ("grocery", "GRC", ["Organic Bananas", "Whole Milk 1L", "Sourdough Bread", "Espresso Beans 500g",
                        "Cheddar 200g", "Basmati Rice 1kg"], (0.9, 12), "pcs", False, False),
    ("apparel", "APP", ["Slim Fit Jeans", "Merino Sweater", "Rain Jacket", "Cotton T-Shirt", "Running Socks",
                        "Leather Belt"], (9, 180), "pcs", False, True),
    ("electronics", "ELE", ["Wireless Earbuds", "USB-C Charger 65W", "Smart Watch", "Bluetooth Speaker",
                            "4K Monitor 27\"", "Mechanical Keyboard"], (15, 700), "pcs", True, True),
    ("home", "HOM", ["Ceramic Mug", "Bath Towel", "LED Bulb E27", "Scented Candle", "Cast Iron Pan"],
     (3, 90), "pcs", False, True),
    ("beauty", "BEA", ["Face Cream 50ml", "Shampoo 250ml", "Sunscreen SPF50", "Lip Balm"], (2, 45), "pcs",
     False, False),
]
COLORS = [("black", "schwarz"), ("navy", "marineblau"), ("grey", "grau"), ("red", "rot"), ("green", "grün")]
FIRST = ["Anna", "Lukas", "Mia", "Jonas", "Sofia", "Noah", "Emma", "Liam", "Lea", "Jürgen", "Chloé", "Oliver",
         "Yuki", "Fatima", "Lars", "Olivia", "James", "Hiro", "Ingrid", "Mateo"]
LAST = ["Müller", "Schmidt", "Meyer", "Smith", "Johnson", "Dubois", "de Vries", "Andersson", "Tanaka",
        "Al-Sabah", "Huber", "Brown", "Rossi", "Nielsen", "Weber", "Garcia", "Sato", "Fischer"]
STREETS = ["Hauptstraße", "Main Street", "Bahnhofstraße", "High Street", "Kungsgatan", "Rue de Rivoli",
           "Prinsengracht", "Broadway", "Ringstraße", "Elm Avenue"]
ASCII = str.maketrans({"ü": "ue", "ö": "oe", "ä": "ae", "é": "e", "ß": "ss", " ": "", "-": ""})
DAY = 86400.0


def money(rng: Random, eur: float, currency: str) -> dict[str, Any]:
    """A MonetaryValue worth about `eur` euros, rounded to a shop-like price in minor units."""
    dp, rate = minor_unit(currency), EUR_RATES[currency]
    value = max(1, round(eur * rate * 10**dp))
    if dp == 0:
        value = max(10, value // 10 * 10)
    elif value > 10**dp:
        value = value // 10**dp * 10**dp + rng.choice((0, 49, 95, 99)) * 10 ** (dp - 2)
    return mv(value, currency, rng)


def mv(value: int, currency: str, rng: Random) -> dict[str, Any]:
    out: dict[str, Any] = {"value": value, "currency": currency}
    if rng.random() < 0.5:
        out["decimalPlaces"] = minor_unit(currency)
    return out


def make_date(rng: Random, now: float, country: str) -> datetime:
    roll = rng.random()
    low, high = (0.01, 730) if roll < 0.75 else (730, 2190) if roll < 0.95 else (2190, 3285)
    age = rng.uniform(low, high)
    ts = int(now - age * DAY)
    _, _, winter, summer = COUNTRIES[country]
    month = time.gmtime(ts).tm_mon
    return datetime.fromtimestamp(ts, timezone(timedelta(hours=summer if 4 <= month <= 10 else winter)))


def line_item(rng: Random, when: datetime, country: str, currency: str) -> dict[str, Any]:
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
    if rng.random() < 0.85:
        article["attributes"] = attributes
    quantity = rng.choices((1, 2, 3, 4, 6, 12), (70, 17, 6, 3, 3, 1))[0]
    item: dict[str, Any] = {"article": article, "quantity": quantity, "measurementUnitKey": unit,
                            "price": money(rng, rng.uniform(low, high), currency)}
    if unit == "bottle" and country in DEPOSIT_MINOR:
        item["deposit"] = mv(DEPOSIT_MINOR[country], currency, rng)
    if warranty:
        period = "P3Y" if rng.random() < 0.1 else "P1Y" if country in ("US", "JP") else "P2Y"
        item["warranty"] = {"warrantyStartDate": when.isoformat(timespec="seconds"), "warrantyPeriod": period}
    if returnable:
        end = (when + timedelta(days=rng.choice((14, 30, 60)))).isoformat(timespec="seconds")
        item["returnPolicy"] = {"isReturnable": True, "returnWindowEndDate": end}
    elif rng.random() < 0.2:
        item["returnPolicy"] = {"isReturnable": False}
    if rng.random() < 0.01:  # a returned item booked on the same receipt
        item["quantity"] = 1
        item["price"]["value"] = -item["price"]["value"]
        item["customAttributes"] = {"returnReason": rng.choice(["defective", "wrong size", "changed mind"])}
    return item


def consumer(rng: Random, country: str) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    addresses = []
    for i in range(rng.choices((1, 2, 3), (70, 22, 8))[0]):
        phone = f"+{rng.randint(1, 99)} {rng.randint(10**8, 10**9)}"
        where = country if i == 0 or rng.random() < 0.8 else rng.choice(list(COUNTRIES))
        address: dict[str, Any] = {"addressType": "POSTAL_ADDRESS" if i == 0 else "INVOICE_ADDRESS",
                                   "salutation": rng.choice(["Mr", "Ms", "Mx"]), "firstName": first,
                                   "lastName": last, "street": rng.choice(STREETS),
                                   "houseNumber": str(rng.randint(1, 220)),
                                   "postalCode": f"{rng.randint(1000, 99999):05d}",
                                   "city": rng.choice(FACILITIES)[0].title(), "country": where,
                                   "phoneNumbers": [{"value": phone, "type": rng.choice(["MOBILE", "HOME"])}]}
        if rng.random() < 0.05:
            address["companyName"] = f"{last} GmbH"
            address["additionalAddressInfo"] = "c/o reception"
        addresses.append(address)
    user = f"{first}.{last}".lower().translate(ASCII)
    tld = "com" if country in ("US", "JP", "KW") else country.lower()
    email = f"{user}{rng.randrange(100)}@example.{tld}"
    return {"consumerId": f"cust-{rng.randrange(10**7):07d}", "email": email, "addresses": addresses}


def payments(rng: Random, total: int, currency: str, when: datetime, online: bool) -> list[dict[str, Any]]:
    def pay(method: str, amount: int, status: str = "COMPLETED", refunded: int | None = None) -> dict:
        out = {"method": method, "amount": mv(amount, currency, rng), "status": status,
               "transactionId": f"txn-{rng.getrandbits(64):016x}",
               "paidAt": (when + timedelta(seconds=rng.randint(1, 300))).isoformat(timespec="seconds")}
        if refunded is not None:
            out["refundedAmount"] = mv(refunded, currency, rng)
        return out
    methods = ["CARD", "PAYPAL", "INVOICE"] if online else ["CARD", "CARD", "CASH", "MOBILE_WALLET"]
    method = rng.choice(methods)
    roll = rng.random()
    if roll < 0.85 or total <= 1:
        return [pay(method, total)]
    if roll < 0.90:
        gift = rng.randint(1, total - 1)
        return [pay("GIFT_CARD", gift), pay(method, total - gift)]
    if roll < 0.94:
        return [pay("CARD", total, "FAILED"), pay("CASH" if not online else "PAYPAL", total)]
    if roll < 0.97:
        return [pay(method, total, "REFUNDED", total)]
    if roll < 0.99:
        return [pay(method, total, "PARTIALLY_REFUNDED", rng.randint(1, total - 1))]
    return [pay(method, total, "CANCELLED")]


def make_record(seed: int, n: int, now: float) -> dict[str, Any]:
    rng = Random(seed * 1_000_003 + n)
    city, country, _ = rng.choices(FACILITIES, FACILITY_WEIGHTS)[0]
    currency, vat = COUNTRIES[country][0], COUNTRIES[country][1]
    when = make_date(rng, now, country)
    online = rng.random() < 0.2
    count = rng.choices((1, 2, 3, 4, 5, 6, 8, 10, 14, 20), (6, 9, 20, 24, 18, 9, 7, 4, 2, 1))[0]
    items = [line_item(rng, when, country, currency) for _ in range(count)]
    subtotal = sum(i["quantity"] * i["price"]["value"] for i in items)
    deposits = sum(i["quantity"] * i["deposit"]["value"] for i in items if "deposit" in i)
    pricing: dict[str, Any] = {}
    discount = round(subtotal * 0.1) if subtotal > 0 and rng.random() < 0.2 else 0
    fee = money(rng, rng.choice((0.2, 4.9)), currency) if rng.random() < 0.1 else None
    if discount:
        pricing["discounts"] = [{"type": "COUPON", "description": "10% off voucher",
                                 "amount": mv(discount, currency, rng)}]
    if fee:
        pricing["fees"] = [{"type": "SERVICE", "description": "Carrier bag or delivery", "amount": fee}]
    net = subtotal - discount + (fee["value"] if fee else 0)
    extra_tax = 0
    if vat is None:
        rate = US_SALES_TAX[city]
        extra_tax = round(net * rate / 100)
        pricing["taxes"] = [{"type": "SALES_TAX", "rate": rate, "amount": mv(extra_tax, currency, rng),
                             "includedInPrice": False}]
    elif vat:
        tax = mv(round(net * vat / (100 + vat)), currency, rng)
        pricing["taxes"] = [{"type": "VAT", "rate": vat, "amount": tax, "includedInPrice": True}]
    record: dict[str, Any] = {"tenantOrderRecordId": f"legacy-{seed}-{n}",
                              "orderRecordDate": when.isoformat(timespec="seconds"),
                              "facilityRef": f"store-{city}-01", "lineItems": items}
    if online or rng.random() < 0.6:
        record["consumer"] = consumer(rng, country)
    record["payments"] = payments(rng, net + deposits + extra_tax, currency, when, online)
    if not online:
        record["origin"] = {"terminalId": f"POS-{city[:3].upper()}-{rng.randint(1, 12):02d}",
                            "cashierId": f"C{rng.randint(100, 999)}"}
    if pricing:
        record["pricing"] = pricing
    record["customAttributes"] = {"legacySystem": rng.choice(["kasse-v2", "webshop-2019", "pos-classic"]),
                                  "channel": "ONLINE" if online else "STORE", "importSeed": seed}
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
    parser.add_argument("--out", default="-", help="output file (.gz: gzip) or - for stdout")
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
