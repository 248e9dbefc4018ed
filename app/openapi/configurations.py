"""The configuration operations as OpenAPI operations, and the 409 they answer; merged into app.openapi.operations."""

from __future__ import annotations

from typing import Any

from app.api.configurations import GDPR_PATH, ORDER_RECORDS_PATH
from app.config import schemas as config

JSON = "application/json"
TAGS = ["configurations"]
LOCKING = ("Send the `version` read with GET: a stale one is refused with 409, which names the stored `version` "
           "and the `requestVersion` sent. The read-only fields of a GET answer (`id`, `created`, `lastModified`) "
           "are ignored, so a GET body can be edited and sent back; any other unknown field is a 400. Every "
           "instance and worker applies a change within 5 seconds.")
GDPR_EXAMPLE = {"id": "gdpr", "version": 3, "created": "2026-11-20T08:00:00.000Z",
                "lastModified": "2026-11-25T12:00:00.000Z", "retentionTime": 90,
                "deletionTimeAfterRetention": 3560, "actorAnonymization": True}
ORDER_RECORDS_EXAMPLE = {"id": "orderrecords", "version": 1, "created": "2026-11-25T12:00:00.000Z",
                         "lastModified": "2026-11-25T12:00:00.000Z", "isOrderRecordsEnabled": True}


RESPONSES: dict[str, dict[str, Any]] = {
    "Conflict": {"description": "The version sent is not the stored one: read again, reapply, resend.",
                 "content": {JSON: {"schema": {"$ref": "#/components/schemas/ApiError"}, "example": [{
                     "summary": "Conflict", "description": "The gdpr configuration is at version 4, not 3: read it "
                     "again, apply the change and send the version read.", "version": 4, "requestVersion": 3}]}}},
}


def _ok(description: str, schema: Any, example: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema, "example": example}}}


def _body(schema: Any, example: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": schema, "example": example}}}


OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", GDPR_PATH): {
        "operationId": "getGdprConfiguration", "tags": TAGS, "summary": "Get GDPR config",
        "description": "The GDPR configuration in force: `retentionTime` (days from orderRecordDate to "
                       "gdprCleanupDate), `deletionTimeAfterRetention` (days from gdprCleanupDate to deletionDate), "
                       "`actorAnonymization`. Until first written: the server's defaults as version 0.",
        "responses": {"200": _ok("The GDPR configuration.", config.GdprConfiguration, GDPR_EXAMPLE)},
    },
    ("PUT", GDPR_PATH): {
        "operationId": "putGdprConfiguration", "tags": TAGS, "summary": "Update GDPR config",
        "description": "Replaces the GDPR configuration (an omitted optional field takes its default); applies to "
                       "records created afterwards, stored records keep their dates. Retention and deletion together "
                       f"must end before the year 10000. {LOCKING}",
        "requestBody": _body(config.GdprConfiguration, {k: GDPR_EXAMPLE[k] for k in (
            "version", "retentionTime", "deletionTimeAfterRetention", "actorAnonymization")}),
        "responses": {"200": _ok("Stored, with version + 1.", config.GdprConfiguration, GDPR_EXAMPLE),
                      "400": "BadRequest", "409": "Conflict", "415": "UnsupportedMediaType"},
    },
    ("GET", ORDER_RECORDS_PATH): {
        "operationId": "getOrderRecordsConfiguration", "tags": TAGS, "summary": "Get order records configuration",
        "description": "Whether order records can be created. Until first written: the server's default (true) "
                       "as version 0.",
        "responses": {"200": _ok("The order records configuration.", config.OrderRecordsConfiguration,
                                 ORDER_RECORDS_EXAMPLE)},
    },
    ("PUT", ORDER_RECORDS_PATH): {
        "operationId": "updateOrderRecordsConfiguration", "tags": TAGS,
        "summary": "Create or update order records configuration",
        "description": f"While `isOrderRecordsEnabled` is false, bulk create answers 403. {LOCKING}",
        "requestBody": _body(config.OrderRecordsConfigurationInput, {"version": 0, "isOrderRecordsEnabled": True}),
        "responses": {"200": _ok("Updated, with version + 1.", config.OrderRecordsConfiguration,
                                 {**ORDER_RECORDS_EXAMPLE, "version": 2}),
                      "201": _ok("Stored for the first time (version 1).", config.OrderRecordsConfiguration,
                                 ORDER_RECORDS_EXAMPLE),
                      "400": "BadRequest", "409": "Conflict", "415": "UnsupportedMediaType"},
    },
}
