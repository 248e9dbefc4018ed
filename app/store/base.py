"""The store interface every implementation fulfils, and the values it passes around."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

import orjson

from app.search.query import Found, SearchQuery, Window

Record = dict[str, Any]
# Asked for the GDPR configuration's actorAnonymization in force whenever a store anonymizes a record, or serves a
# due one as anonymized; the app sets it (app.config), a bare store keeps the official default, true.
ActorRule = Callable[[], Awaitable[bool]]


async def actor_anonymization_default() -> bool:
    return True
Clock = Callable[[], datetime]
# What a read decides "due for anonymization or not" by: the clock, read when the row is read (what the app
# passes), or a fixed moment (tools and tests).
AsOf = datetime | Clock


def moment(as_of: AsOf) -> datetime:
    """The clock read now, or the fixed moment given."""
    return as_of() if callable(as_of) else as_of


class StoreUnavailable(Exception):
    """The database cannot be reached or failed; the request may be retried later (503)."""


class StoreIncompatible(Exception):
    """The database holds data of another version of this service; the message says what to do."""
class StoreError(Exception):
    """A database operation failed for a reason a retry will not fix. Its message names the operation, the record
    ids and the error code, never record contents: the driver's own errors quote whole documents."""


@dataclass(frozen=True)
class InsertOutcome:
    """What became of one record: CREATED, with the record stored now; EXISTS, with the record stored before under
    its tenantOrderRecordId, as served now (anonymized once due); FAILED, for a record this store cannot take, with a
    message that holds no record content. `json` is the record as served."""

    status: Literal["CREATED", "EXISTS", "FAILED"]
    json: bytes
    message: str = ""

    @property
    def record(self) -> Record:
        return orjson.loads(self.json)


@dataclass(frozen=True)
class PagePart:
    """`count` records of a page in ascending id order, serialized and joined by commas: what goes between a JSON
    array's brackets. `resume_after` is the last one's id when the part ended at its byte budget before the page
    did: the page goes on after it."""

    records: bytes
    count: int
    resume_after: str | None = None


@dataclass(frozen=True)
class RecordFilter:
    facility_ref: str | None = None
    tenant_order_record_id: str | None = None


class VersionConflict(Exception):
    """A configuration write named a version other than the stored one (0: none is stored)."""

    def __init__(self, stored: int) -> None:
        super().__init__(stored)
        self.stored = stored


class ConfigurationTable(Protocol):
    """Versioned configuration documents by name, in API shape: `id` (the name), `version`, `created`,
    `lastModified` and the configuration's own fields."""

    async def get(self, name: str) -> Record | None: ...

    async def put(self, name: str, values: Record, version: int, now: datetime) -> Record:
        """Store `values` as version `version` + 1 in one conditional write, if `version` is the stored one (0: none
        is stored yet); else raise VersionConflict. Returns the stored document."""


class Store(Protocol):
    """Records go in and come out in API shape: `id` as 24 hex chars, timestamps as ISO 8601 strings."""

    configurations: ConfigurationTable
    actor_anonymization: ActorRule

    async def open(self) -> None:
        """Connect, check the database answers, create indexes (idempotent)."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers."""

    # Reads take `now`: a record past its gdprCleanupDate that the sweep has not reached yet comes out as the sweep
    # will store it (gdpr.cleaned_up), never with its personal data. Given a clock, they read it when the row is
    # read, not when the request arrived: a read queued behind others must not serve what became due meanwhile.

    async def insert_batch(self, records: list[Record], now: AsOf) -> list[InsertOutcome]:
        """Insert each record whole or not at all; a known tenantOrderRecordId (or id) yields the stored record, a
        record the store cannot take yields FAILED; every other record of the batch is stored regardless."""

    async def get_json(self, record_id: str, now: AsOf) -> bytes | None:
        """The record serialized as JSON, or None."""

    async def list_part(self, filters: RecordFilter, start_after: str | None, size: int, now: AsOf,
                        max_bytes: int | None = None, *, with_total: bool = True) -> tuple[int | None, PagePart]:
        """The number of matching records (only `with_total`) and up to `size` of them after `start_after` in
        ascending id order, read only until they hold `max_bytes` (at least one is read), so that a page of large
        records need not be held in memory whole."""

    async def count(self, filters: RecordFilter) -> int: ...

    async def search(self, query: SearchQuery, window: Window, now: datetime) -> Found:
        """The records of `query` in `window`, compiled to the database's own query language; served as of `now`."""

    async def anonymize_due(self, now: datetime, limit: int) -> int:
        """Anonymize up to `limit` records whose gdprCleanupDate has passed; return how many this call did."""

    async def purge_expired(self, now: datetime, limit: int) -> int:
        """Delete up to `limit` records whose deletionDate has passed; return how many this call deleted."""

    async def scrub(self) -> bool:
        """Make what anonymization and deletion removed unreadable in the database's own files; True when done,
        False when it must be tried again (the database was busy)."""
