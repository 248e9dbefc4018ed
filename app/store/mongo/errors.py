"""Driver errors as the store's own: never with a document's contents, which the driver's messages quote whole."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from bson.errors import BSONError
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from app.store.base import StoreError, StoreUnavailable

MAX_IDS_NAMED = 25  # a batch's worth; a sweep batch may hold hundreds


def describe(operation: str, exc: BaseException, ids: Iterable[Any] = ()) -> str:
    """The operation, the error's class and code, the record ids: nothing of its message or details."""
    text = f"mongodb {operation} failed: {type(exc).__name__}"
    code = getattr(exc, "code", None)
    if code is not None:
        text += f" (code {code})"
    named = [str(i) for i in ids]
    if named:
        more = len(named) - MAX_IDS_NAMED
        text += f"; records {', '.join(named[:MAX_IDS_NAMED])}" + (f" and {more} more" if more > 0 else "")
    return text


@contextlib.contextmanager
def translated(operation: str, ids: Iterable[Any] = ()) -> Iterator[None]:
    """Unreachable or retryable: StoreUnavailable (503, retried later); any other driver error: StoreError.

    Raised `from None`: a chained driver error would bring its message, documents and all, into the traceback
    that the error middleware logs.
    """
    try:
        yield
    except ConnectionFailure as exc:
        raise StoreUnavailable(f"mongodb {operation}: {type(exc).__name__}") from None
    except OperationFailure as exc:
        if exc.has_error_label("RetryableWriteError"):
            raise StoreUnavailable(f"mongodb {operation}: {type(exc).__name__} (code {exc.code})") from None
        raise StoreError(describe(operation, exc, ids)) from None
    except (PyMongoError, BSONError) as exc:
        raise StoreError(describe(operation, exc, ids)) from None
