"""HTTP side of the backfill: one PUT per batch, retried with exponential backoff and jitter."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import orjson

MAX_RETRY_AFTER = 600.0


class FatalError(Exception):
    """Stops the whole run (exit status 2)."""


class BatchRejected(Exception):
    """The service refused the batch as a whole (a 4xx other than 401/403/404/405/429): not retried."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class RetryPolicy:
    max_retries: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], Awaitable[Any]] = field(default=asyncio.sleep)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": between half and all of base * 2^(attempt-1), capped."""
        cap = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(cap / 2, cap)


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None if absent or invalid."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def problem(payload: bytes) -> tuple[str, list[dict[str, Any]]]:
    """What an error answer says: its ApiError entries (a JSON array of {summary, description}) as one line,
    "summary: description; ...", and the entries; the start of the raw text for any other body."""
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload[:300].decode("utf-8", "replace"), []
    if not isinstance(body, list):
        return str(body)[:300], []
    entries = [e for e in body if isinstance(e, dict)]
    text = "; ".join(": ".join(str(e[k]) for k in ("summary", "description") if e.get(k)) for e in entries)
    return text, entries


def parse_details(payload: bytes, count: int) -> list[dict[str, Any]]:
    """The `details` of a bulk answer, one per record sent."""
    try:
        details = orjson.loads(payload)["details"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise FatalError(f"unexpected response from the service (no 'details'): {exc}") from exc
    if not isinstance(details, list) or len(details) != count:
        answered = len(details) if isinstance(details, list) else "no list of"
        raise FatalError(f"the service answered {answered} details for a batch of {count}")
    return details


async def put_batch(session: aiohttp.ClientSession, url: str, body: bytes, count: int, policy: RetryPolicy,
                    on_retry: Callable[[int, str, float], None]) -> list[dict[str, Any]]:
    """PUT one batch; return the per-record results, raise BatchRejected or FatalError. Before each retry
    `on_retry(attempt, what failed, seconds until the retry)`."""
    attempt = 0
    while True:
        wait: float | None = None
        try:
            async with session.put(url, data=body) as response:
                payload = await response.read()
                status = response.status
                if status == 200:
                    return parse_details(payload, count)
                detail, _ = problem(payload)
                if status in (401, 403):
                    what = "token not accepted" if status == 401 else "token lacks ORDER_RECORD_WRITE"
                    raise FatalError(f"HTTP {status} from {url}: {what} ({detail}); "
                                     "check --token / ORDER_RECORDS_TOKEN")
                if status in (404, 405):
                    raise FatalError(f"HTTP {status} from {url}: is --url the service's base URL?")
                if status != 429 and status < 500:
                    raise BatchRejected(status, f"batch rejected with HTTP {status}: {detail}")
                failure = f"HTTP {status} {detail}".strip()
                if status == 429:
                    wait = retry_after(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            failure = f"{type(exc).__name__}: {exc}"
        attempt += 1
        if attempt > policy.max_retries:
            raise FatalError(f"giving up on {url} after {policy.max_retries} retries; last error: {failure}")
        delay = wait if wait is not None else policy.backoff(attempt)
        on_retry(attempt, failure, delay)
        await policy.sleep(delay)
