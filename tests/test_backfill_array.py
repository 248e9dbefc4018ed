"""JSON array input: each element is delimited on its own, so a bad one is rejected and the run goes on."""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path
from unittest import mock

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scripts import backfill
from scripts.backfill_lib import reader
from scripts.backfill_lib.model import Batch, Summary
from scripts.backfill_lib.runner import run
from tests.test_backfill import FakeService, ids, options, read_rejects, records
from tests.test_backfill import service as service

BAD = {  # each fatal for the JSON array reader before, each rejected alone by the JSON Lines reader
    "deeply nested": (b"[" * 5000 + b"]" * 5000, "invalid JSON: nested too deeply"),
    "huge integer": (b'{"x": ' + b"9" * 5000 + b"}", "invalid JSON: a number is too long"),
    "invalid UTF-8": (b'{"tenantOrderRecordId": "x", "note": "caf\xe9"}',
                      "invalid JSON: not UTF-8 (invalid byte at position 41)"),
}


def json_array(elements: list[bytes]) -> bytes:
    return b"[\n  " + b",\n  ".join(elements) + b"\n]\n"


def parsed(data: bytes, skip: int = 0) -> list[tuple[int, object, str | None]]:
    return [(i.line, None if i.error else i.record, i.error) for i in reader.iter_items(io.BytesIO(data), skip)]


@pytest.mark.parametrize("kind", BAD)
@pytest.mark.parametrize("suffix", ["json", "jsonl"])
async def test_a_bad_element_is_rejected_and_the_records_around_it_are_sent(
        service: FakeService, tmp_path: Path, kind: str, suffix: str) -> None:
    good = records(3)
    bad, reason = BAD[kind]
    elements = [orjson.dumps(good[0]), bad, orjson.dumps(good[1]), orjson.dumps(good[2])]
    source = tmp_path / f"orders.{suffix}"
    source.write_bytes(json_array(elements) if suffix == "json" else b"\n".join(elements) + b"\n")
    summary = await run(options(service, tmp_path, source))
    assert (summary.created, summary.malformed, summary.fatal, summary.exit_code) == (3, 1, None, 1)
    assert sorted(service.received) == sorted(ids(good))
    assert [(r["line"], r["error"]) for r in read_rejects(tmp_path)] == [(2, {"type": "MALFORMED", "message": reason})]
    state = json.loads((tmp_path / f"orders.{suffix}.checkpoint.json").read_text())["files"]
    assert state[str(source.resolve())] | {"size": 0, "mtime_ns": 0} == {
        "size": 0, "mtime_ns": 0, "lines": 4, "complete": True}


@pytest.mark.parametrize("kind", BAD)
def test_dry_run_reports_a_bad_element_and_prints_the_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    bad, reason = BAD[kind]
    source = tmp_path / "orders.json"
    source.write_bytes(json_array([orjson.dumps(r) for r in records(1)] + [bad, b'{"ok": 1}']))
    assert backfill.main(["--dry-run", "--no-progress", str(source)]) == 1
    out, err = capsys.readouterr()
    assert re.search(r"records read +2\n", out) and re.search(r"malformed lines +1\n", out)
    assert f"orders.json line 2: {reason}" in err and "Traceback" not in err


async def test_resume_after_bad_elements_sends_and_rejects_each_once(service: FakeService, tmp_path: Path) -> None:
    good = records(60)
    elements = [orjson.dumps(r) for r in good]
    for position, (bad, _) in zip((9, 40, 50), BAD.values(), strict=True):
        elements.insert(position, bad)  # elements 10, 41 and 51
    source = tmp_path / "orders.json"
    source.write_bytes(json_array(elements))
    task: asyncio.Task[Summary] | None = None

    def interrupt(batch: Batch) -> None:
        assert task is not None
        task.cancel()

    task = asyncio.create_task(run(options(service, tmp_path, source, concurrency=1, on_batch_done=interrupt)))
    with pytest.raises(asyncio.CancelledError):
        await task
    done = json.loads((tmp_path / "orders.json.checkpoint.json").read_text())["files"][str(source.resolve())]["lines"]
    first = [r["line"] for r in read_rejects(tmp_path)]
    assert done in (26, 53) and first == [line for line in (10, 41, 51) if line <= done]  # batches end there
    summary = await run(options(service, tmp_path, source, resume=True))
    assert (summary.skipped_lines, summary.malformed, summary.exit_code) == (done, 3 - len(first), 1)
    assert sorted(service.stored) == sorted(ids(good)) and set(service.received) == set(ids(good))
    assert [r["line"] for r in read_rejects(tmp_path)] == [10, 41, 51]  # each bad element reported once


def test_what_breaks_one_element_stays_in_that_element() -> None:
    tricky = b'{"a": "x,]}\\"["}'  # delimiters and an escaped quote inside a string
    data = b"[" + b", ".join([tricky, b"\xff\xfe", b'{"a": 1} {"b": 2}', b'{"a": 1}}', b"", b'{"a": [1}]',
                               tricky]) + b"]"
    assert parsed(data) == [
        (1, {"a": 'x,]}"['}, None), (2, None, "invalid JSON: not UTF-8 (invalid byte at position 0)"),
        (3, None, "invalid JSON: Extra data at line 1 column 10"),  # a missing comma joins two elements
        (4, None, "invalid JSON: Extra data at line 1 column 9"), (5, None, "empty element: a ',' too many"),
        (6, None, "invalid JSON: Expecting ',' delimiter at line 1 column 9"), (7, {"a": 'x,]}"['}, None)]


def test_when_the_array_cannot_be_delimited_the_file_ends_with_a_precise_reason(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert parsed(b'[{"a": 1}, {"b": "unclosed}, {"c": 3}]') == [(1, {"a": 1}, None), (2, None, (
        "unexpected end of input inside the JSON array (element 2 starts at byte offset 11); the file ends here"))]
    assert parsed(b'\n[{"a": 1}], {"b": 2}]') == [
        (1, {"a": 1}, None), (2, None, "unexpected data after the end of the JSON array (at byte offset 11)")]
    monkeypatch.setattr(reader, "MAX_ELEMENT", 100)
    monkeypatch.setattr(reader, "CHUNK", 16)
    assert parsed(b'[\n{"a": 1}, {"b": "' + b"x" * 90 + b'"}, {"c": 3}]')[1:] == [(2, {"b": "x" * 90}, None),
                                                                              (3, {"c": 3}, None)]
    assert parsed(b'[\n{"a": 1}, {"b": "' + b"x" * 200 + b'"}, {"c": 3}]')[1:] == [(
        2, None, "element of more than 100 bytes, or a quote or bracket in it never closes (element 2 starts at "
                 "byte offset 12); the rest of the file is not read")]


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(), lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                                             max_size=4))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=8), JSON, max_size=4), max_size=6),
       st.sampled_from([None, 0, 2]), st.booleans(), st.integers(1, 40), st.integers(0, 3))
def test_elements_split_from_any_layout_and_chunking_are_the_elements(
        elements: list[dict[str, object]], indent: int | None, ascii_only: bool, chunk: int, skip: int) -> None:
    data = json.dumps(elements, indent=indent, ensure_ascii=ascii_only).encode()
    with mock.patch.object(reader, "CHUNK", chunk):
        got = parsed(data, skip)
    assert got == [(n, element, None) for n, element in enumerate(elements, 1) if n > skip]


@pytest.mark.parametrize("layout", ["one line", "indented"])
def test_a_large_array_is_read_as_it_is_parsed(layout: str) -> None:
    elements = [orjson.dumps(r) for r in records(4000)]
    data = b"[" + b",".join(elements) + b"]" if layout == "one line" else json_array(elements)
    assert len(data) > 3 * reader.CHUNK
    stream = io.BytesIO(data)
    items = reader.iter_items(stream)
    first = next(items)
    assert first.error is None and first.record == orjson.loads(elements[0])
    assert stream.tell() <= 2 * reader.CHUNK  # read so far: not the whole input
    assert len([first, *items]) == 4000


def test_a_json_lines_record_longer_than_a_chunk_is_whole() -> None:
    big = {**records(1)[0], "customAttributes": {"note": "x" * (reader.CHUNK + 10)}}
    data = orjson.dumps(big) + b"\n" + orjson.dumps(records(2)[1]) + b"\n"
    assert [i.record for i in reader.iter_items(io.BytesIO(data))] == [big, records(2)[1]]
