"""Concrete request paths to the official operations, and a response status to the component its body must be."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tests.contract.schemas import OPERATIONS

ERROR_COMPONENT = "ApiError"


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^/{}]+\})", template)
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts))


# Concrete paths before templated ones, as OpenAPI matches them (/api/orderrecords/search before .../{id}).
_TEMPLATES = sorted({op["path"] for op in OPERATIONS.values()}, key=lambda path: (path.count("{"), path))
_PATTERNS = [(template, _pattern(template)) for template in _TEMPLATES]
_BY_ROUTE = {(op["method"], op["path"]): operation_id for operation_id, op in OPERATIONS.items()}


def _templates(path: str) -> Iterable[str]:
    path = path.split("?", 1)[0]
    return (template for template, pattern in _PATTERNS if pattern.fullmatch(path))


def operation_for(method: str, path: str) -> str | None:
    """The operationId a request goes to: GET /api/orderrecords/65f0... -> getOrderRecord; None if undocumented."""
    for template in _templates(path):
        if (method.upper(), template) in _BY_ROUTE:
            return _BY_ROUTE[method.upper(), template]
    return None


def response_component(method: str, path: str, status: int) -> str | None:
    """The official component a response body must be, or None where the document says nothing.

    A status the operation declares maps to its component; any other error status (>= 400) of a documented path,
    whatever the method, is ApiError (REFERENCE.md, "Errors"). An undeclared success status and paths outside the
    document give None."""
    operation_id = operation_for(method, path)
    if operation_id is not None:
        responses = OPERATIONS[operation_id]["responses"]
        for key in (str(status), f"{status // 100}XX", "default"):
            if key in responses:
                return responses[key]
    documented = operation_id is not None or next(iter(_templates(path)), None) is not None
    return ERROR_COMPONENT if documented and status >= 400 else None
