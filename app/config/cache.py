"""The configurations in force, read through a short cache so that every worker and instance sees a change soon.

Each process keeps the last document it read of each configuration for CACHE_SECONDS, counted from the moment the
read began; the first request after that reads the database again (one read per configuration, concurrent requests
wait for it). A change committed at time T is therefore seen by every process by T + CACHE_SECONDS + one read, well
within the 5 seconds promised; the process that wrote it sees it at once. A GET of a configuration always reads the
database, so its `version` is the one a PUT must send.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from app.config.model import GDPR, NAMES, ORDER_RECORDS, Document, defaults, policy_of, unwritten
from app.domain.gdpr import GdprPolicy
from app.settings import Settings
from app.store.base import ConfigurationTable, Store

CACHE_SECONDS = 2.0


class Configurations:
    """The configuration documents, defaults included, as the API serves them."""

    def __init__(self, table: ConfigurationTable, fields: dict[str, Document], ttl: float = CACHE_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.table, self.defaults, self.ttl, self.monotonic = table, fields, ttl, monotonic
        self._cached: dict[str, tuple[Document, float]] = {}  # the document and when it was known to be true
        self._locks = {name: asyncio.Lock() for name in NAMES}

    def _remember(self, name: str, doc: Document, as_of: float) -> Document:
        known = self._cached.get(name)
        if known is not None and known[1] > as_of:  # e.g. a read begun before this process's own write ended
            return known[0]
        self._cached[name] = (doc, as_of)
        return doc

    def _fresh(self, name: str) -> Document | None:
        known = self._cached.get(name)
        return known[0] if known is not None and self.monotonic() < known[1] + self.ttl else None

    async def read(self, name: str) -> Document:
        """The stored document (or the defaults as version 0), from the database."""
        read_at = self.monotonic()
        stored = await self.table.get(name)
        return self._remember(name, stored or unwritten(name, self.defaults[name]), read_at)

    async def current(self, name: str) -> Document:
        """The document in force, at most `ttl` seconds old."""
        if (doc := self._fresh(name)) is not None:
            return doc
        async with self._locks[name]:
            if (doc := self._fresh(name)) is not None:
                return doc
            return await self.read(name)

    async def write(self, name: str, fields: Document, version: int, now: datetime) -> Document:
        """Store `fields` over `version` (VersionConflict if another is stored); this process sees it at once."""
        stored = await self.table.put(name, fields, version, now)
        return self._remember(name, stored, self.monotonic())

    async def policy(self) -> GdprPolicy:
        return policy_of(await self.current(GDPR))

    async def actor_anonymization(self) -> bool:
        return bool((await self.current(GDPR))["actorAnonymization"])

    async def order_records_enabled(self) -> bool:
        return bool((await self.current(ORDER_RECORDS))["isOrderRecordsEnabled"])


def attach(store: Store, settings: Settings) -> Configurations:
    """The configurations of `store`, with the settings' defaults; the store then anonymizes as they say."""
    configurations = Configurations(store.configurations, defaults(settings))
    store.actor_anonymization = configurations.actor_anonymization
    return configurations


CONFIGURATIONS = web.AppKey("configurations", Configurations)
