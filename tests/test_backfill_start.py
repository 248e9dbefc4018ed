"""The backfill's first seconds and its progress: the service and token checked before sending, fast failure on a dead
URL, warnings while retrying, a progress bar with a total, each rejected line once across an interrupted run."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import socket
import time
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import jwt
import pytest
from aiohttp import web

from app.api.auth import READ, WRITE
from scripts import backfill
from scripts.backfill_lib import runner
from scripts.backfill_lib.model import Batch, Summary
from scripts.backfill_lib.runner import run
from tests.test_backfill import TOKEN, FakeService, options, read_rejects, records, write_jsonl


@pytest.fixture
async def service(aiohttp_server: Any) -> FakeService:
    fake = FakeService()
    fake.server = await aiohttp_server(fake.app())  # type: ignore[attr-defined]
    return fake


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def claims_token(**claims: Any) -> str:
    return jwt.encode({"sub": "t", **claims}, "some-secret-that-is-long-enough-for-hs256", algorithm="HS256")


async def test_a_dead_url_fails_at_once_without_retries_or_files(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    source = write_jsonl(tmp_path / "orders.jsonl", records(50))
    argv = ["--url", f"http://127.0.0.1:{closed_port()}", "--token", TOKEN, "--no-progress",
            "--rejects", str(tmp_path / "rejects.jsonl"), str(source)]
    assert await asyncio.to_thread(backfill.main, argv) == 2
    out, err = capsys.readouterr()
    assert "cannot connect to http://127.0.0.1:" in err and "--url" in err
    assert "warning: retrying" not in err  # no backoff first: refused at the start is fatal at once
    assert "throughput" not in out and "records/s" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.jsonl"]  # no checkpoint, no rejects file


async def test_a_url_that_is_not_the_service_fails_at_once(aiohttp_server: Any, tmp_path: Path) -> None:
    other = await aiohttp_server(web.Application())  # answers 404 to everything
    opts = options(None, tmp_path, write_jsonl(tmp_path / "orders.jsonl", records(5)),
                   url=str(other.make_url("")))
    summary = await run(opts)
    assert summary.exit_code == 2 and "/health answered HTTP 404" in (summary.fatal or "")
    assert opts.sleeps == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(("claims", "fatal"), [
    ({"exp": int(time.time()) - 60, "permissions": [READ, WRITE]}, "expired"),
    ({"exp": int(time.time()) + 600, "permissions": [READ]}, f"does not grant {WRITE}"),
    ({"exp": int(time.time()) + 600, "scope": "openid"}, f"does not grant {WRITE}"),
])
async def test_a_token_that_cannot_write_stops_before_sending(service: FakeService, tmp_path: Path,
                                                              claims: dict[str, Any], fatal: str) -> None:
    token = claims_token(**claims)
    service.accepted.add(f"Bearer {token}")
    summary = await run(options(service, tmp_path, write_jsonl(tmp_path / "orders.jsonl", records(5)), token=token))
    assert summary.exit_code == 2 and fatal in (summary.fatal or "")
    assert service.requests == 0 and service.checks == ["/health"]


async def test_a_write_only_token_is_explained_and_the_run_goes_on(service: FakeService, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    token = claims_token(exp=int(time.time()) + 600, permissions=[WRITE])
    service.accepted.add(f"Bearer {token}")
    summary = await run(options(service, tmp_path, write_jsonl(tmp_path / "orders.jsonl", records(30)), token=token))
    assert summary.exit_code == 0 and summary.created == 30
    assert service.checks == ["/health"]  # the token cannot read, so no read request is made with it
    assert f"needs {READ}, which it lacks" in capsys.readouterr().err


async def test_retries_are_announced(service: FakeService, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    service.fail_with = [503, 503]
    summary = await run(options(service, tmp_path, write_jsonl(tmp_path / "orders.jsonl", records(10)),
                                concurrency=1))
    assert summary.exit_code == 0 and summary.retried_requests == 2
    err = capsys.readouterr().err
    assert "warning: retrying a batch in" in err and "(attempt 1 of 8): HTTP 503" in err


class RecordingBar(runner.tqdm):  # type: ignore[misc,name-defined]
    """The progress bar, drawn into a string, with every position it reached."""

    made: ClassVar[list[RecordingBar]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.positions: list[int] = []
        self.text = io.StringIO()
        super().__init__(*args, **{**kwargs, "file": self.text, "disable": False, "mininterval": 0})
        RecordingBar.made.append(self)

    def update(self, n: float | None = 1) -> bool | None:
        shown = super().update(n)
        self.positions.append(self.n)
        return shown


@pytest.mark.parametrize("gz", [False, True])
async def test_the_progress_bar_counts_bytes_of_the_input_to_a_total(service: FakeService, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     gz: bool) -> None:
    monkeypatch.setattr(runner, "tqdm", RecordingBar)
    RecordingBar.made = []
    first = write_jsonl(tmp_path / ("a.jsonl.gz" if gz else "a.jsonl"), records(120), gz=gz)
    second = write_jsonl(tmp_path / "b.jsonl", records(40, start=120))
    summary = await run(options(service, tmp_path, first, second, progress=True))
    assert summary.exit_code == 0 and summary.created == 160
    [bar] = RecordingBar.made
    total = first.stat().st_size + second.stat().st_size  # for gzip: the compressed size, what is read
    assert bar.total == total
    assert bar.positions == sorted(bar.positions) and bar.positions[-1] == total
    assert len(bar.positions) > 2  # it moved batch by batch
    assert "100%" in bar.text.getvalue() and "160 records" in bar.text.getvalue()


async def test_standard_input_is_counted_in_records(service: FakeService, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "tqdm", RecordingBar)
    RecordingBar.made = []
    data = b"".join(json.dumps(r).encode() + b"\n" for r in records(30))
    summary = await run(options(service, tmp_path, "-", stdin=io.BytesIO(gzip.compress(data)), progress=True))
    assert summary.exit_code == 0
    [bar] = RecordingBar.made
    assert bar.total is None and bar.n == 30


async def test_each_rejected_line_appears_once_after_a_crash_and_resume(service: FakeService,
                                                                        tmp_path: Path) -> None:
    """A crash (kill -9, power loss) can leave rejects written past the last saved checkpoint; the resumed run
    reads those lines again, so it first cuts the rejects file back to what that checkpoint covers."""
    lines = [json.dumps(r) for r in records(300)]
    for at in (290, 220, 130, 60, 5):  # five malformed lines spread over the batches
        lines.insert(at, '{"broken": ')
    source = tmp_path / "orders.jsonl"
    source.write_text("\n".join(lines) + "\n")
    checkpoint = tmp_path / "orders.jsonl.checkpoint.json"
    finished: list[int] = []
    snapshot: list[bytes] = []
    task: asyncio.Task[Summary] | None = None

    def crash_later(batch: Batch) -> None:
        finished.append(batch.seq)
        if len(finished) == 2:
            snapshot.append(checkpoint.read_bytes())  # what a crash at this instant would leave behind
        if len(finished) == 9:
            assert task is not None
            task.cancel()

    task = asyncio.create_task(run(options(service, tmp_path, source, concurrency=1, on_batch_done=crash_later)))
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(read_rejects(tmp_path)) >= 3  # written by batches after the restored checkpoint
    checkpoint.write_bytes(snapshot[0])
    summary = await run(options(service, tmp_path, source, resume=True))
    assert summary.exit_code == 1
    counted = Counter(entry["line"] for entry in read_rejects(tmp_path))
    assert counted == {line: 1 for line in (6, 62, 133, 224, 295)}, counted
