"""Contract test kit: the official Order Records schemas, operations and examples (see docs/contract.md)."""

from tests.contract.middleware import check_response, contract_middleware
from tests.contract.routes import operation_for, response_component
from tests.contract.schemas import (
    COMPONENTS,
    OPERATIONS,
    official_example,
    postman_bulk_examples,
    schema_for,
    validate,
)

__all__ = [
    "COMPONENTS",
    "OPERATIONS",
    "check_response",
    "contract_middleware",
    "official_example",
    "operation_for",
    "postman_bulk_examples",
    "response_component",
    "schema_for",
    "validate",
]
