"""Backfill historical order records into the Order Records service (PUT /api/orderrecords in batches)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import TextIO
from urllib.parse import urlsplit

from scripts.backfill_lib.client import FatalError
from scripts.backfill_lib.model import MAX_BATCH, Options, Summary
from scripts.backfill_lib.runner import Backfill, run

__all__ = ["FatalError", "Options", "Summary", "build_parser", "main", "options_from_args", "run"]

EXIT_INTERRUPTED = 130  # SIGINT (Ctrl-C)
EXIT_TERMINATED = 143  # SIGTERM


def positive(kind: type[int] | type[float], minimum: float = 0) -> Callable[[str], float]:
    """An argparse type: a number of `kind`, at least `minimum`."""
    def parse(text: str) -> float:
        value = kind(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="order-records-backfill", description=__doc__,
                                     epilog="exit status: 0 all stored or already there, 1 some records "
                                            "rejected or malformed, 2 fatal error, 130 interrupted (SIGINT), "
                                            "143 terminated (SIGTERM)")
    add = parser.add_argument
    add("inputs", nargs="+", metavar="INPUT",
        help="JSON Lines or JSON array file, gzip allowed; - for standard input")
    add("--url", default=os.environ.get("ORDER_RECORDS_URL", "http://127.0.0.1:8080"),
        help="service base URL (env ORDER_RECORDS_URL; default %(default)s)")
    add("--token", help="bearer token with ORDER_RECORD_WRITE (default: env ORDER_RECORDS_TOKEN)")
    add("--batch-size", metavar="N", type=positive(int, 1), default=MAX_BATCH,
        help=f"records per request, 1-{MAX_BATCH} (default %(default)s)")
    add("--concurrency", metavar="N", type=positive(int, 1), default=4,
        help="requests in flight (default %(default)s)")
    add("--max-retries", metavar="N", type=positive(int), default=8,
        help="retries per request (default %(default)s)")
    add("--retry-base-delay", metavar="SECONDS", type=positive(float), default=0.5,
        help="first backoff delay (default %(default)s)")
    add("--retry-max-delay", metavar="SECONDS", type=positive(float), default=30.0,
        help="longest backoff delay (default %(default)s)")
    add("--timeout", metavar="SECONDS", type=positive(float, 0.001), default=60.0,
        help="limit for one request (default %(default)s)")
    add("--checkpoint", metavar="FILE", help="checkpoint file (default: <first input>.checkpoint.json)")
    add("--checkpoint-interval", metavar="SECONDS", type=positive(float), default=1.0,
        help="at most this long between checkpoint writes (default %(default)s)")
    add("--resume", action="store_true", help="skip the lines the checkpoint marks as done")
    add("--rejects", metavar="FILE", default="rejects.jsonl",
        help="JSON Lines file of rejected input (default %(default)s; appended to with --resume)")
    add("--dry-run", action="store_true", help="only parse and count the input; send nothing")
    add("--no-progress", action="store_true", help="no progress bar")
    return parser


def options_from_args(argv: list[str] | None) -> Options:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.batch_size > MAX_BATCH:
        parser.error(f"--batch-size must be at most {MAX_BATCH}")
    url = urlsplit(args.url)
    if url.scheme not in ("http", "https") or not url.netloc:
        parser.error(f"--url must be an http(s) URL, not {args.url!r}")
    token = args.token or os.environ.get("ORDER_RECORDS_TOKEN")
    return Options(inputs=args.inputs, url=args.url, token=token, batch_size=args.batch_size,
                   concurrency=args.concurrency, max_retries=args.max_retries,
                   retry_base_delay=args.retry_base_delay, retry_max_delay=args.retry_max_delay,
                   timeout=args.timeout, checkpoint=args.checkpoint,
                   checkpoint_interval=args.checkpoint_interval, resume=args.resume, rejects=args.rejects,
                   dry_run=args.dry_run, progress=not args.no_progress)


def print_summary(summary: Summary, options: Options, out: TextIO) -> None:
    rows = [("records read", summary.read), ("malformed lines", summary.malformed)]
    if not options.dry_run:
        rows[1:1] = [("created", summary.created), ("unchanged (stored before)", summary.unchanged),
                     ("failed", summary.failed)]
        rows += [("retried requests", summary.retried_requests)]
    if summary.rejected_batches:
        rows.append(("batches refused as a whole", summary.rejected_batches))
    if summary.skipped_lines:
        rows.append(("skipped (resumed)", summary.skipped_lines))
    if summary.missing_id:
        rows.append(("without tenantOrderRecordId", summary.missing_id))
    rows.append(("elapsed", f"{summary.elapsed:.1f} s"))
    if summary.answered or options.dry_run:  # a rate of nothing stored would only mislead
        rows.append(("throughput", f"{summary.records_per_second:,.0f} records/s"))
    print("dry run summary" if options.dry_run else "backfill summary", file=out)
    for label, value in rows:
        print(f"  {label:<28} {value}", file=out)
    if (summary.failed or summary.malformed) and not options.dry_run:
        print(f"  rejected input written to {options.rejects}", file=out)


class Interrupt:
    """The first SIGINT or SIGTERM cancels the run, which saves its checkpoint on the way out; later ones change
    nothing (a double Ctrl-C must not cut that short). Plain signal handlers: they outlive the event loop, which
    would put the default actions back while the summary is being printed."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.task: asyncio.Task[Summary] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def install(self) -> None:
        with contextlib.suppress(ValueError):  # not in the main thread: a caller's signals are its own
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, self.handle)

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            return
        self.signum = signum
        if self.loop is not None and self.task is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: the run is over anyway
                self.loop.call_soon_threadsafe(self.task.cancel)

    async def run(self, backfill: Backfill) -> Summary:
        self.loop, self.task = asyncio.get_running_loop(), asyncio.current_task()  # type: ignore[assignment]
        if self.signum is not None:
            raise asyncio.CancelledError
        return await backfill.run()


def main(argv: list[str] | None = None) -> int:
    options = options_from_args(argv)
    backfill = Backfill(options)
    interrupt = Interrupt()
    interrupt.install()
    try:
        summary = asyncio.run(interrupt.run(backfill))
    except (KeyboardInterrupt, asyncio.CancelledError) as exc:
        print_summary(backfill.summary, options, sys.stdout)
        resumable = "-" not in options.inputs
        print("interrupted: " + (f"the checkpoint {options.checkpoint_path()} is saved; rerun with --resume"
                                 if resumable else "standard input cannot be resumed"), file=sys.stderr)
        by_ctrl_c = isinstance(exc, KeyboardInterrupt) or interrupt.signum == signal.SIGINT
        return EXIT_INTERRUPTED if by_ctrl_c else EXIT_TERMINATED
    if summary.read or summary.malformed or summary.skipped_lines or not summary.fatal:
        print_summary(summary, options, sys.stdout)
    if summary.fatal:
        print(f"error: {summary.fatal}", file=sys.stderr)
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
