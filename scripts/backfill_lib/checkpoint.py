"""Resume state: a checkpoint file that only advances over a contiguous prefix of finished batches."""

from __future__ import annotations

import json
import os
import tempfile
import time
from typing import IO, Any

import orjson

VERSION = 1


class CheckpointError(Exception):
    """The checkpoint cannot be used: unreadable, or an input file changed since it was written."""


class Checkpoint:
    """Per input file (by absolute path): its size and mtime when first seen, and how many lines are done."""

    def __init__(self, path: str | None, files: dict[str, dict[str, Any]] | None = None,
                 rejects: dict[str, Any] | None = None) -> None:
        self.path = path
        self.files: dict[str, dict[str, Any]] = files or {}
        # The rejects file (absolute path) and its size when the checkpoint was saved: what a resumed run keeps.
        self.rejects = rejects

    @classmethod
    def load(cls, path: str) -> Checkpoint:
        try:
            with open(path, "rb") as handle:
                data = orjson.loads(handle.read())
            files = data["files"]
            rejects = data.get("rejects")
            if data.get("version") != VERSION or not isinstance(files, dict) or not (
                    rejects is None or isinstance(rejects, dict)):
                raise ValueError("unknown checkpoint format")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
        return cls(path, files, rejects)

    def rejects_kept(self, path: str) -> int | None:
        """How many bytes of the rejects file at `path` this checkpoint covers; None if it does not know."""
        if self.rejects is None or self.rejects.get("path") != path:
            return None
        size = self.rejects.get("size")
        return size if isinstance(size, int) and size >= 0 else None

    def begin(self, key: str, size: int, mtime_ns: int) -> int:
        """Register an input file and return how many of its lines are already done."""
        state = self.files.get(key)
        if state is None:
            self.files[key] = {"size": size, "mtime_ns": mtime_ns, "lines": 0, "complete": False}
            return 0
        if (state.get("size"), state.get("mtime_ns")) != (size, mtime_ns):
            raise CheckpointError(f"{key} changed since checkpoint {self.path} was written (size or mtime "
                                  "differ); restore the original file or delete the checkpoint to start over")
        return int(state["lines"])

    def advance(self, key: str, lines: int, complete: bool) -> None:
        state = self.files[key]
        state["lines"] = max(state["lines"], lines)
        state["complete"] = state["complete"] or complete

    def save(self) -> None:
        """Write atomically: a temporary file in the same directory, then os.replace."""
        if self.path is None:
            return
        data: dict[str, Any] = {"version": VERSION, "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                "files": self.files}
        if self.rejects is not None:
            data["rejects"] = self.rejects
        directory = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(orjson.dumps(data, option=orjson.OPT_INDENT_2))
            os.replace(tmp, self.path)
        except BaseException:
            os.unlink(tmp)
            raise


class Ledger:
    """Applies finished batches in sequence order: writes their rejects, then advances the checkpoint."""

    def __init__(self, checkpoint: Checkpoint, rejects: IO[bytes] | None, interval: float = 1.0,
                 rejects_path: str | None = None) -> None:
        self.checkpoint = checkpoint
        self.rejects = rejects
        self.rejects_path = rejects_path
        self.interval = interval
        self.next_seq = 0
        self.pending: dict[int, tuple[str | None, int, bool, list[dict[str, Any]]]] = {}
        self.last_save = time.monotonic()

    def finish(self, seq: int, key: str | None, end_line: int, eof: bool, rejects: list[dict]) -> None:
        """Record batch `seq` as finished; batches after a gap wait until the gap is filled."""
        self.pending[seq] = (key, end_line, eof, rejects)
        advanced = False
        while self.next_seq in self.pending:
            key, end_line, eof, rejects = self.pending.pop(self.next_seq)
            if self.rejects is not None:
                for reject in rejects:
                    self.rejects.write(dump(reject) + b"\n")
            if key is not None:
                self.checkpoint.advance(key, end_line, eof)
            self.next_seq += 1
            advanced = True
        if advanced and time.monotonic() - self.last_save >= self.interval:
            self.flush()

    def flush(self) -> None:
        """Make the rejects durable first, then the checkpoint that covers them and says how far they go: lines
        written after that (by batches a crash leaves for a resumed run to redo) are cut off when it resumes."""
        if self.rejects is not None:
            self.rejects.flush()
            if self.rejects_path is not None:
                self.checkpoint.rejects = {"path": self.rejects_path, "size": self.rejects.tell()}
        self.checkpoint.save()
        self.last_save = time.monotonic()


def dump(entry: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(entry)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits read from a JSON array file
        return json.dumps(entry, ensure_ascii=False, default=repr).encode()
