"""The GDPR sweep: anonymize records past their cleanup date, delete records past their deletion date."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from app.keys import CLOCK, SETTINGS, STORE, Clock
from app.settings import GdprSettings
from app.store.base import Store

log = logging.getLogger("app.sweep")
MAX_BACKOFF_SECONDS = 300.0
SCRUB_RETRY_SECONDS = 1.0  # the store's files still hold removed data: try again soon, not an interval later


@dataclass(frozen=True)
class SweepResult:
    anonymized: int
    deleted: int
    files_clean: bool = True


async def sweep_once(store: Store, clock: Clock, gdpr: GdprSettings) -> SweepResult:
    """Anonymize every due record, then delete every expired one, in bounded batches; each record changes atomically.

    A batch is over only when one finds nothing left to do: a short one may just mean that another instance's
    sweep took part of it.
    """
    anonymized = deleted = 0
    while done := await store.anonymize_due(clock(), gdpr.sweep_batch_size):
        anonymized += done
    while done := await store.purge_expired(clock(), gdpr.sweep_batch_size):
        deleted += done
    return SweepResult(anonymized, deleted, await store.scrub())


async def run_sweeps(store: Store, clock: Clock, gdpr: GdprSettings) -> None:
    """Sweep every interval until cancelled; database errors are logged and retried with backoff."""
    delay = gdpr.sweep_interval_seconds
    while True:
        try:
            result = await sweep_once(store, clock, gdpr)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            delay = min(max(delay * 2, gdpr.sweep_interval_seconds), MAX_BACKOFF_SECONDS)
            log.warning("GDPR sweep failed (%s: %s); next attempt in %g s", type(exc).__name__, exc, delay)
        else:
            delay = gdpr.sweep_interval_seconds if result.files_clean else min(gdpr.sweep_interval_seconds,
                                                                               SCRUB_RETRY_SECONDS)
            if result.anonymized or result.deleted:
                log.info("GDPR sweep: anonymized %d, deleted %d", result.anonymized, result.deleted)
        await asyncio.sleep(delay)


async def sweep_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(run_sweeps(app[STORE], app[CLOCK], app[SETTINGS].gdpr), name="gdpr-sweep")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
