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
from .preflight import check_service
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
        self.started = time.monotonic()
        self.last_warning = float("-inf")

    async def run(self) -> Summary:
        self.started = time.monotonic()
        rejects: IO[bytes] | None = None
        try:
            self.prepare()
            if self.options.dry_run:
                await self.produce(None)
                return self.summary
            async with self.session() as session:
                note = await check_service(session, self.base_url, self.options.token or "", self.options.timeout)
                if note:
                    log(note)
                rejects = self.open_rejects()
                self.ledger = Ledger(self.checkpoint, rejects, self.options.checkpoint_interval,
                                     os.path.abspath(self.options.rejects))
                self.ledger.flush()  # the checkpoint, with where the rejects file starts, before anything is sent
                self.bar = self.progress_bar()
                await self.send_all(session)
        except* FatalError as group:
            self.summary.fatal = str(group.exceptions[0])
        finally:
            if self.ledger is not None:
                self.ledger.flush()
            if rejects is not None:
                rejects.close()
            if self.bar is not None:
                self.bar.close()
            self.summary.elapsed = time.monotonic() - self.started
        return self.summary

    @property
    def base_url(self) -> str:
        return self.options.url.rstrip("/")

    def session(self) -> aiohttp.ClientSession:
        opts = self.options
        headers = {"Authorization": f"Bearer {opts.token}", "Content-Type": "application/json"}
        return aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(limit=opts.concurrency),
                                     timeout=aiohttp.ClientTimeout(total=opts.timeout))

    def open_rejects(self) -> IO[bytes]:
        """Truncated for a new run. A resumed one appends, after cutting off what the interrupted run wrote past its
        last checkpoint: those lines are read again now, and each rejected line is to appear once."""
        path = self.options.rejects
        if not self.options.resume:
            return open(path, "wb")
        kept = self.checkpoint.rejects_kept(os.path.abspath(path))
        if kept is not None and os.path.exists(path) and os.path.getsize(path) > kept:
            with open(path, "rb") as handle:
                handle.seek(kept)
                dropped = handle.read().count(b"\n")
            os.truncate(path, kept)
            log(f"note: {dropped} line(s) of {path} written after the last checkpoint were removed; their input is "
                "read again")
        return open(path, "ab")

    def progress_bar(self) -> tqdm:
        """By bytes of the input read, with a percentage and an ETA, when every input is a file (compressed bytes
        for gzip); by records otherwise (standard input)."""
        disable = None if self.options.progress else True
        if any(source.key is None for source in self.sources):
            return tqdm(unit=" rec", unit_scale=True, file=sys.stderr, dynamic_ncols=True, disable=disable)
        total = sum(source.size for source in self.sources)
        return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, dynamic_ncols=True,
                    disable=disable, bar_format="{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} read "
                                                "[{elapsed}<{remaining}{postfix}]")

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
            self.sources.append(Source(name, key, skip, stat.st_size))
            self.summary.skipped_lines += skip

    def batches(self) -> Iterator[Batch]:
        """Read every source in order, cutting it into batches; the last batch of a source marks its end."""
        seq = 0
        for source in self.sources:
            stdin = self.options.stdin or sys.stdin.buffer
            try:
                with nullcontext(stdin) if source.key is None else open(source.key, "rb") as handle:
                    raw = None if source.key is None else handle
                    for batch in self.cut(source, open_input(handle), seq, raw):
                        yield batch
                        seq = batch.seq + 1
            except (OSError, EOFError, ValueError, zlib.error) as exc:  # unreadable, truncated or corrupt gzip
                raise FatalError(f"cannot read {source.name}: {type(exc).__name__}: {exc}") from exc

    def cut(self, source: Source, stream: BinaryIO, seq: int, raw: BinaryIO | None = None) -> Iterator[Batch]:
        """Batches of `stream`; with the file `raw` under it, each says how far the inputs have been read."""
        start = sum(s.size for s in self.sources[:self.sources.index(source)])

        def read_to() -> int | None:
            return None if raw is None else start + raw.tell()

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
                yield Batch(seq, source, last, False, records, malformed, read_to())
                seq, records, malformed = seq + 1, [], []
        yield Batch(seq, source, last, True, records, malformed, read_to())

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

    async def send_all(self, session: aiohttp.ClientSession) -> None:
        opts = self.options
        queue: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=opts.concurrency * 2)

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
        url = self.base_url + "/api/orderrecords"
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
            self.advance_bar(batch)
        if self.options.on_batch_done is not None:
            self.options.on_batch_done(batch)

    def advance_bar(self, batch: Batch) -> None:
        bar, summary = self.bar, self.summary
        assert bar is not None
        if batch.read_to is None:
            bar.update(len(batch.records))
        elif batch.read_to > bar.n:  # batches finish out of order: the bar shows the furthest
            bar.update(batch.read_to - bar.n)
        elapsed = time.monotonic() - self.started
        postfix = [f"{summary.answered:,} records", f"{summary.answered / elapsed:,.0f}/s"] if elapsed else []
        if summary.failed or summary.retried_requests:
            postfix.append(f"failed {summary.failed}, retries {summary.retried_requests}")
        bar.set_postfix_str(", ".join(postfix), refresh=False)

    def count_retry(self, attempt: int, failure: str, delay: float) -> None:
        """Count a retry, and say so, at most once a second: a run that waits on a dead service is not silent."""
        self.summary.retried_requests += 1
        now = time.monotonic()
        if now - self.last_warning >= 1.0:
            self.last_warning = now
            log(f"warning: retrying a batch in {delay:.1f} s (attempt {attempt} of {self.options.max_retries}): "
                f"{failure[:300]}")


async def run(options: Options) -> Summary:
    """Run a backfill in the current event loop and return its summary."""
    return await Backfill(options).run()
