"""A large body parsed in a helper process and sent back in pieces that the server rebuilds one at a time.

Parsing 8 MiB of tiny JSON nodes takes a single C call hundreds of milliseconds, and so does unpickling them: in the
server process either would hold the GIL, and the event loop, that long. The helper parses the body with the same
strict parser and sends each record back as compact JSON, which the server rebuilds record by record (each at most
`limits.max_record_values` values, so each step is short). A record over the caps is never rebuilt: a small stand-in
carries its refusal (app.domain.limits.OversizedRecord).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Any

from app.api.jsonbody import parse_json
from app.domain.limits import LimitError, OversizedRecord, compact_json, measured_errors
from app.settings import LimitsSettings

# Members of the top-level object, and items of its arrays, sent back. Any envelope holding more is refused whatever
# they are (a bulk request has at most 25 records); past this many, the envelope's checks would only walk them, on
# the event loop, to say so.
MAX_MEMBERS = 1000


@dataclass(frozen=True)
class Piece:
    """An object or array of the body, as compact JSON."""

    json: bytes


@dataclass(frozen=True)
class Oversized:
    """An object or array over the caps: its top-level scalar members (of an object) and why it is refused."""

    is_object: bool
    scalars: dict[str, Any]
    errors: list[LimitError]


def cut_body(body: bytes, limits: LimitsSettings) -> Any:
    """In the helper: the body's value with each record (each object or array inside the top-level object's arrays,
    or directly in it) as a Piece or, over the caps, as Oversized. Raises MalformedJson like parse_json."""
    value = parse_json(body)
    if not isinstance(value, dict):
        return _cut(value, limits)
    cut: dict[str, Any] = {}
    for key, member in islice(value.items(), MAX_MEMBERS + 1):
        cut[key] = [_cut(item, limits) for item in member[:MAX_MEMBERS + 1]] if isinstance(member, list) else _cut(
            member, limits)
    return cut


def _cut(value: Any, limits: LimitsSettings) -> Any:
    if not isinstance(value, dict | list):
        return value
    encoded = compact_json(value)
    errors = measured_errors(value, limits, encoded)
    if not errors:
        return Piece(encoded)
    scalars = dict(islice(((k, v) for k, v in value.items() if not isinstance(v, dict | list)), MAX_MEMBERS)) if (
        isinstance(value, dict)) else {}
    return Oversized(isinstance(value, dict), scalars, errors)


def rebuild(cut: Any) -> Any:
    """In the server, on a thread of its own: the value `cut_body` cut, one piece at a time."""
    if isinstance(cut, dict):
        return {key: [_rebuild(item) for item in member] if isinstance(member, list) else _rebuild(member)
                for key, member in cut.items()}
    return _rebuild(cut)


def _rebuild(piece: Any) -> Any:
    if isinstance(piece, Piece):
        return parse_json(piece.json)  # compact, so orjson's path, exact, for at most max_record_values values
    if isinstance(piece, Oversized):
        # An oversized array stays an array (one that is no record whatever it holds): the record checks then say
        # what they say of any array. An object becomes the stand-in that the size check refuses.
        return OversizedRecord(piece.scalars, piece.errors) if piece.is_object else []
    return piece
