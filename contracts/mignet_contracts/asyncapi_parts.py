"""The pieces of the AsyncAPI documents (:mod:`mignet_contracts.asyncapi`): schemas, headers, parameters.

``Schemas`` collects ``components.schemas`` in the AsyncAPI Schema format (JSON Schema
draft-07): pydantic's ``$defs`` are moved there and its OpenAPI-style ``discriminator``
objects become the property name, which is what the official parser accepts.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from mignet_contracts import envelope
from mignet_contracts.envelope import Event

#: Headers every event carries (the others are there when they apply: causation, command name and hash).
REQUIRED_HEADERS = [
    envelope.H_SPECVERSION,
    envelope.H_ID,
    envelope.H_TYPE,
    envelope.H_SOURCE,
    envelope.H_SUBJECT,
    envelope.H_TIME,
    envelope.H_DATASCHEMA,
    envelope.H_DATACONTENTTYPE,
    envelope.H_COMMAND,
    envelope.H_CORRELATION,
    envelope.H_ACTOR,
]


class Schemas:
    """``components.schemas``: each model's draft-07 form, its ``$defs`` shared by name."""

    def __init__(self) -> None:
        self.found: dict[str, Any] = {}

    def add(self, name: str, model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(mode="validation", ref_template="#/components/schemas/{model}")
        for def_name, definition in schema.pop("$defs", {}).items():
            self._put(def_name, _draft7(definition))
        self._put(name, _draft7(schema))
        return {"$ref": f"#/components/schemas/{name}"}

    def _put(self, name: str, schema: dict) -> None:
        if self.found.setdefault(name, schema) != schema:
            raise ValueError(f"two different schemas named {name}")


def _draft7(schema: Any) -> Any:
    """pydantic's JSON Schema as the AsyncAPI Schema format takes it."""
    if isinstance(schema, list):
        return [_draft7(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _draft7(v) for k, v in schema.items() if k not in ("$schema", "$id")}
    if isinstance(out.get("discriminator"), dict):
        out["discriminator"] = out["discriminator"]["propertyName"]
    return out


def headers(service: str, event: type[Event]) -> dict:
    text = {"type": "string"}
    return {
        "type": "object",
        "required": REQUIRED_HEADERS,
        "properties": {
            envelope.H_SPECVERSION: {"const": envelope.SPEC_VERSION},
            envelope.H_ID: {**text, "description": "unique per event: de-duplicate on it"},
            envelope.H_TYPE: {"const": event.ce_type()},
            envelope.H_SOURCE: {"const": f"/mignet/{service}"},
            envelope.H_SUBJECT: {**text, "description": f"the {event.aggregate} id, as in the subject"},
            envelope.H_TIME: {**text, "format": "date-time", "description": "when it was recorded"},
            envelope.H_DATASCHEMA: {"const": event.dataschema()},
            envelope.H_DATACONTENTTYPE: {"const": "application/json"},
            envelope.H_CONTENT_TYPE: {"const": "application/json"},
            envelope.H_COMMAND: text,
            envelope.H_CORRELATION: text,
            envelope.H_CAUSATION: text,
            envelope.H_ACTOR: {**text, "description": "who asked: a person or a system (percent-encoded)"},
            envelope.H_COMMAND_NAME: {**text, "description": "the command's schema name"},
            envelope.H_COMMAND_HASH: {**text, "pattern": "^[0-9a-f]{32}$", "description": "Command.payload_hash"},
            envelope.H_COMMAND_HMAC: {
                **text,
                "pattern": "^[0-9a-f]{32}$",
                "description": "Command.payload_hmac: the command's hash keyed with the service's secret",
            },
            envelope.H_TRACEPARENT: {
                **text,
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C trace context of the command that wrote it (when its caller sent one)",
            },
            envelope.H_TRACESTATE: {**text, "description": "W3C tracestate, with traceparent (percent-encoded)"},
            "Mignet-Data-Key": {
                **text,
                "description": "on events with sealed personal fields: the id of the data key that sealed them",
            },
        },
    }


def parameter(event: type[Event]) -> dict:
    if event.id_field == "country":
        return {
            "description": "the country's ISO 3166-1 alpha-2 code in lower case (the payload's `country` is CL, the subject token cl)"
        }
    return {"description": f"the payload's `{event.id_field}` (lower case, like every subject token)"}
