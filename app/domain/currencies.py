"""The official currency codes of an order record's MonetaryValue and their ISO 4217 minor units."""

from __future__ import annotations

from iso4217 import Currency

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# The `currency` enum of OrderRecordMonetaryValue in the official fulfillmenttools OpenAPI document, in its order
# (copied once from the document; the service does not read it at run time).
OFFICIAL_CURRENCIES: tuple[str, ...] = (
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF",
    "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB",
    "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR",
    "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD",
    "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR",
    "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP",
    "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD",
    "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XAG",
    "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XTS", "XUA", "XXX", "YER",
    "ZAR", "ZMW", "ZWL",
)

# Official codes that ISO 4217 has withdrawn, so the maintained `iso4217` table no longer lists them: the minor unit
# they had in ISO 4217's last list that carried them. A record from before a withdrawal still holds amounts in them.
_WITHDRAWN_MINOR_UNITS: dict[str, int] = {
    "ANG": 2,  # Netherlands Antillean guilder, replaced by XCG (2025)
    "BGN": 2,  # Bulgarian lev, replaced by EUR (2026)
    "CUC": 2,  # Cuban convertible peso, withdrawn (2021)
    "ZWL": 2,  # Zimbabwe dollar, replaced by ZWG (2024)
}

# ISO 4217 lists "N.A." for codes without a minor unit (gold, silver, SDR, bond units, XXX...): amounts in them are
# whole units, so 0 decimal places.
_MINOR_UNITS: dict[str, int] = {**_WITHDRAWN_MINOR_UNITS, **{c.code: c.exponent or 0 for c in Currency}}
_OFFICIAL = frozenset(OFFICIAL_CURRENCIES)


def is_official(code: str) -> bool:
    """Whether `code` is one of the official MonetaryValue currencies (exact, upper case)."""
    return code in _OFFICIAL


def minor_unit(code: str) -> int:
    """The currency's standard number of decimal places; KeyError for a code neither ISO 4217 nor the table knows."""
    return _MINOR_UNITS[code]
