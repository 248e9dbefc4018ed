"""A logging filter that keeps bearer tokens and other secrets out of every log line, tracebacks included."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

REDACTED = "[redacted]"
AIOHTTP_LOGGERS = ("aiohttp.server", "aiohttp.web", "aiohttp.access", "aiohttp.internal", "aiohttp.websocket")
_SECRETS = (
    # an Authorization header's value, as a parser message quotes the raw line or a repr quotes a dict
    (re.compile(r"""(?i)(authorization['"]?\s*[:=]\s*['"]?)[^\r\n'"]+"""), rf"\g<1>{REDACTED}"),
    (re.compile(r"""(?i)(bearer\s+)[^\s'"]+"""), rf"\g<1>{REDACTED}"),
    (re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?"), REDACTED),  # a JWT wherever it is
)


class RedactSecrets(logging.Filter):
    """Rewrites each record's message, arguments and traceback text without secrets.

    A request aiohttp could not parse (a control character in a header, a line too long, a body that does not
    match its Content-Encoding) is the client's mistake, already answered 400 by aiohttp: it becomes one DEBUG
    line naming the error instead of an ERROR traceback that quoted the raw header line, token included.
    """

    def __init__(self, literals: Iterable[str] = ()) -> None:
        super().__init__()
        self.literals = sorted((s for s in literals if s), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for literal in self.literals:
            text = text.replace(literal, REDACTED)
        for pattern, replacement in _SECRETS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        try:
            message = record.getMessage()
        except Exception:  # a malformed call to the logger; the handler reports it, the redaction must not fail
            message = str(record.msg)
        if isinstance(exc, HttpProcessingError | web.RequestPayloadError) and record.name == "aiohttp.server":
            record.msg = f"{self.redact(message)}: malformed request ({type(exc).__name__}), answered 400"
            record.args, record.exc_info, record.exc_text = None, None, None
            record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        record.msg, record.args = self.redact(message), None
        if record.exc_info:
            # The text replaces the exception itself: a later formatter would otherwise render it unredacted.
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install_log_redaction(literals: Iterable[str] = ()) -> RedactSecrets:
    """On aiohttp's loggers (so that parse errors are rewritten before any handler) and on the root's handlers."""
    redact = RedactSecrets(literals)
    for name in AIOHTTP_LOGGERS:
        logging.getLogger(name).addFilter(redact)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    return redact


def remove_log_redaction(redact: RedactSecrets) -> None:
    for name in AIOHTTP_LOGGERS:
        logging.getLogger(name).removeFilter(redact)
    for handler in logging.getLogger().handlers:
        handler.removeFilter(redact)
