"""Streaming readers for JSON Lines and JSON array input, gzip detected by magic bytes."""

from __future__ import annotations

import codecs
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any, BinaryIO

import orjson

from app.jsonbody import MalformedJson, parse_json

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20
MAX_ELEMENT = 64 << 20  # a single array element larger than this is treated as malformed
WHITESPACE = re.compile(r"[ \t\n\r]*")


@dataclass(slots=True)
class Item:
    """One input unit: a record (a JSON object) or, when `error` is set, a malformed line."""

    line: int
    record: Any
    raw: bytes | None = None  # the exact JSON text of a JSON Lines record
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
    line_no = 0
    first = b""
    for first in stream:
        line_no += 1
        if first.strip():
            break
    else:
        return
    if first.lstrip().lstrip(b"\xef\xbb\xbf").startswith(b"["):
        yield from iter_array(first, stream, skip)
        return
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


def iter_array(first: bytes, stream: BinaryIO, skip: int) -> Iterator[Item]:
    """Parse a top-level JSON array element by element, holding only a window of the text in memory."""
    decode = codecs.getincrementaldecoder("utf-8-sig")().decode
    buf = decode(first).lstrip()[1:]  # drop the "["
    pos, eof, index, expect_value = 0, False, 0, True
    decoder = json.JSONDecoder()  # only finds where each element ends; parse_json then applies the service's rules
    while True:
        pos = WHITESPACE.match(buf, pos).end()  # type: ignore[union-attr]
        if pos >= len(buf) and not eof:
            chunk = stream.read(CHUNK)
            eof = not chunk
            buf, pos = buf[pos:] + decode(chunk, final=eof), 0
            continue
        if pos >= len(buf):
            yield from broken(index + 1, skip, "", "unexpected end of input inside the JSON array")
            return
        char = buf[pos]
        if not expect_value or (char == "]" and index == 0):
            if char == "]":
                rest = buf[pos + 1:].strip()
                while not rest and not eof:
                    chunk = stream.read(CHUNK)
                    eof = not chunk
                    rest = decode(chunk, final=eof).strip()
                if rest:
                    message = "unexpected data after the end of the JSON array"
                    yield from broken(index + 1, skip, rest[:200], message)
                return
            if char != ",":
                message = f"expected ',' or ']' after element {index}"
                yield from broken(index + 1, skip, buf[pos:pos + 200], message)
                return
            pos, expect_value = pos + 1, True
            continue
        try:
            value, end = decoder.raw_decode(buf, pos)
            complete = end < len(buf) or eof
        except json.JSONDecodeError as exc:
            complete, error = eof or len(buf) - pos > MAX_ELEMENT, exc
            if complete:
                yield from broken(index + 1, skip, buf[pos:pos + 2000], f"invalid JSON: {error}")
                return
        if not complete:  # the element may continue in the next chunk: read more and parse again
            chunk = stream.read(CHUNK)
            eof = not chunk
            buf, pos = buf[pos:] + decode(chunk, final=eof), 0
            continue
        text, index, pos, expect_value = buf[pos:end], index + 1, end, False
        if index <= skip:
            continue
        try:
            value = parse_json(text.encode("utf-8", "surrogatepass"))
        except MalformedJson as exc:
            yield Item(index, text[:2000], error=f"invalid JSON: {exc}")
            continue
        if isinstance(value, dict):
            yield Item(index, value, text.encode())  # the exact text: big integers stay exact
        else:
            yield Item(index, value, error=f"not a JSON object but {type(value).__name__}")


def broken(line: int, skip: int, text: str, error: str) -> Iterator[Item]:
    """The error that ends a JSON array file, unless a resumed run already reported it."""
    if line > skip:
        yield Item(line, text, error=error)

