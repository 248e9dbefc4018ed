"""Streaming readers for JSON Lines and JSON array input, gzip detected by magic bytes."""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any, BinaryIO

import orjson

from app.api.jsonbody import MalformedJson, parse_json

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20
MAX_ELEMENT = 64 << 20  # an array element larger than this most likely has a quote that never closes
JSON_WHITESPACE = b" \t\n\r"
WHITESPACE = re.compile(rb"[ \t\n\r]*")
STRING = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'  # a whole JSON string, escapes included; unvalidated
NESTING = 12


def skip_pattern(stop: bytes, levels: int) -> bytes:
    """Any bytes but brackets, quotes and `stop`, including strings and brackets closed within `levels` levels."""
    plain = rb"[^\"\[\]{}" + stop + rb"]*+"
    nested = rb"|[\[{]" + skip_pattern(b"", levels - 1) + rb"[\]}]" if levels else b""
    return plain + rb"(?:(?:" + STRING + nested + rb")" + plain + rb")*+"


# Bytes, not text: an invalid UTF-8 byte is never a quote, bracket or comma, so it stays inside its element.
# Brackets up to NESTING levels deep are skipped by the regex engine, one call per element rather than one per
# bracket; deeper ones are counted one by one. All quantifiers are possessive: no backtracking.
ELEMENT = re.compile(skip_pattern(b",", NESTING), re.DOTALL)
NESTED = re.compile(skip_pattern(b"", NESTING), re.DOTALL)


@dataclass(slots=True)
class Item:
    """One input unit: a record (a JSON object) or, when `error` is set, a malformed line."""

    line: int
    record: Any
    raw: bytes | None = None  # the exact JSON text of the record
    error: str | None = None


def request_text(item: Item) -> bytes:
    """The record as a request carries it: compact orjson, which the service reads on its fast path, unless orjson
    cannot write it exactly (an integer past 64 bits, which the service will refuse by name); then the text as read."""
    try:
        return orjson.dumps(item.record)
    except orjson.JSONEncodeError:
        if item.raw is not None:
            return item.raw
        return json.dumps(item.record, ensure_ascii=False, separators=(",", ":")).encode()


def open_input(stream: BinaryIO) -> BinaryIO:
    """Wrap a binary stream in a gzip decoder when it starts with the gzip magic bytes."""
    buffered = stream if hasattr(stream, "peek") else io.BufferedReader(stream)  # type: ignore[arg-type]
    head = buffered.peek(2)[:2]  # type: ignore[attr-defined]
    if head == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[return-value]
    return buffered


def preview(raw: bytes, limit: int = 2000) -> str:
    text = raw.decode("utf-8", "replace").rstrip("\r\n")
    return text if len(text) <= limit else text[:limit] + "…"


def iter_items(stream: BinaryIO, skip: int = 0) -> Iterator[Item]:
    """Yield every record of `stream` after the first `skip` lines (JSON Lines) or elements (JSON array)."""
    line_no = offset = 0
    while True:
        first = stream.readline(CHUNK)  # bounded: a JSON array is often one long line
        if not first:
            return
        if first.strip():
            line_no += 1
            break
        line_no += first.endswith(b"\n")
        offset += len(first)
    if first.lstrip().lstrip(b"\xef\xbb\xbf").startswith(b"["):
        yield from iter_array(first, stream, skip, offset)
        return
    if not first.endswith(b"\n"):
        first += stream.readline()  # a JSON Lines record longer than CHUNK: the rest of its line
    if line_no == 1 and first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    lines = chain(((line_no, first),), ((n, raw) for n, raw in enumerate(stream, line_no + 1)))
    for n, raw in islice(lines, max(0, skip - line_no + 1), None):
        yield parse_line(n, raw)


def parse_line(n: int, raw: bytes) -> Item:
    if not raw.strip():
        return Item(n, None)  # blank line: counted, neither sent nor rejected
    try:
        record = parse_json(raw)
    except MalformedJson as exc:
        return Item(n, preview(raw), error=f"invalid JSON: {exc}")
    if not isinstance(record, dict):
        return Item(n, record, error=f"not a JSON object but {type(record).__name__}")
    return Item(n, record, raw.strip())


def iter_array(head: bytes, stream: BinaryIO, skip: int, offset: int = 0) -> Iterator[Item]:
    """Cut a top-level JSON array into its elements' bytes, holding only a window of the input in memory, and
    parse each like a JSON Lines line: a bad element is rejected on its own and the next one is read."""
    buf, base, start, index, eof = head, offset, head.index(b"[") + 1, 0, False
    while True:
        start = WHITESPACE.match(buf, start).end()  # type: ignore[union-attr]
        end = element_end(buf, start)
        if end is None:
            where = f"element {index + 1} starts at byte offset {base + start}"
            if eof:
                message = f"unexpected end of input inside the JSON array ({where}); the file ends here"
                yield from broken(index + 1, skip, buf[start:], message)
                return
            if len(buf) - start > MAX_ELEMENT:
                message = (f"element of more than {MAX_ELEMENT:,} bytes, or a quote or bracket in it never "
                           f"closes ({where}); the rest of the file is not read")
                yield from broken(index + 1, skip, buf[start:], message)
                return
            chunk = stream.read(max(CHUNK, len(buf) - start))  # at least doubles what a long element has
            buf, base, start, eof = buf[start:] + chunk, base + start, 0, not chunk
            continue
        raw, closing, start = buf[start:end].rstrip(JSON_WHITESPACE), buf[end], end + 1
        if raw or index or closing == ord(","):  # not the empty array
            index += 1
            if index > skip:
                yield parse_line(index, raw) if raw else Item(index, "", error="empty element: a ',' too many")
        if closing == ord("]"):
            yield from after_array(buf[start:], stream, base + start, index + 1, skip)
            return


def element_end(buf: bytes, pos: int) -> int | None:
    """Where the array element at `pos` ends (its ',' or the array's ']'), or None if `buf` ends first."""
    depth = 0
    while True:
        pos = (NESTED if depth else ELEMENT).match(buf, pos).end()  # type: ignore[union-attr]
        if pos == len(buf) or buf[pos] == ord('"'):  # a string that is not closed within `buf`
            return None
        char = buf[pos]
        if char in b"[{":
            depth += 1
        elif depth:
            depth -= 1
        elif char != ord("}"):  # a stray '}' stays in the element, which the parser then rejects
            return pos
        pos += 1


def after_array(rest: bytes, stream: BinaryIO, offset: int, line: int, skip: int) -> Iterator[Item]:
    """Nothing but whitespace may follow the array."""
    while not (text := rest.lstrip(JSON_WHITESPACE)):
        offset += len(rest)
        if not (rest := stream.read(CHUNK)):
            return
    where = offset + len(rest) - len(text)
    yield from broken(line, skip, text, f"unexpected data after the end of the JSON array (at byte offset {where})")


def broken(line: int, skip: int, text: bytes, error: str) -> Iterator[Item]:
    """The error that ends a JSON array file, unless a resumed run already reported it."""
    if line > skip:
        yield Item(line, preview(text[:8000]), error=error)
