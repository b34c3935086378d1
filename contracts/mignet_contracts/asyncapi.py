"""One AsyncAPI 3.0 document per service, generated from the contract models.

Self-contained (every schema inline under ``components.schemas``, no file ``$ref``), in
the AsyncAPI Schema format (JSON Schema draft-07: pydantic's ``$defs`` are moved to
``components.schemas`` and its OpenAPI-style ``discriminator`` objects become the
property name), with ``servers``, the security schemes of the integrator and operator
users, NATS bindings, and the service's own point of view: it **sends** events and
**receives** commands and queries, answering each on the request's reply subject with
a typed reply. Public and internal events are told apart by tag and ``x-public``;
``x-jetstream-streams`` names where each event can be read. The official parser checks
every document (``contracts/asyncapi-check``, ``tests/unit/test_asyncapi.py``).
"""

from __future__ import annotations

import copy
from typing import Any

from mignet_contracts import envelope
from mignet_contracts.asyncapi_parts import Schemas, headers, parameter
from mignet_contracts.envelope import Command, Event, Query
from mignet_contracts.feed import INTEGRATOR_USER, PUBLIC_STREAM
from mignet_contracts.registry_views import RESULTS as REGISTRY_RESULTS
from mignet_contracts.reviews_views import RESULTS as REVIEWS_RESULTS

QUERY_RESULTS = {**REGISTRY_RESULTS, **REVIEWS_RESULTS}

NATS_BINDING = "0.1.0"


def _query_result(query: type[Command] | type[Query], schemas: Schemas) -> dict:
    """A query's answer: its view (``registry_views``, ``reviews_views``), else documents (a page for list-*)."""
    view = QUERY_RESULTS.get(query) if issubclass(query, Query) else None
    if view is not None:
        return schemas.add(view.__name__, view)
    document = {"type": "object", "description": "a read-model document"}
    if not query.name.startswith("list-"):
        return document
    return {
        "type": "object",
        "required": ["total", "items"],
        "properties": {
            "total": {"type": "integer", "minimum": 0, "description": "how many match, beyond this page"},
            "items": {"type": "array", "items": document},
        },
    }


def _reply(schemas: Schemas, result: dict) -> dict:
    error = schemas.add("ErrorBody", envelope.ErrorBody)
    return {
        "oneOf": [
            {
                "type": "object",
                "required": ["ok", "result"],
                "properties": {"ok": {"const": True}, "result": result, "error": {"type": "null"}},
            },
            {
                "type": "object",
                "required": ["ok", "error"],
                "properties": {"ok": {"const": False}, "result": {"type": "null"}, "error": error},
            },
        ]
    }


def _message(service: str, event: type[Event], schemas: Schemas) -> dict:
    first = (event.__doc__ or "").strip().splitlines()
    return {
        "name": event.ce_type(),
        "title": f"{event.aggregate} {event.name} v{event.version}",
        "summary": first[0] if first else f"{event.aggregate} {event.name}",
        "contentType": "application/json",
        "headers": headers(service, event),
        "payload": schemas.add(event.__name__, event),
        "tags": [{"name": "public" if event.public else "internal"}],
        "x-public": event.public,
    }


def document(
    service: str,
    events: tuple[type[Event], ...],
    commands: tuple[type[Command], ...],
    queries: tuple[type[Query], ...],
    historic: tuple[type[Event], ...] = (),
) -> dict:
    """``historic``: earlier versions still in the stream; listed on their channel, never sent any more."""
    schemas = Schemas()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    replies: dict[str, Any] = {}
    for event in events:
        key = f"{event.aggregate}_{event.name}".replace("-", "_")
        streams = [service.upper(), PUBLIC_STREAM] if event.public else [service.upper()]
        earlier = {
            f"{key}_v{old.version}": {**_message(service, old, schemas), "x-upcast-to": event.ce_type()}
            for old in historic
            if (old.aggregate, old.name) == (event.aggregate, event.name)
        }
        channels[key] = {
            "address": event.subject_for("{" + event.id_field + "}"),
            "parameters": {event.id_field: parameter(event)},
            "messages": {key: _message(service, event, schemas), **earlier},
            "bindings": {"nats": {}},
            "x-jetstream-streams": streams,
        }
        operations[f"send_{key}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{key}"},
            "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
            "summary": f"{service} records it; read it from stream {' or '.join(streams)}",
            "security": [{"$ref": "#/components/securitySchemes/integrator"}] if event.public else [],
        }
    result = schemas.add("CommandResult", envelope.CommandResult)
    for kind, models in (("commands", commands), ("queries", queries)):
        for model in models:
            key = f"{kind}_{model.name}".replace("-", "_")
            typed = result if kind == "commands" else _query_result(model, schemas)
            channels[key] = {
                "address": model.subject(),
                "messages": {key: {"name": model.schema_name(), "payload": schemas.add(model.__name__, model)}},
            }
            replies[f"{key}_reply"] = {"name": f"{model.schema_name()}.reply", "payload": _reply(schemas, typed)}
            operations[key] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{key}"},
                "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
                "bindings": {"nats": {"queue": f"{service}-{kind}", "bindingVersion": NATS_BINDING}},
                "security": [{"$ref": "#/components/securitySchemes/operator"}],
                "reply": {
                    "channel": {"$ref": "#/channels/replies"},
                    "messages": [{"$ref": f"#/channels/replies/messages/{key}_reply"}],
                },
            }
    channels["replies"] = {
        "address": None,
        "description": "The reply subject of each request (NATS request-reply: the requester's inbox).",
        "messages": replies,
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"mignet {service}",
            "version": "1",
            "description": f"Events, commands and queries of the mignet {service} service. Events are CloudEvents "
            "in binary mode (NATS binding): attributes in percent-encoded ce- headers, the event JSON as payload. "
            f"Integrators read public events from stream {PUBLIC_STREAM} as user {INTEGRATOR_USER}.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "production": {
                "host": "{host}:4222",
                "protocol": "nats",
                "description": "The Network's NATS server; its address comes with your credentials.",
                "variables": {"host": {"default": "localhost"}},
                "security": [
                    {"$ref": "#/components/securitySchemes/integrator"},
                    {"$ref": "#/components/securitySchemes/operator"},
                ],
                "bindings": {"nats": {}},
            },
            "local": {"host": "127.0.0.1:4222", "protocol": "nats", "description": "make run"},
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": dict(sorted(copy.deepcopy(schemas.found).items())),
            "securitySchemes": {
                "integrator": {
                    "type": "userPassword",
                    "description": f"NATS user `{INTEGRATOR_USER}` (account FEED): reads stream {PUBLIC_STREAM} only; "
                    f"connect with inbox prefix _INBOX_{INTEGRATOR_USER}.",
                },
                "operator": {
                    "type": "userPassword",
                    "description": "NATS user `operator` (the mignet CLI): sends commands and queries; "
                    "inbox prefix _INBOX_operator.",
                },
            },
        },
    }
