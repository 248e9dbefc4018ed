"""The backfill run: stream the inputs, send batches concurrently, record results, rejects and progress."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import nullcontext
from typing import IO, Any, BinaryIO

import aiohttp
from tqdm import tqdm

from .checkpoint import Checkpoint, CheckpointError, Ledger
from .client import BatchRejected, FatalError, RetryPolicy, put_batch
from .model import STDIN, Batch, Item, Options, Source, Summary, log, reject
from .reader import iter_items, open_input, request_text


class Backfill:
    """One run; `summary` stays readable if the run is interrupted."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.summary = Summary()
        self.sources: list[Source] = []
        self.checkpoint = Checkpoint(None)
        self.ledger: Ledger | None = None
        self.bar: tqdm | None = None
        self.shown = 0

    async def run(self) -> Summary:
        started = time.monotonic()
        rejects: IO[bytes] | None = None
        try:
            self.prepare()
            if self.options.dry_run:
                await self.produce(None)
                return self.summary
            rejects = open(self.options.rejects, "ab" if self.options.resume else "wb")  # noqa: SIM115
            self.ledger = Ledger(self.checkpoint, rejects, self.options.checkpoint_interval)
            self.bar = tqdm(unit=" rec", unit_scale=True, file=sys.stderr, dynamic_ncols=True,
                            disable=None if self.options.progress else True)
            await self.send_all()
        except* FatalError as group:
            self.summary.fatal = str(group.exceptions[0])
        finally:
            if self.ledger is not None:
                self.ledger.flush()
            if rejects is not None:
                rejects.close()
            if self.bar is not None:
                self.bar.close()
            self.summary.elapsed = time.monotonic() - started
        return self.summary

    def prepare(self) -> None:
        opts = self.options
        if not opts.inputs or len(set(opts.inputs)) != len(opts.inputs):
            raise FatalError("give one or more distinct input files (or - for standard input)")
        if not opts.dry_run and not opts.token:
            raise FatalError("no token: pass --token or set ORDER_RECORDS_TOKEN")
        files = [path for path in opts.inputs if path != STDIN]
        if opts.resume and STDIN in opts.inputs:
            raise FatalError("standard input cannot be resumed: save the input to a file and back that up")
        path = opts.checkpoint_path()
        files_tracked = bool(files) and not opts.dry_run
        if files_tracked:
            if os.path.exists(path) and not opts.resume:
                raise FatalError(f"checkpoint {path} exists from an earlier run: pass --resume to continue "
                                 "it, or delete it to start over")
            try:
                self.checkpoint = Checkpoint.load(path) if os.path.exists(path) else Checkpoint(path)
            except CheckpointError as exc:
                raise FatalError(str(exc)) from exc
            if opts.resume and not os.path.exists(path):
                log(f"note: no checkpoint at {path}; starting from the beginning")
        for name in opts.inputs:
            if name == STDIN:
                self.sources.append(Source(name, None))
                continue
            try:
                stat = os.stat(name)
            except OSError as exc:
                raise FatalError(f"cannot read input {name}: {exc.strerror}") from exc
            key = os.path.abspath(name)
            try:
                skip = self.checkpoint.begin(key, stat.st_size, stat.st_mtime_ns) if files_tracked else 0
            except CheckpointError as exc:
                raise FatalError(str(exc)) from exc
            self.sources.append(Source(name, key, skip))
            self.summary.skipped_lines += skip
        if self.checkpoint.path:
            self.checkpoint.save()

    def batches(self) -> Iterator[Batch]:
        """Read every source in order, cutting it into batches; the last batch of a source marks its end."""
        seq = 0
        for source in self.sources:
            stdin = self.options.stdin or sys.stdin.buffer
            try:
                with nullcontext(stdin) if source.key is None else open(source.key, "rb") as handle:
                    for batch in self.cut(source, open_input(handle), seq):
                        yield batch
                        seq = batch.seq + 1
            except (OSError, EOFError, ValueError, zlib.error) as exc:  # unreadable, truncated or corrupt gzip
                raise FatalError(f"cannot read {source.name}: {type(exc).__name__}: {exc}") from exc

    def cut(self, source: Source, stream: BinaryIO, seq: int) -> Iterator[Batch]:
        size = self.options.batch_size
        records: list[Item] = []
        malformed: list[Item] = []
        last = source.skip
        for item in iter_items(stream, source.skip):
            last = item.line
            if item.error is not None:
                malformed.append(item)
                self.summary.malformed += 1
                continue
            if item.record is None:
                continue
            records.append(item)
            self.summary.read += 1
            if "tenantOrderRecordId" not in item.record:
                self.summary.missing_id += 1
                if self.summary.missing_id == 1:
                    log(f"warning: {source.name} line {item.line} (and maybe more) has no "
                        "tenantOrderRecordId: such records cannot be recognised when a batch is retried or "
                        "resumed, so they may be stored twice")
            if len(records) == size:
                yield Batch(seq, source, last, False, records, malformed)
                seq, records, malformed = seq + 1, [], []
        yield Batch(seq, source, last, True, records, malformed)

    async def produce(self, queue: asyncio.Queue[Batch | None] | None) -> None:
        """Read batches off the event loop (a file or pipe may block) and hand them to the workers."""
        batches = self.batches()
        while (batch := await asyncio.to_thread(next, batches, None)) is not None:
            if queue is None:
                for item in batch.malformed:
                    self.shown += 1
                    if self.shown <= 20:
                        log(f"malformed: {batch.source.name} line {item.line}: {item.error}")
            elif batch.records:
                await queue.put(batch)
            else:
                self.finish(batch, [])

    async def send_all(self) -> None:
        opts = self.options
        queue: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=opts.concurrency * 2)
        headers = {"Authorization": f"Bearer {opts.token}", "Content-Type": "application/json"}
        connector = aiohttp.TCPConnector(limit=opts.concurrency)
        timeout = aiohttp.ClientTimeout(total=opts.timeout)
        async with aiohttp.ClientSession(headers=headers, connector=connector, timeout=timeout) as session:

            async def producer() -> None:
                await self.produce(queue)
                for _ in range(opts.concurrency):
                    await queue.put(None)

            async def worker() -> None:
                while (batch := await queue.get()) is not None:
                    await self.send(session, batch)

            async with asyncio.TaskGroup() as group:
                group.create_task(producer())
                for _ in range(opts.concurrency):
                    group.create_task(worker())

    async def send(self, session: aiohttp.ClientSession, batch: Batch) -> None:
        opts, summary = self.options, self.summary
        parts = [request_text(item) for item in batch.records]
        body = b'{"operations":[' + b",".join(parts) + b"]}"
        policy = RetryPolicy(opts.max_retries, opts.retry_base_delay, opts.retry_max_delay, opts.sleep)
        url = opts.url.rstrip("/") + "/api/orderrecords"
        rejects: list[dict[str, Any]] = []
        try:
            details = await put_batch(session, url, body, len(parts), policy, self.count_retry)
        except BatchRejected as exc:
            summary.failed += len(batch.records)
            summary.rejected_batches += 1
            rejects = [reject(batch.source, item, "BATCH_REJECTED", exc.message) for item in batch.records]
        else:
            for item, detail in zip(batch.records, details, strict=True):
                status = detail.get("status") if isinstance(detail, dict) else None
                if status == "CREATED":
                    summary.created += 1
                elif status == "UNCHANGED":  # stored before with the same content: as good as created
                    summary.unchanged += 1
                else:
                    summary.failed += 1
                    error = detail.get("error") if status == "FAILED" else None
                    if isinstance(error, dict) and isinstance(error.get("message"), str):
                        rejects.append(reject(batch.source, item, str(error.get("type")), error["message"]))
                    else:
                        rejects.append(reject(batch.source, item, "UNEXPECTED",
                                              f"unexpected detail from the service: {detail!r:.300}"))
        self.finish(batch, rejects)

    def finish(self, batch: Batch, rejects: list[dict[str, Any]]) -> None:
        for item in batch.malformed:
            rejects.append(reject(batch.source, item, "MALFORMED", item.error or ""))
        rejects.sort(key=lambda entry: entry["line"])
        assert self.ledger is not None
        self.ledger.finish(batch.seq, batch.source.key, batch.end_line, batch.eof, rejects)
        if self.bar is not None:
            self.bar.update(len(batch.records))
            summary = self.summary
            if summary.failed or summary.retried_requests:
                self.bar.set_postfix_str(f"failed {summary.failed}, retries {summary.retried_requests}",
                                         refresh=False)
        if self.options.on_batch_done is not None:
            self.options.on_batch_done(batch)

    def count_retry(self) -> None:
        self.summary.retried_requests += 1


async def run(options: Options) -> Summary:
    """Run a backfill in the current event loop and return its summary."""
    return await Backfill(options).run()
