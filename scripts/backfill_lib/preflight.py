"""Before the first batch: is the service at --url, and does it take the token? Fail fast, or say what is unknown."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import jwt

from app.api.auth import READ, WRITE

from .client import FatalError, problem

CHECK_TIMEOUT = 10.0


def claimed_permissions(token: str) -> tuple[set[str] | None, float | None]:
    """The permissions and expiry a JWT claims, read without verifying it (the service verifies); None if unknown."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None, None
    listed, scope = claims.get("permissions"), claims.get("scope")
    found = {p for p in listed if isinstance(p, str)} if isinstance(listed, list) else set()
    if isinstance(scope, str):
        found.update(scope.split())
    expiry = claims.get("exp")
    known = isinstance(listed, list) or isinstance(scope, str)
    return (found if known else None), (float(expiry) if isinstance(expiry, int | float) else None)


async def fetch(session: aiohttp.ClientSession, url: str, timeout: float) -> tuple[int, bytes]:
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
        return response.status, await response.read()


async def check_service(session: aiohttp.ClientSession, base: str, token: str, timeout: float) -> str | None:
    """Raise FatalError if the run cannot succeed; else return a note on what could not be checked, or None."""
    timeout = min(timeout, CHECK_TIMEOUT)
    try:
        status, _ = await fetch(session, base + "/health", timeout)
    except aiohttp.ClientConnectorError as exc:
        refused = isinstance(exc.os_error, ConnectionRefusedError)
        raise FatalError(f"cannot connect to {base}: {'connection refused' if refused else exc.os_error}; is the "
                         "service running, and is --url (ORDER_RECORDS_URL) its base URL?") from None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise FatalError(f"no answer from {base}/health: {type(exc).__name__} {exc}".rstrip()) from None
    if status != 200:
        raise FatalError(f"{base}/health answered HTTP {status}: is --url (ORDER_RECORDS_URL) the Order Records "
                         "service's base URL?")
    granted, expiry = claimed_permissions(token)
    if expiry is not None and expiry <= time.time():
        raise FatalError(f"the token expired at {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(expiry))}: "
                         "get a new one (--token / ORDER_RECORDS_TOKEN)")
    if granted is not None and WRITE not in granted:
        raise FatalError(f"the token does not grant {WRITE}, which storing records needs (it grants "
                         f"{', '.join(sorted(granted)) or 'nothing'}); check --token / ORDER_RECORDS_TOKEN")
    if granted is not None and READ not in granted:
        return (f"note: the token could not be checked before sending: the one harmless request that could check "
                f"it needs {READ}, which it lacks. A token the service refuses stops the run at the first batch.")
    return await check_token(session, base, timeout)


async def check_token(session: aiohttp.ClientSession, base: str, timeout: float) -> str | None:
    """One cheap authorized request, a page of one record, to see whether the service takes the token."""
    url = base + "/api/orderrecords?size=1"
    try:
        status, payload = await fetch(session, url, timeout)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return f"warning: the token could not be checked ({type(exc).__name__}); sending anyway"
    detail: Any = problem(payload)[0]
    if status == 401:
        raise FatalError(f"the service does not accept the token (HTTP 401: {detail}); check --token / "
                         "ORDER_RECORDS_TOKEN")
    if status in (404, 405):
        raise FatalError(f"HTTP {status} from {url}: is --url (ORDER_RECORDS_URL) the service's base URL?")
    if status == 403:  # a valid token: whether it may write shows with the first batch
        return f"note: the token is valid; whether it grants {WRITE} shows with the first batch"
    if status != 200:
        return f"warning: checking the token got HTTP {status} ({detail}); sending anyway, failed requests are retried"
    return None
