"""The fixed tables of the sample-data generator: stores, countries, currencies, articles, names."""

from __future__ import annotations

# currency -> units per EUR (decimal places come from the service's own ISO 4217 table)
EUR_RATES = {"EUR": 1.0, "USD": 1.1, "GBP": 0.85, "CHF": 0.95, "SEK": 11.5, "DKK": 7.45, "JPY": 160.0, "KWD": 0.33}
# country -> (currency, VAT rate (None: US sales tax), winter UTC offset, summer offset)
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
# per bottle, local minor units: a surcharge attribute of the line
DEPOSIT_MINOR = {"DE": 25, "AT": 25, "NL": 15, "SE": 100, "DK": 150}
# category -> (code, titles, EUR unit price range, unit (kg: a weighed quantity), warranty?, returnable?)
CATALOG = [
    ("grocery", "GRC", ["Sparkling Water 1L", "Apple Juice 1L", "Craft Beer 0.5L", "Cola 1.5L"], (0.6, 4),
     "bottle", False, False),
    ("grocery", "GRC", ["Organic Bananas", "Whole Milk 1L", "Sourdough Bread", "Espresso Beans 500g",
                        "Cheddar 200g", "Basmati Rice 1kg"], (0.9, 12), "pcs", False, False),
    ("grocery", "GRC", ["Gouda by weight", "Apples by weight", "Coffee Beans by weight"], (3, 25), "kg", False,
     False),
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
