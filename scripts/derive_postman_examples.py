"""Extract the "Bulk Create Order Records" example bodies of the official Postman collection, placeholders filled.

The collection is in the public repository fulfillmenttools/fulfillmenttools-api-reference at
postman/fulfillmenttoolsAPI.postman_collection.json. Every `{{...}}` placeholder is replaced by a fixed value, so
the output is the same on every run; placeholders that stand for ids ($randomInt, $randomWord, $randomUUID) get a
different value at every occurrence in the collection, so no two tenantOrderRecordIds are equal.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scripts.derive_contract_schema import OUT_DIR

REQUEST_NAME = "Bulk Create Order Records [ALPHA]"
COLLECTION_PATH = "postman/fulfillmenttoolsAPI.postman_collection.json"
REPOSITORY = "fulfillmenttools/fulfillmenttools-api-reference"
OUT_FILE = "postman_bulk_examples.json"
FACILITY_PLACEHOLDER, FACILITY_REF = "PUT-IN-YOUR-FACILITY-REF", "facility-1"
PLACEHOLDER = re.compile(r"\{\{([^{}]+)\}\}")

_FIRST = ["Anna", "Jonas", "Lea", "Felix", "Mia", "Paul"]
_LAST = ["Schmidt", "Becker", "Wagner", "Hoffmann", "Koch", "Richter"]
_WORDS = ["amber", "birch", "cedar", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "juniper"]


def _cycle(values: list[str]) -> Callable[[int], str]:
    return lambda n: values[n % len(values)]


# placeholder -> value of its n-th occurrence (n counts from 0 over the whole collection, per placeholder)
FAKES: dict[str, Callable[[int], str]] = {
    "$isoTimestamp": lambda n: "2026-11-20T10:00:00.000Z",
    "$randomInt": lambda n: str(100 + 37 * n),
    "$randomWord": lambda n: _WORDS[n % len(_WORDS)] + ("" if n < len(_WORDS) else str(n // len(_WORDS))),
    "$randomUUID": lambda n: str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:order-records:postman-example:{n}")),
    "$randomFirstName": _cycle(_FIRST),
    "$randomLastName": _cycle(_LAST),
    "$randomCompanyName": _cycle(["Nordlicht GmbH", "Hafenblick KG", "Bergwerk AG"]),
    "fftRandomEmail": lambda n: f"{_FIRST[n % len(_FIRST)].lower()}.{_LAST[n % len(_LAST)].lower()}@example.com",
    "fftRandomStreet": _cycle(["Hauptstraße", "Lindenallee", "Am Markt", "Bahnhofstraße"]),
    "fftRandomHouseNumber": _cycle(["12", "7a", "103"]),
    "fftRandomPLZ": _cycle(["10115", "20095", "50667", "80331"]),
    "fftRandomCity": _cycle(["Berlin", "Hamburg", "Köln", "München"]),
    "fftRandomAdditionalInfo": _cycle(["Hinterhaus, 2. OG", "c/o Empfang"]),
}


class Filler:
    """Replaces placeholders in parsed JSON, counting occurrences across every body it fills."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def _one(self, match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name not in FAKES:
            raise ValueError(f"no fixed value for the placeholder {{{{{name}}}}}")
        value = FAKES[name](self.seen[name])
        self.seen[name] += 1
        return value

    def fill(self, value: Any) -> Any:
        if isinstance(value, str):
            return FACILITY_REF if value == FACILITY_PLACEHOLDER else PLACEHOLDER.sub(self._one, value)
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        return value


def _requests(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for item in items:
        found.extend(_requests(item["item"]) if "item" in item else [item] if item["name"] == REQUEST_NAME else [])
    return found


def extract(collection: dict[str, Any]) -> list[dict[str, Any]]:
    """[{name, body}] of the request's saved examples, in collection order, placeholders filled."""
    (request,) = _requests(collection["item"])
    filler = Filler()
    return [{"name": example["name"], "body": filler.fill(json.loads(example["originalRequest"]["body"]["raw"]))}
            for example in request["response"]]


def read_collection(source: Path) -> tuple[dict[str, Any], str | None]:
    """The collection from a JSON file, or from the HEAD of a (bare) git clone of the repository."""
    if source.is_file():
        return json.loads(source.read_text(encoding="utf-8")), None
    git = ["git", "-C", str(source)]
    commit = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    text = subprocess.run([*git, "show", f"{commit}:{COLLECTION_PATH}"], check=True, capture_output=True).stdout
    return json.loads(text), commit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="the collection JSON file, or a git clone of " + REPOSITORY)
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    collection, commit = read_collection(args.source)
    data = {"source": {"repository": REPOSITORY, "path": COLLECTION_PATH, "commit": commit, "request": REQUEST_NAME},
            "examples": extract(collection)}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    # the collection's own key order, so that the bodies read as in Postman
    (args.out_dir / OUT_FILE).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out_dir / OUT_FILE} ({len(data['examples'])} examples)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
