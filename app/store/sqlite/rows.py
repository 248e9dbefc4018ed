"""Rows in and out of the records table: a batch's INSERT and what became of its skipped rows, a record as served
now, the WHERE of a filter."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson

from app.domain.gdpr import cleaned_up
from app.domain.instants import parse_instant
from app.store.base import InsertOutcome, Record, RecordFilter

INSERT_COLUMNS = ("id", "facility_ref", "tenant_order_record_id", "anonymized", "gdpr_cleanup_ms", "deletion_ms",
                  "version", "doc")


@lru_cache(maxsize=128)  # a group's size varies: keep the SQL of the usual ones
def insert_sql(rows: int) -> str:
    """One INSERT for a whole batch. A row whose tenantOrderRecordId is stored already (or earlier in the batch) is
    skipped; any other unique violation, such as a repeated id, is an error."""
    values = ", ".join([f"({', '.join('?' * len(INSERT_COLUMNS))})"] * rows)
    return (f"INSERT INTO order_records ({', '.join(INSERT_COLUMNS)}) VALUES {values} "
            "ON CONFLICT (tenant_order_record_id) WHERE tenant_order_record_id IS NOT NULL DO NOTHING")


def insert_rows(records: list[Record]) -> tuple[list[bytes], list[Any]]:
    """The records serialized, and the parameters of their INSERT."""
    docs, rows = [], []
    for r in records:
        doc = orjson.dumps(r)
        docs.append(doc)
        rows += (bytes.fromhex(r["id"]), r["facilityRef"], r.get("tenantOrderRecordId"), int(r["anonymized"]),
                 ms(r["gdprCleanupDate"]), ms(r["deletionDate"]), r["version"], doc)
    return docs, rows


Stored = tuple[bytes, bytes]  # id, doc as served now


def settle(records: list[Record], docs: list[bytes], stored: dict[str, Stored]) -> list[InsertOutcome | None]:
    """What became of each record of a batch some rows of which were skipped, given the stored (id, doc)
    of the batch's tenantOrderRecordIds: CREATED if the stored row is this record, EXISTS if it is another,
    None if none is stored any more (deleted since the insert skipped this record: it must be inserted again)."""
    outcomes: list[InsertOutcome | None] = []
    for record, doc in zip(records, docs, strict=True):
        tenant_id = record.get("tenantOrderRecordId")
        found = None if tenant_id is None else stored.get(tenant_id)
        if tenant_id is None or (found is not None and found[0] == bytes.fromhex(record["id"])):
            outcomes.append(InsertOutcome("CREATED", doc))
        else:
            outcomes.append(None if found is None else InsertOutcome("EXISTS", found[1]))
    return outcomes


# The stored record, or, when its gdprCleanupDate has passed and the sweep has not been there yet, what the sweep
# will make of it: selected with its `due` flag (one parameter, now in ms), so a read parses nothing else.
DOC_AS_OF_NOW = "doc, anonymized = 0 AND gdpr_cleanup_ms <= ?"


def as_of_now(doc: bytes, due: int, actor_anonymization: bool) -> bytes:
    """A row selected with DOC_AS_OF_NOW, as it is served."""
    return orjson.dumps(cleaned_up(orjson.loads(doc), actor_anonymization)) if due else doc


def ms(moment: datetime | str) -> int:
    if isinstance(moment, str):
        moment = parse_instant(moment)
    return int(moment.timestamp() * 1000)


def where_clause(filters: RecordFilter, start_after: str | None = None) -> tuple[str, list[Any]]:
    clauses, args = [], []
    if filters.facility_ref is not None:
        clauses.append("facility_ref = ?")
        args.append(filters.facility_ref)
    if filters.tenant_order_record_id is not None:
        clauses.append("tenant_order_record_id = ?")
        args.append(filters.tenant_order_record_id)
    if start_after is not None:
        clauses.append("id > ?")
        args.append(bytes.fromhex(start_after))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args
