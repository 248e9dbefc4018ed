"""No token or secret in any log line: the redaction filter on its own and on a served app."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from app.api.auth import PERMISSIONS
from app.logsafety import REDACTED, RedactSecrets, install_log_redaction, remove_log_redaction
from tests.conftest import SECRET, answer_body, answer_status, raw_request, token


@pytest.fixture
def store_kind() -> str:
    return "sqlite-memory"


@pytest.fixture
def redaction() -> Iterator[RedactSecrets]:
    installed = install_log_redaction([SECRET])
    yield installed
    remove_log_redaction(installed)


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    return caplog.text + "".join(f"{r.getMessage()} {r.exc_text or ''} {r.__dict__!r}" for r in caplog.records)


def record(msg: str, *args: Any, exc: BaseException | None = None, name: str = "app.test") -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args or None, exc_info)


def test_message_arguments_and_traceback_are_redacted() -> None:
    jwt = token(*PERMISSIONS)
    try:
        raise ValueError(f"b'Authorization: Bearer {jwt}\\x01'")
    except ValueError as exc:
        rec = record("request %s with %r", "GET /", {"Authorization": "Basic dXNlcjpwdw=="}, exc=exc)
    assert RedactSecrets([SECRET]).filter(rec)
    text = f"{rec.getMessage()} {rec.exc_text}"
    assert jwt not in text and "dXNlcjpwdw" not in text
    assert f"Authorization: {REDACTED}" in rec.exc_text  # type: ignore[operator]
    assert "ValueError" in rec.exc_text and "Traceback" in rec.exc_text  # type: ignore[operator]
    assert rec.exc_info is None
    assert "GET /" in rec.getMessage()


def test_a_configured_secret_and_bare_jwts_are_redacted() -> None:
    jwt = token(*PERMISSIONS)
    rec = record("settings %s, token %s", {"secret": SECRET}, jwt)
    RedactSecrets([SECRET]).filter(rec)
    assert SECRET not in rec.getMessage() and jwt not in rec.getMessage()
    assert jwt.split(".")[2] not in rec.getMessage()


def test_text_without_secrets_is_kept() -> None:
    rec = record("internal error (request %s, %s %s)", "abc", "PUT", "/api/orderrecords")
    RedactSecrets().filter(rec)
    assert rec.getMessage() == "internal error (request abc, PUT /api/orderrecords)"


async def test_a_token_in_a_header_aiohttp_cannot_parse_is_not_logged(client: TestClient,
                                                                      caplog: pytest.LogCaptureFixture,
                                                                      redaction: RedactSecrets) -> None:
    jwt = token(*PERMISSIONS)
    with caplog.at_level(logging.DEBUG):
        answer = await raw_request(client, b"GET /api/orderrecords HTTP/1.1\r\nHost: x\r\n"
                                           b"Authorization: Bearer " + jwt.encode() + b"\x01\r\n\r\n")
    assert answer_status(answer) == 400
    logged = everything_logged(caplog)
    assert jwt not in logged and jwt.split(".")[2] not in logged
    parse_errors = [r for r in caplog.records if "malformed request (BadHttpMessage)" in r.getMessage()]
    assert parse_errors and all(r.levelno == logging.DEBUG for r in parse_errors), logged
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], logged
    # aiohttp's own 400 body still quotes the header line back to the client that sent it (see README)
    assert answer_body(answer)


@pytest.mark.parametrize("request_bytes", [
    b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n",
], ids=["line-too-long", "bad-method", "header-too-long"])
async def test_parse_errors_are_one_debug_line(client: TestClient, caplog: pytest.LogCaptureFixture,
                                               redaction: RedactSecrets, request_bytes: bytes) -> None:
    with caplog.at_level(logging.INFO):
        answer = await raw_request(client, request_bytes)
    assert answer_status(answer) == 400
    # at INFO the DEBUG line is not even made (the access log, off in production, is on in the test server)
    assert not [r for r in caplog.records if r.name != "aiohttp.access"], caplog.text


async def test_a_body_not_matching_its_encoding_logs_no_error(client: TestClient, auth: dict[str, str],
                                                              caplog: pytest.LogCaptureFixture,
                                                              redaction: RedactSecrets) -> None:
    body = b"\x1f\x8b\x08garbage"
    with caplog.at_level(logging.DEBUG):
        answer = await raw_request(client, (
            f"PUT /api/orderrecords HTTP/1.1\r\nHost: x\r\nAuthorization: {auth['Authorization']}\r\n"
            f"Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode() + body)
    assert answer_status(answer) == 400
    # aiohttp reads what is left of a body after the answer, meets the decoding error again and logged it as ERROR
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], everything_logged(caplog)
