"""The one query representation search compiles per store: filters as a small tree, one sort key, a page window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

StringOp = Literal["eq", "notEq", "in", "notIn"]
DateOp = Literal["eq", "notEq", "gt", "gte", "lt", "lte"]
ListName = Literal["lineItems", "payments", "consumer.addresses"]
# Fields anonymization removes (with actorAnonymization, the default, also origin.cashierId): past a record's
# gdprCleanupDate a filter on them never matches and a sort treats them as absent, swept or not.
REMOVABLE = frozenset({"consumer.consumerId", "origin.cashierId", "consumer.addresses.companyName",
                       "consumer.addresses.lastName", "consumer.addresses.firstName", "consumer.addresses.city",
                       "consumer.addresses.postalCode"})
LIST_FIELDS = ("consumer.addresses", "lineItems", "payments")


@dataclass(frozen=True)
class StringCmp:
    """`field` (a record path, or inside a ListAny the element's path) compared with strings; absent never matches."""

    field: str
    op: StringOp
    values: tuple[str, ...]


@dataclass(frozen=True)
class DateCmp:
    """orderRecordDate compared with an instant in epoch milliseconds."""

    field: str
    op: DateOp
    ms: int


@dataclass(frozen=True)
class ListAny:
    """At least one element of the list satisfies every condition (none: the list is not empty)."""

    list: ListName
    conditions: tuple[StringCmp, ...]


@dataclass(frozen=True)
class ListExists:
    """exists: true, a non-empty list; false, an empty or absent one."""

    list: ListName
    exists: bool


@dataclass(frozen=True)
class AllOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Node, ...]


Node = StringCmp | DateCmp | ListAny | ListExists | AllOf | AnyOf


@dataclass(frozen=True)
class Sort:
    """One sort key, ties broken by id in the same direction. `field` "id" sorts by id alone."""

    field: str
    descending: bool = False

    @property
    def list(self) -> str | None:
        return next((name for name in LIST_FIELDS if self.field.startswith(name + ".")), None)


Position = tuple[Any, str]  # (sort key value, record id): a page starts strictly after it


@dataclass(frozen=True)
class SearchQuery:
    """What a store runs: `filter` over the records as of `now_ms`, in `sort` order."""

    filter: Node
    sort: Sort
    now_ms: int


@dataclass(frozen=True)
class Window:
    """Up to `limit` records strictly after `position` travelling forward, or before it travelling `backward`."""

    position: Position | None
    backward: bool
    limit: int
    with_total: bool


@dataclass(frozen=True)
class Found:
    """Rows in travel order as (served JSON, sort key, id); the total when asked; whether any matching record lies
    at or behind the window's position (False without one)."""

    rows: list[tuple[bytes, Any, str]]
    total: int | None
    behind: bool


def removable(field: str) -> bool:
    return field in REMOVABLE


def descending_travel(sort: Sort, window: Window) -> bool:
    """Whether the store reads in descending key order."""
    return sort.descending != window.backward
