"""Read-ahead of list pages: the page after a full one, read while its client is still taking that one in."""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from dataclasses import dataclass

from app.store.base import PagePart, RecordFilter

Stamp = tuple[int, int]  # PRAGMA data_version, total_changes: both unchanged means nothing was committed since
# The earliest gdprCleanupDate of a record not yet anonymized: from then on a page read earlier may be stale.
NEXT_DUE = "SELECT min(gdpr_cleanup_ms) FROM order_records WHERE anonymized = 0"


def data_stamp(conn: sqlite3.Connection) -> Stamp:
    """Taken before a read's snapshot: equal later, the database is still what the snapshot saw. data_version moves
    when another connection (or process) commits, total_changes when this one writes."""
    return conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes


@dataclass(frozen=True)
class PageKey:
    """What a page's bytes depend on besides the data and the clock."""

    filters: RecordFilter
    start_after: str | None
    size: int
    budget: int
    actor_anonymization: bool


@dataclass(frozen=True)
class Page:
    """A page as read: its total, its records, and, when it was full, where the next one starts."""

    total: int | None
    part: PagePart
    next_start: str | None
    joined: bool  # nothing was due for cleanup: the records are as stored, so the clock did not shape them


@dataclass(frozen=True)
class AheadPage:
    page: Page
    stamp: Stamp
    due_ms: int | None  # NEXT_DUE in the page's snapshot

    def true_at(self, now_ms: int) -> bool:
        return self.due_ms is None or now_ms < self.due_ms


class ReadAhead:
    """Pages read ahead, one per client paging through (up to `pages`); each is served once, and only if nothing
    was committed since it was read and no record has fallen due for cleanup since: then it is byte for byte what
    reading it now would give. Used only on the reader thread."""

    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.served = 0  # pages served from here: how often reading ahead paid off
        self._held: OrderedDict[PageKey, AheadPage] = OrderedDict()

    def take(self, key: PageKey, stamp: Stamp, now_ms: int) -> Page | None:
        """The page read ahead for `key` if it is still true; pages no longer true are let go (their records may
        have been anonymized or deleted since)."""
        for k in [k for k, held in self._held.items() if held.stamp != stamp or not held.true_at(now_ms)]:
            del self._held[k]
        held = self._held.pop(key, None)
        if held is None:
            return None
        self.served += 1
        return held.page

    def keep(self, key: PageKey, held: AheadPage) -> None:
        self._held[key] = held
        while len(self._held) > self.pages:  # the clients paging through the longest ago lose theirs
            self._held.popitem(last=False)

    def clear(self) -> None:
        self._held.clear()

    def __len__(self) -> int:
        return len(self._held)
