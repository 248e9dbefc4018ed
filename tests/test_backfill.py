"""Tests of the backfill tool (scripts.backfill) against a fake Order Records service."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import re
import signal
import sys
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

from scripts import backfill
from scripts.backfill_lib import client, reader
from scripts.backfill_lib.checkpoint import Checkpoint, Ledger
from scripts.backfill_lib.model import Batch, Options, Summary
from scripts.backfill_lib.runner import run
from scripts.make_sample_data import generate_records

TOKEN = "s3cret-test-token"
NOW = datetime(2025, 6, 1, tzinfo=UTC)


class FakeService:
    """Mimics PUT /api/orderrecords: stores by tenantOrderRecordId, can fail, throttle or drop first."""

    def __init__(self) -> None:
        self.stored: dict[str, dict[str, Any]] = {}
        self.anonymous: list[dict[str, Any]] = []  # records without tenantOrderRecordId
        self.received: list[str | None] = []  # every record's id, in arrival order (duplicates included)
        self.requests = 0
        self.fail_with: list[int] = []  # statuses to answer the next requests with (503, 429, ...)
        self.drop = 0  # connections to drop without an answer
        self.latency = 0.0  # seconds before every answer
        self.slow: set[int] = set()  # batches (by their first record's index) answered late: out of order
        self.checks: list[str] = []  # the GET requests of the check before sending
        self.accepted = {f"Bearer {TOKEN}"}  # Authorization headers it takes

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_put("/api/orderrecords", self.handle)
        app.router.add_get("/api/orderrecords", self.page)
        app.router.add_get("/health", self.health)
        return app

    async def health(self, request: web.Request) -> web.Response:
        self.checks.append("/health")
        return web.json_response({"status": "ok"})

    async def page(self, request: web.Request) -> web.Response:
        self.checks.append(request.path_qs)
        if request.headers.get("Authorization") not in self.accepted:
            return self.problem(401, "invalid token")
        return web.json_response({"total": len(self.stored), "orderRecords": list(self.stored.values())[:1]})

    @staticmethod
    def problem(status: int, *descriptions: str) -> web.Response:
        body = [{"summary": "error", "description": d} for d in descriptions]
        return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        if request.headers.get("Authorization") not in self.accepted:
            return self.problem(401, "invalid token")
        if self.drop:
            self.drop -= 1
            assert request.transport is not None
            request.transport.close()
            raise ConnectionResetError("dropped by the fake service")
        if self.fail_with:
            status = self.fail_with.pop(0)
            response = self.problem(status, "try again later")
            if status == 429:
                response.headers["Retry-After"] = "1"
            return response
        assert request.content_type == "application/json"
        records = (await request.json())["operations"]
        if not 1 <= len(records) <= 25:
            return self.problem(400, "operations: 1 to 25 records per request")
        if any(r.get("tenantOrderRecordId") == "poison" for r in records):
            return self.problem(400, "operations: not valid", "operations.0.x: bad")
        number = str(records[0].get("tenantOrderRecordId", "")).rsplit("-", 1)[-1]
        first = int(number) if number.isdigit() else -1
        if first in self.slow or self.latency:
            await asyncio.sleep(self.latency or 0.05)
        details = []
        for record in records:
            key = record.get("tenantOrderRecordId")
            self.received.append(key)
            if "facilityRef" not in record:
                details.append(failed("facilityRef: Missing data for required field."))
            elif key in self.stored:
                stored = self.stored[key]
                if {k: v for k, v in stored.items() if k not in ("id", "version")} == record:
                    details.append({"status": "UNCHANGED", "orderRecord": stored})
                else:
                    details.append(failed(f"tenantOrderRecordId: {key!r} is stored already with other content, "
                                          f"as order record {stored['id']} (order records cannot be changed)."))
            else:
                stored = {**record, "id": f"{len(self.stored) + len(self.anonymous):024x}", "version": 1}
                if key is None:
                    self.anonymous.append(stored)
                else:
                    self.stored[key] = stored
                details.append({"status": "CREATED", "orderRecord": stored})
        statuses = [d["status"] for d in details]
        summary = {"created": statuses.count("CREATED"), "updated": 0, "unchanged": statuses.count("UNCHANGED")}
        return web.json_response({"summary": summary, "details": details})


def failed(message: str) -> dict[str, Any]:
    return {"status": "FAILED", "error": {"type": "VALIDATION", "message": message}}


@pytest.fixture
async def service(aiohttp_server: Any) -> FakeService:
    fake = FakeService()
    fake.server = await aiohttp_server(fake.app())  # type: ignore[attr-defined]
    return fake


def records(count: int, start: int = 0) -> list[dict[str, Any]]:
    return list(generate_records(count, seed=7, start=start, now=NOW))


def write_jsonl(path: Path, items: list[Any], gz: bool = False) -> Path:
    data = b"".join(orjson.dumps(item) + b"\n" for item in items)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def options(service: FakeService | None, tmp_path: Path, *inputs: Path | str, **overrides: Any) -> Options:
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    base = {"inputs": [str(p) for p in inputs], "token": TOKEN, "progress": False,
            "rejects": str(tmp_path / "rejects.jsonl"), "checkpoint_interval": 0.0, "sleep": sleep,
            "retry_base_delay": 0.01}
    if service is not None:
        base["url"] = str(service.server.make_url(""))  # type: ignore[attr-defined]
    opts = Options(**{**base, **overrides})
    opts.sleeps = sleeps  # type: ignore[attr-defined]
    return opts


def read_rejects(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "rejects.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [r["tenantOrderRecordId"] for r in items]


async def test_full_run_stores_every_record_once(service: FakeService, tmp_path: Path) -> None:
    data = records(130)
    source = write_jsonl(tmp_path / "orders.jsonl", data)
    summary = await run(options(service, tmp_path, source))
    assert (summary.created, summary.unchanged, summary.failed, summary.exit_code) == (130, 0, 0, 0)
    assert service.requests == 6 and sorted(service.received) == sorted(ids(data))
    assert service.stored["legacy-7-42"]["lineItems"] == data[42]["lineItems"]
    state = json.loads((tmp_path / "orders.jsonl.checkpoint.json").read_text())["files"]
    assert state[str(source.resolve())]["lines"] == 130 and state[str(source.resolve())]["complete"] is True
    assert read_rejects(tmp_path) == []


async def test_second_run_without_resume_is_refused_and_resume_of_finished_run_sends_nothing(
        service: FakeService, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "orders.jsonl", records(30))
    assert (await run(options(service, tmp_path, source))).exit_code == 0
    again = await run(options(service, tmp_path, source))
    assert again.exit_code == 2 and "--resume" in (again.fatal or "")
    resumed = await run(options(service, tmp_path, source, resume=True))
    assert resumed.exit_code == 0 and resumed.skipped_lines == 30 and service.requests == 2


@pytest.mark.parametrize("hard_kill", [False, True])
async def test_interrupted_run_resumes_without_duplicates_or_gaps(service: FakeService, tmp_path: Path,
                                                                  hard_kill: bool) -> None:
    data = records(500)
    source = write_jsonl(tmp_path / "orders.jsonl", data)
    checkpoint = tmp_path / "orders.jsonl.checkpoint.json"
    service.slow = {50, 150, 250, 350}  # batches 2, 6, 10, 14 are slow, so batches finish out of order
    finished: list[int] = []
    snapshot: list[bytes] = []
    task: asyncio.Task[Summary] | None = None

    def interrupt(batch: Batch) -> None:
        finished.append(batch.seq)
        if len(finished) == 7:
            snapshot.append(checkpoint.read_bytes())  # what a kill -9 at this instant would leave behind
            assert task is not None
            task.cancel()  # like Ctrl-C: the run saves its checkpoint on the way out

    opts = options(service, tmp_path, source, concurrency=4, on_batch_done=interrupt)
    task = asyncio.create_task(run(opts))
    with pytest.raises(asyncio.CancelledError):
        await task
    if hard_kill:
        checkpoint.write_bytes(snapshot[0])
    done = json.loads(checkpoint.read_text())["files"][str(source.resolve())]["lines"]
    assert done % 25 == 0 and 0 < done < 500
    assert done <= 25 * (1 + max(finished))  # never past a batch that was not answered
    first_requests, first_received = service.requests, len(service.received)

    summary = await run(options(service, tmp_path, source, resume=True))
    assert summary.exit_code == 0 and summary.skipped_lines == done
    assert service.requests - first_requests == (500 - done) // 25  # only the rest is sent
    assert sorted(service.received[first_received:]) == sorted(ids(data)[done:])  # each once, none before
    assert sorted(service.stored) == sorted(ids(data))  # nothing missing, nothing stored twice
    assert summary.created + summary.unchanged == 500 - done
    assert json.loads(checkpoint.read_text())["files"][str(source.resolve())]["complete"] is True


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
async def test_cli_stopped_by_signals_saves_its_checkpoint(service: FakeService, tmp_path: Path,
                                                          signum: int, code: int) -> None:
    service.latency = 0.02
    data = records(300)
    lines = [orjson.dumps(r) for r in data]
    for at in (280, 150, 40, 3):  # malformed lines, on either side of where the run stops
        lines.insert(at, b'{"broken": ')
    source = tmp_path / "orders.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    argv = ["-m", "scripts.backfill", "--url", str(service.server.make_url("")),  # type: ignore[attr-defined]
            "--concurrency", "2", "--no-progress", "--rejects", str(tmp_path / "rejects.jsonl"), str(source)]
    process = await asyncio.create_subprocess_exec(
        sys.executable, *argv, cwd=Path(__file__).parent.parent,
        env={**os.environ, "ORDER_RECORDS_TOKEN": TOKEN},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # even where the caller ignores it
    for _ in range(500):
        if service.requests >= 6:
            break
        await asyncio.sleep(0.01)
    process.send_signal(signum)
    process.send_signal(signum)  # twice, as a double Ctrl-C or timeout(1) and a supervisor do
    out, err = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == code, err.decode()
    assert b"rerun with --resume" in err and TOKEN.encode() not in out + err
    assert b"Traceback" not in err
    done = json.loads((tmp_path / "orders.jsonl.checkpoint.json").read_text())["files"][str(source.resolve())]
    assert 0 < done["lines"] < 304
    service.latency = 0
    summary = await run(options(service, tmp_path, source, resume=True))
    assert summary.exit_code == 1 and sorted(service.stored) == sorted(ids(data))
    assert sorted(entry["line"] for entry in read_rejects(tmp_path)) == [4, 42, 153, 284]  # each once


def test_ledger_advances_only_over_a_contiguous_prefix(tmp_path: Path) -> None:
    checkpoint = Checkpoint(str(tmp_path / "cp.json"))
    checkpoint.begin("/in.jsonl", 10, 1)
    sink = io.BytesIO()
    ledger = Ledger(checkpoint, sink, interval=0)
    ledger.finish(2, "/in.jsonl", 75, False, [{"line": 60}])
    ledger.finish(1, "/in.jsonl", 50, False, [])
    assert checkpoint.files["/in.jsonl"]["lines"] == 0 and sink.getvalue() == b""
    ledger.finish(0, "/in.jsonl", 25, False, [{"line": 3}])
    assert checkpoint.files["/in.jsonl"]["lines"] == 75
    assert [json.loads(x)["line"] for x in sink.getvalue().splitlines()] == [3, 60]
    ledger.finish(4, "/in.jsonl", 90, True, [])
    assert checkpoint.files["/in.jsonl"] == {"size": 10, "mtime_ns": 1, "lines": 75, "complete": False}
    assert json.loads((tmp_path / "cp.json").read_text())["files"]["/in.jsonl"]["lines"] == 75


async def test_retries_503_and_429_honouring_retry_after(service: FakeService, tmp_path: Path) -> None:
    service.fail_with = [503, 429, 502]
    source = write_jsonl(tmp_path / "orders.jsonl", records(50))
    opts = options(service, tmp_path, source, concurrency=1, retry_base_delay=0.01)
    summary = await run(opts)
    assert summary.exit_code == 0 and summary.created == 50 and summary.retried_requests == 3
    assert service.requests == 5 and len(service.received) == 50
    sleeps = opts.sleeps  # type: ignore[attr-defined]
    assert sleeps[1] == 1.0  # Retry-After: 1
    assert 0.005 <= sleeps[0] <= 0.01 and 0.02 <= sleeps[2] <= 0.04  # exponential backoff with jitter


async def test_dropped_connections_are_retried(service: FakeService, tmp_path: Path) -> None:
    service.drop = 3
    source = write_jsonl(tmp_path / "orders.jsonl", records(60))
    summary = await run(options(service, tmp_path, source, concurrency=2))
    assert summary.exit_code == 0 and summary.created == 60 and summary.retried_requests >= 1
    assert sorted(service.stored) == sorted(ids(records(60)))


async def test_gives_up_after_max_retries_with_exit_2(service: FakeService, tmp_path: Path) -> None:
    service.fail_with = [503] * 50
    source = write_jsonl(tmp_path / "orders.jsonl", records(10))
    summary = await run(options(service, tmp_path, source, concurrency=1, max_retries=2))
    assert summary.exit_code == 2 and "after 2 retries" in (summary.fatal or "") and service.requests == 3
    assert json.loads((tmp_path / "orders.jsonl.checkpoint.json").read_text())["files"][
        str(source.resolve())]["lines"] == 0


async def test_auth_failure_stops_without_retry_or_leaking_the_token(
        service: FakeService, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_jsonl(tmp_path / "orders.jsonl", records(100))
    argv = ["--url", str(service.server.make_url("")), "--token", "wrong-token-value",  # type: ignore[attr-defined]
            "--concurrency", "1", "--no-progress", "--rejects", str(tmp_path / "rejects.jsonl"), str(source)]
    assert await asyncio.to_thread(backfill.main, argv) == 2
    out, err = capsys.readouterr()
    assert "HTTP 401" in err and "wrong-token-value" not in out + err
    assert service.requests == 0 and service.checks == ["/health", "/api/orderrecords?size=1"]  # checked first
    assert out == ""  # nothing was read, so no summary
    # nothing was written either: the run can simply be started again with the right token
    assert not (tmp_path / "orders.jsonl.checkpoint.json").exists() and not (tmp_path / "rejects.jsonl").exists()


async def test_a_refusal_of_the_first_batch_stops_the_run(service: FakeService, tmp_path: Path) -> None:
    """A token the check before sending cannot fully vouch for (it may read, maybe not write) fails at once."""
    service.fail_with = [403]
    summary = await run(options(service, tmp_path, write_jsonl(tmp_path / "orders.jsonl", records(100)),
                                concurrency=1))
    assert summary.exit_code == 2 and "ORDER_RECORD_WRITE" in (summary.fatal or "")
    assert service.requests == 1 and summary.retried_requests == 0


async def test_malformed_lines_and_failed_records_go_to_rejects(service: FakeService, tmp_path: Path) -> None:
    data = records(30)
    del data[5]["facilityRef"]
    lines = [orjson.dumps(r) for r in data[:10]] + [b'{"broken": ', b"", b"[1, 2]", b"42"]
    lines += [orjson.dumps(r) for r in data[10:]]
    source = tmp_path / "orders.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    summary = await run(options(service, tmp_path, source))
    assert (summary.created, summary.failed, summary.malformed, summary.exit_code) == (29, 1, 3, 1)
    rejects = read_rejects(tmp_path)
    assert [(r["line"], r["source"]) for r in rejects] == [(6, str(source)), (11, str(source)),
                                                           (13, str(source)), (14, str(source))]
    assert rejects[0]["error"] == {"type": "VALIDATION", "message": "facilityRef: Missing data for required field."}
    assert rejects[0]["record"]["tenantOrderRecordId"] == "legacy-7-5"
    assert rejects[1]["record"] == '{"broken": ' and rejects[1]["error"]["type"] == "MALFORMED"
    assert "invalid JSON" in rejects[1]["error"]["message"]
    assert rejects[2]["record"] == [1, 2] and "not a JSON object" in rejects[2]["error"]["message"]


async def test_batch_rejected_with_400_is_not_retried(service: FakeService, tmp_path: Path) -> None:
    data = records(50)
    data[30]["tenantOrderRecordId"] = "poison"
    source = write_jsonl(tmp_path / "orders.jsonl", data)
    summary = await run(options(service, tmp_path, source, concurrency=1))
    assert (summary.created, summary.failed, summary.rejected_batches, summary.exit_code) == (25, 25, 1, 1)
    assert service.requests == 2 and summary.retried_requests == 0
    rejects = read_rejects(tmp_path)
    assert [r["line"] for r in rejects] == list(range(26, 51))
    assert {r["error"]["message"] for r in rejects} == {
        "batch rejected with HTTP 400: error: operations: not valid; error: operations.0.x: bad"}
    assert {r["error"]["type"] for r in rejects} == {"BATCH_REJECTED"}


async def test_a_resend_is_unchanged_and_done_a_changed_one_is_rejected(service: FakeService, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    data = records(30)
    source = write_jsonl(tmp_path / "orders.jsonl", data)
    assert (await run(options(service, tmp_path, source))).created == 30
    (tmp_path / "orders.jsonl.checkpoint.json").unlink()
    data[7]["facilityRef"] = "store-elsewhere-01"
    write_jsonl(source, data)
    summary = await run(options(service, tmp_path, source))
    assert (summary.created, summary.unchanged, summary.failed, summary.exit_code) == (0, 29, 1, 1)
    [refused] = read_rejects(tmp_path)
    assert (refused["line"], refused["record"]) == (8, data[7])
    assert refused["error"] == {"type": "VALIDATION", "message": (
        "tenantOrderRecordId: 'legacy-7-7' is stored already with other content, as order record "
        f"{service.stored['legacy-7-7']['id']} (order records cannot be changed).")}
    (tmp_path / "orders.jsonl.checkpoint.json").unlink()
    write_jsonl(source, data[:7] + data[8:])
    summary = await run(options(service, tmp_path, source))
    assert (summary.created, summary.unchanged, summary.failed, summary.exit_code) == (0, 29, 0, 0)  # all done
    assert read_rejects(tmp_path) == []
    backfill.print_summary(summary, options(service, tmp_path, source), sys.stdout)
    assert re.search(r"unchanged \(stored before\) +29\n", capsys.readouterr().out)


@pytest.mark.parametrize(("payload", "text"), [
    (b'[{"summary": "Invalid input", "description": "operations: Missing data for required field."}, '
     b'{"summary": "Invalid input", "description": "x: y"}]',
     "Invalid input: operations: Missing data for required field.; Invalid input: x: y"),
    (b'[{"summary": "Forbidden"}]', "Forbidden"),
    (b'{"title": "not an ApiError"}', "{'title': 'not an ApiError'}"),
    (b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>"),
])
def test_error_answers_are_read_as_api_errors(payload: bytes, text: str) -> None:
    assert client.problem(payload)[0] == text


@pytest.mark.parametrize("payload", [b'{"results": []}', b'{"details": 3}', b'{"details": [{}]}', b"[]", b"x"])
def test_a_bulk_answer_without_one_detail_per_record_is_fatal(payload: bytes) -> None:
    with pytest.raises(client.FatalError, match="details"):
        client.parse_details(payload, 2)


@pytest.mark.parametrize("name", ["orders.jsonl.gz", "orders-without-extension"])
async def test_gzip_input_is_detected_by_magic_bytes(service: FakeService, tmp_path: Path, name: str) -> None:
    data = records(40)
    source = write_jsonl(tmp_path / name, data, gz=True)
    summary = await run(options(service, tmp_path, source))
    assert summary.exit_code == 0 and sorted(service.stored) == sorted(ids(data))


async def test_truncated_gzip_is_fatal_after_storing_what_was_readable(service: FakeService,
                                                                       tmp_path: Path) -> None:
    data = records(400)
    source = write_jsonl(tmp_path / "orders.jsonl.gz", data, gz=True)
    source.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    summary = await run(options(service, tmp_path, source))
    assert summary.exit_code == 2 and "EOFError" in (summary.fatal or "")
    files = json.loads((tmp_path / "orders.jsonl.gz.checkpoint.json").read_text())["files"]
    done = files[str(source.resolve())]
    assert 0 < done["lines"] < 400 and done["complete"] is False
    assert set(ids(data)[: done["lines"]]) <= set(service.stored)


def test_corrupt_gzip_is_fatal_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gzipper = zlib.compressobj(wbits=31)
    head = gzipper.compress(b"".join(orjson.dumps(r) + b"\n" for r in records(30))) + gzipper.flush(zlib.Z_FULL_FLUSH)
    source = tmp_path / "orders.jsonl.gz"
    source.write_bytes(head + b"\x07" * 64)  # then a deflate block of the reserved type 3, which zlib refuses
    assert backfill.main(["--dry-run", "--no-progress", str(source)]) == 2
    out, err = capsys.readouterr()
    assert "cannot read" in err and "invalid block type" in err and "Traceback" not in err
    assert re.search(r"records read +\d+\n", out)  # the summary of what was read before


@pytest.mark.parametrize("gz", [False, True])
async def test_json_array_input_streams_across_chunks(service: FakeService, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch, gz: bool) -> None:
    monkeypatch.setattr(reader, "CHUNK", 97)  # force many refills in the middle of elements
    data = records(60)
    text = "\n  " + json.dumps([*data[:20], "not a record", *data[20:]], indent=2, ensure_ascii=False)
    source = tmp_path / "orders.json"
    source.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    summary = await run(options(service, tmp_path, source))
    assert (summary.created, summary.malformed, summary.exit_code) == (60, 1, 1)
    assert [service.stored[k]["lineItems"] for k in ids(data)] == [r["lineItems"] for r in data]
    assert [(r["line"], r["record"]) for r in read_rejects(tmp_path)] == [(21, "not a record")]


def test_broken_json_arrays_report_the_broken_element() -> None:
    text = json.dumps(records(3))
    items = list(reader.iter_items(io.BytesIO(text[:-40].encode())))
    assert [i.line for i in items if i.error is None] == [1, 2] and items[-1].line == 3 and items[-1].error
    items = list(reader.iter_items(io.BytesIO(b'[{"a": 1}]\n{"b": 2}\n')))  # JSON Lines opening with an array
    assert [(i.line, i.error) for i in items] == [
        (1, None), (2, "unexpected data after the end of the JSON array (at byte offset 11)")]
    items = list(reader.iter_items(io.BytesIO(b'[{"a": 1} {"b": 2}, {"c": 3}]')))  # a missing comma
    assert [(i.line, i.error) for i in items] == [(1, "invalid JSON: Extra data at line 1 column 10"), (2, None)]
    assert [i.record for i in reader.iter_items(io.BytesIO(text.encode()), skip=2)] == records(3)[2:]


async def test_what_the_service_would_refuse_is_malformed_locally(service: FakeService,
                                                                  tmp_path: Path) -> None:
    big = 10**30 + 1
    stored = '{"tenantOrderRecordId": "big", "facilityRef": "f", "customAttributes": {"n": ' + str(big) + "}}"
    failed = '{"tenantOrderRecordId": "bad", "customAttributes": {"s": "\\ud83d\\ude00", "n": ' + f"{big}}}}}"
    text = '[{"a": NaN}, {"b": 1e999}, {"c": "\\ud800"}, ' + stored + ", " + failed + "]"
    source = tmp_path / "odd.json"
    source.write_text(text)
    summary = await run(options(service, tmp_path, source))
    assert (summary.malformed, summary.created, summary.failed) == (3, 1, 1)
    assert service.stored["big"]["customAttributes"]["n"] == big  # sent exactly as written
    rejects = read_rejects(tmp_path)
    assert [r["error"]["message"] for r in rejects[:3]] == [
        "invalid JSON: NaN is not a JSON number", "invalid JSON: number 1e999 is out of range",
        "invalid JSON: a string holds an unpaired UTF-16 surrogate escape"]
    assert rejects[3]["line"] == 5  # written although orjson cannot encode its big integer:
    assert rejects[3]["record"]["customAttributes"] == {"n": big, "s": "\U0001f600"}
    bad = tmp_path / "odd.jsonl"
    bad.write_bytes(b'{"a": NaN}\n{"c": "\\ud800"}\n{"e": "\xff"}\n')
    assert [i.error is not None for i in reader.iter_items(io.BytesIO(bad.read_bytes()))] == [True] * 3


def test_duplicate_keys_are_malformed_locally_so_they_cannot_sink_a_batch() -> None:
    """The service refuses a whole batch holding one record with duplicate keys; the tool catches them first."""
    lines = b'{"facilityRef": "a", "facilityRef": "b"}\n{"facilityRef": "c"}\n'
    assert [i.error for i in reader.iter_items(io.BytesIO(lines))] == [
        "invalid JSON: duplicate key 'facilityRef' in one object", None]
    array = b'[{"x": {"k": 1, "k": 2}}, {"facilityRef": "c"}]'
    assert [i.error for i in reader.iter_items(io.BytesIO(array))] == [
        "invalid JSON: duplicate key 'k' in one object", None]


async def test_stdin_and_several_files_in_one_run(service: FakeService, tmp_path: Path) -> None:
    first = write_jsonl(tmp_path / "a.jsonl", records(30))
    second = write_jsonl(tmp_path / "b.jsonl", records(20, 30))
    piped = gzip.compress(b"".join(orjson.dumps(r) + b"\n" for r in records(5, 50)))
    stdin = io.BufferedReader(io.BytesIO(piped))
    summary = await run(options(service, tmp_path, first, "-", second, stdin=stdin))
    assert summary.created == 55 and service.requests == 4 and len(service.stored) == 55
    files = json.loads((tmp_path / "a.jsonl.checkpoint.json").read_text())["files"]
    assert {Path(k).name: v["lines"] for k, v in files.items()} == {"a.jsonl": 30, "b.jsonl": 20}
    refused = await run(options(service, tmp_path, first, "-", resume=True))
    assert refused.exit_code == 2 and "standard input cannot be resumed" in (refused.fatal or "")


async def test_changed_input_file_is_a_checkpoint_mismatch(service: FakeService, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "orders.jsonl", records(30))
    await run(options(service, tmp_path, source))
    write_jsonl(source, records(31))
    summary = await run(options(service, tmp_path, source, resume=True))
    assert summary.exit_code == 2 and "changed since checkpoint" in (summary.fatal or "")
    assert service.requests == 2


async def test_missing_tenant_order_record_id_warns_up_front(service: FakeService, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    data = records(10)
    for record in data[3:6]:
        del record["tenantOrderRecordId"]
    source = write_jsonl(tmp_path / "orders.jsonl", data)
    summary = await run(options(service, tmp_path, source))
    assert summary.exit_code == 0 and summary.missing_id == 3 and len(service.anonymous) == 3
    err = capsys.readouterr().err
    assert "line 4" in err and "no tenantOrderRecordId" in err and "stored twice" in err


def test_dry_run_counts_locally_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    good = write_jsonl(tmp_path / "good.jsonl", records(40))
    assert backfill.main(["--dry-run", "--url", "http://127.0.0.1:9", str(good)]) == 0
    assert re.search(r"records read +40\n", capsys.readouterr().out)
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(good.read_bytes() + b"nope\n")
    assert backfill.main(["--dry-run", str(bad)]) == 1
    assert "bad.jsonl line 41: invalid JSON" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["bad.jsonl", "good.jsonl"]


def test_bad_arguments_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORDER_RECORDS_TOKEN", raising=False)
    source = write_jsonl(tmp_path / "orders.jsonl", records(1))
    for argv in (["--batch-size", "26", "a"], ["--concurrency", "0", "a"], ["--url", "x", "a"], []):
        with pytest.raises(SystemExit) as exc:
            backfill.main(argv)
        assert exc.value.code == 2
    assert backfill.main(["--rejects", str(tmp_path / "r.jsonl"), str(source)]) == 2  # no token
    assert backfill.main(["--token", "t", str(tmp_path / "missing.jsonl")]) == 2


async def test_against_the_real_app(aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> None:
    from app.api.auth import issue_token
    from app.factory import create_app
    from app.settings import make_settings

    secret = "test-secret-long-enough-for-hs256-signatures"
    app = create_app(make_settings({"sqlite.path": ":memory:", "jwt.secret": secret}), sweep=False)
    server = await aiohttp_server(app)
    data = list(generate_records(300, seed=99))  # dated relative to today, inside the default retention
    broken = {k: v for k, v in records(1, 1000)[0].items() if k != "facilityRef"}
    source = tmp_path / "orders.jsonl.gz"
    lines = [orjson.dumps(r) for r in [*data[:100], broken, *data[100:]]] + [b"not json"]
    source.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    token = issue_token(secret, ["ORDER_RECORD_READ", "ORDER_RECORD_WRITE"])
    opts = options(None, tmp_path, source, url=str(server.make_url("")), token=token)
    summary = await run(opts)
    assert (summary.created, summary.failed, summary.malformed, summary.fatal) == (300, 1, 1, None)
    rejects = read_rejects(tmp_path)
    assert [r["line"] for r in rejects] == [101, 302]
    assert rejects[0]["error"]["type"] == "VALIDATION"
    assert "facilityRef: Missing data for required field." in rejects[0]["error"]["message"]

    client = await aiohttp_client(server)
    headers = {"Authorization": f"Bearer {opts.token}"}
    listed = await (await client.get("/api/orderrecords?size=500", headers=headers)).json()
    assert listed["total"] == 300
    assert sorted(r["tenantOrderRecordId"] for r in listed["orderRecords"]) == sorted(ids(data))

    (tmp_path / "orders.jsonl.gz.checkpoint.json").unlink()  # send it all again: nothing is stored twice
    again = await run(opts)
    assert (again.created, again.unchanged, again.failed, again.exit_code) == (0, 300, 1, 1)
    assert (await (await client.get("/api/orderrecords?size=1", headers=headers)).json())["total"] == 300

    changed = {**data[0], "facilityRef": "store-elsewhere-01"}  # a record changed since it was sent
    source.write_bytes(gzip.compress(b"".join(orjson.dumps(r) + b"\n" for r in [changed, *data[1:]])))
    (tmp_path / "orders.jsonl.gz.checkpoint.json").unlink()
    third = await run(opts)
    assert (third.created, third.unchanged, third.failed, third.exit_code) == (0, 299, 1, 1)
    [refused] = read_rejects(tmp_path)
    key = data[0]["tenantOrderRecordId"]
    stored_id = next(r["id"] for r in listed["orderRecords"] if r["tenantOrderRecordId"] == key)
    assert (refused["line"], refused["error"]["type"]) == (1, "VALIDATION")
    assert stored_id in refused["error"]["message"] and "tenantOrderRecordId" in refused["error"]["message"]


@pytest.mark.parametrize(("item", "sent"), [
    (reader.Item(1, {"a": 1, "b": "é"}, b'{ "b": "\\u00e9",  "a": 1 }'), b'{"a":1,"b":"\xc3\xa9"}'),  # compact
    (reader.Item(1, {"n": 2**64}, b'{"n": 18446744073709551616}'), b'{"n": 18446744073709551616}'),  # as read
    (reader.Item(1, {"n": 2**64, "s": "é"}), b'{"n":18446744073709551616,"s":"\xc3\xa9"}'),  # array element
])
def test_records_are_sent_compact_unless_orjson_cannot_write_them_exactly(item: reader.Item, sent: bytes) -> None:
    assert reader.request_text(item) == sent
