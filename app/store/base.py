"""The store interface every implementation fulfils, and the values it passes around."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

import orjson

Record = dict[str, Any]


class StoreUnavailable(Exception):
    """The database cannot be reached or failed; the request may be retried later (503)."""


class StoreError(Exception):
    """A database operation failed for a reason a retry will not fix. Its message names the operation, the record
    ids and the error code, never record contents: the driver's own errors quote whole documents."""


@dataclass(frozen=True)
class InsertOutcome:
    """What became of one record: its status and the stored record, serialized as the API returns it.

    FAILED: the store could not take this record (e.g. too large for MongoDB); `json` is then b"" and `message`
    says why, without any of the record's contents. The rest of the batch is stored as usual.
    """

    status: Literal["CREATED", "ALREADY_EXISTS", "FAILED"]
    json: bytes
    message: str = ""

    @property
    def record(self) -> Record:
        return orjson.loads(self.json)


@dataclass(frozen=True)
class RecordFilter:
    facility_ref: str | None = None
    tenant_order_record_id: str | None = None


class Store(Protocol):
    """Records go in and come out in API shape: `id` as 24 hex chars, timestamps as ISO 8601 strings."""

    async def open(self) -> None:
        """Connect, check the database answers, create indexes (idempotent)."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers."""

    # Reads take `now`: a record past its gdprCleanupDate that the sweep has not reached yet comes out as the sweep
    # will store it (gdpr.cleaned_up), never with its personal data.

    async def insert_batch(self, records: list[Record], now: datetime) -> list[InsertOutcome]:
        """Insert each record whole or not at all; a known tenantOrderRecordId (or id) yields the stored record, a
        record the store cannot take yields FAILED; every other record of the batch is stored regardless."""

    async def get_json(self, record_id: str, now: datetime) -> bytes | None:
        """The record serialized as JSON, or None."""

    async def list_page(self, filters: RecordFilter, start_after: str | None, size: int,
                        now: datetime) -> tuple[int, list[bytes]]:
        """The number of matching records, and up to `size` of them after `start_after` in ascending id order,
        each serialized as JSON."""

    async def count(self, filters: RecordFilter) -> int: ...

    async def anonymize_due(self, now: datetime, limit: int) -> int:
        """Anonymize up to `limit` records whose gdprCleanupDate has passed; return how many this call did."""

    async def purge_expired(self, now: datetime, limit: int) -> int:
        """Delete up to `limit` records whose deletionDate has passed; return how many this call deleted."""
