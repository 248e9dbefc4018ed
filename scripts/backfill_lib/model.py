"""Options, summary and the units of work of a backfill run."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from tqdm import tqdm

from app.schemas.records import MAX_BATCH

from .reader import Item

__all__ = ["MAX_BATCH", "STDIN", "Batch", "Item", "Options", "Source", "Summary", "log", "reject"]

STDIN = "-"


@dataclass
class Options:
    """What to send where, and how; the CLI flags, plus hooks for tests."""

    inputs: list[str]
    url: str = "http://127.0.0.1:8080"
    token: str | None = field(default=None, repr=False)  # never printed
    batch_size: int = MAX_BATCH
    concurrency: int = 4
    max_retries: int = 8
    retry_base_delay: float = 0.5
    retry_max_delay: float = 30.0
    timeout: float = 60.0
    checkpoint: str | None = None  # None: "<first input>.checkpoint.json" (or backfill.checkpoint.json)
    checkpoint_interval: float = 1.0
    resume: bool = False
    rejects: str = "rejects.jsonl"
    dry_run: bool = False
    progress: bool = True
    stdin: BinaryIO | None = None  # tests: what "-" reads instead of sys.stdin
    sleep: Callable[[float], Awaitable[Any]] = field(default=asyncio.sleep)  # tests: record retry delays
    on_batch_done: Callable[[Batch], None] | None = None  # tests: observe or interrupt the run

    def checkpoint_path(self) -> str:
        first = self.inputs[0] if self.inputs else STDIN
        default = "backfill.checkpoint.json" if first == STDIN else f"{first}.checkpoint.json"
        return self.checkpoint or default


@dataclass
class Summary:
    """Counts of this run; `fatal` is set when it stopped early."""

    read: int = 0
    created: int = 0
    unchanged: int = 0
    failed: int = 0
    rejected_batches: int = 0
    malformed: int = 0
    missing_id: int = 0
    retried_requests: int = 0
    skipped_lines: int = 0
    elapsed: float = 0.0
    fatal: str | None = None

    @property
    def answered(self) -> int:
        return self.created + self.unchanged + self.failed

    @property
    def records_per_second(self) -> float:
        return (self.read if self.answered == 0 else self.answered) / self.elapsed if self.elapsed else 0.0

    @property
    def exit_code(self) -> int:
        return 2 if self.fatal else 1 if self.failed or self.malformed else 0


@dataclass(slots=True)
class Source:
    """One input: a file, or standard input."""

    name: str  # as given on the command line, used in rejects
    key: str | None  # absolute path, the checkpoint key; None for stdin
    skip: int = 0
    size: int = 0  # bytes, for the progress bar


@dataclass(slots=True)
class Batch:
    """Up to batch-size records of one source, and the malformed lines read along with them."""

    seq: int
    source: Source
    end_line: int
    eof: bool
    records: list[Item]
    malformed: list[Item]
    read_to: int | None = None  # bytes of all inputs read once this batch was cut (compressed bytes for gzip)


def log(message: str) -> None:
    tqdm.write(message, file=sys.stderr)


def reject(source: Source, item: Item, kind: str, message: str) -> dict[str, Any]:
    """A line of the rejects file; `kind` is the service's error type (VALIDATION, UNKNOWN) or the tool's own
    (MALFORMED, BATCH_REJECTED, UNEXPECTED)."""
    return {"source": source.name, "line": item.line, "record": item.record,
            "error": {"type": kind, "message": message}}
