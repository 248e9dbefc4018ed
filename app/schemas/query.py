"""The query of a list page (listOrderRecords): size, startAfterId and the filters."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import fields, validate

from app.schemas.types import OBJECT_ID, FullMatch, Ident, Strict

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 20
QUERY_NUMBER = re.compile(r"[0-9]{1,9}(?:\.0{1,9})?")


class QueryInteger(fields.Integer):
    """A query-string number that is integral: ASCII digits, optionally `.0` (the official type is a number, so
    25 and 25.0 alike); no sign, exponent, spaces or other scripts' digits."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str) or QUERY_NUMBER.fullmatch(value) is None:
            raise self.make_error("invalid")
        return int(value.partition(".")[0])


class OrderRecordsQuery(Strict):
    size = QueryInteger(load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(1, MAX_PAGE_SIZE))
    startAfterId = fields.String(validate=FullMatch(OBJECT_ID, error="Not a valid ObjectId (24 hex chars)."))
    facilityRef = Ident()
    tenantOrderRecordId = Ident()
