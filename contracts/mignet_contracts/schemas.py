"""Generates the published JSON Schemas and AsyncAPI documents from the contract models.

``python -m mignet_contracts.schemas --write`` rewrites them;
``python -m mignet_contracts.schemas --check`` exits 1 when they are stale
(the test suite runs the check, so a contract change without regenerated
schemas fails CI).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from mignet_contracts import envelope, notifier, registry, reviews, support, working_groups
from mignet_contracts.envelope import Command, Event, Query

SCHEMA_DIR = Path(__file__).parent / "schemas"
SERVICES: dict[str, tuple[tuple[type[Event], ...], tuple[type[Command], ...], tuple[type[Query], ...]]] = {
    "registry": (
        (*registry.REGISTRY_EVENTS, *working_groups.WORKING_GROUP_EVENTS, *support.SUPPORT_EVENTS),
        (*registry.REGISTRY_COMMANDS, *working_groups.WORKING_GROUP_COMMANDS, *support.SUPPORT_COMMANDS),
        (*registry.REGISTRY_QUERIES, *working_groups.WORKING_GROUP_QUERIES, *support.SUPPORT_QUERIES),
    ),
    "reviews": (reviews.REVIEWS_EVENTS, reviews.REVIEWS_COMMANDS, reviews.REVIEWS_QUERIES),
    "notifier": (notifier.NOTIFIER_EVENTS, notifier.NOTIFIER_COMMANDS, notifier.NOTIFIER_QUERIES),
}


def _schema(model, schema_id: str, description: str) -> dict:
    schema = model.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "description": description,
        **schema,
    }


def _event_doc(event: type[Event]) -> str:
    first = (event.__doc__ or "").strip().splitlines()
    what = first[0] if first else f"{event.aggregate} {event.name}"
    visibility = "" if event.public else " Not public: holds personal or unmoderated data."
    return f"{what} Subject: {event.subject_for('{' + event.id_field + '}')}.{visibility}"


def _id_token(event: type[Event]) -> str:
    return "{" + f"{event.aggregate}_id" + "}"


def render() -> dict[str, str]:
    """Every generated file: path relative to SCHEMA_DIR -> text."""
    files: dict[str, dict] = {}
    for service, (events, commands, queries) in SERVICES.items():
        channels, operations, messages = {}, {}, {}
        for event in events:
            name = event.schema_name()
            files[f"events/{name}.json"] = _schema(event, event.dataschema(), _event_doc(event))
            key = f"{event.aggregate}_{event.name}".replace("-", "_")
            channels[key] = {
                "address": f"{service}.events.{event.aggregate}.{_id_token(event)}.{event.name}",
                "parameters": {f"{event.aggregate}_id": {"description": f"id of the {event.aggregate}"}},
                "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            }
            messages[key] = {
                "name": event.ce_type(),
                "title": f"{event.aggregate} {event.name}",
                "contentType": "application/json",
                "headers": {
                    "type": "object",
                    "properties": {
                        envelope.H_TYPE: {"const": event.ce_type()},
                        envelope.H_SPECVERSION: {"const": envelope.SPEC_VERSION},
                        envelope.H_SOURCE: {"const": f"/mignet/{service}"},
                        envelope.H_DATASCHEMA: {"const": event.dataschema()},
                        envelope.H_ID: {"type": "string"},
                        envelope.H_SUBJECT: {"type": "string"},
                        envelope.H_TIME: {"type": "string", "format": "date-time"},
                        envelope.H_COMMAND: {"type": "string"},
                        envelope.H_CORRELATION: {"type": "string"},
                        envelope.H_CAUSATION: {"type": "string"},
                        envelope.H_ACTOR: {"type": "string"},
                        envelope.H_COMMAND_NAME: {"type": "string", "description": "the command's schema name"},
                        envelope.H_COMMAND_HASH: {
                            "type": "string",
                            "pattern": "^[0-9a-f]{32}$",
                            "description": "the command's payload hash (Command.payload_hash)",
                        },
                        envelope.H_TRACEPARENT: {
                            "type": "string",
                            "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                            "description": "W3C trace context of the command that wrote it (when its caller sent one)",
                        },
                        envelope.H_TRACESTATE: {"type": "string", "description": "W3C tracestate, with traceparent"},
                    },
                },
                "payload": {"$ref": f"../events/{name}.json"},
                "x-public": event.public,
            }
            operations[f"on_{key}"] = {"action": "receive", "channel": {"$ref": f"#/channels/{key}"}}
        for kind, models in (("commands", commands), ("queries", queries)):
            for model in models:
                name = model.schema_name()
                files[f"{kind}/{name}.json"] = _schema(
                    model,
                    f"{envelope.SCHEMA_BASE_URI}/{kind}/{name}.json",
                    (model.__doc__ or f"{model.name} request").strip().splitlines()[0],
                )
                key = f"{kind}_{model.name}".replace("-", "_")
                channels[key] = {
                    "address": model.subject(),
                    "messages": {key: {"$ref": f"#/components/messages/{key}"}},
                }
                messages[key] = {
                    "name": model.name,
                    "contentType": "application/json",
                    "payload": {"$ref": f"../{kind}/{name}.json"},
                }
                operations[key] = {
                    "action": "receive",
                    "channel": {"$ref": f"#/channels/{key}"},
                    "reply": {
                        "address": {"location": "$message.header#/reply_to"},
                        "messages": [{"$ref": "#/components/messages/reply"}],
                    },
                }
        messages["reply"] = {"name": "reply", "contentType": "application/json", "payload": {"$ref": "../reply.json"}}
        files[f"asyncapi/{service}.json"] = {
            "asyncapi": "3.0.0",
            "info": {
                "title": f"mignet {service}",
                "version": "1",
                "description": f"Events, commands and queries of the mignet {service} service. "
                "Events are CloudEvents in binary mode: attributes in ce- headers, "
                "the event JSON as payload.",
            },
            "defaultContentType": "application/json",
            "channels": channels,
            "operations": operations,
            "components": {"messages": messages},
        }
    files["reply.json"] = _schema(
        envelope.Reply, f"{envelope.SCHEMA_BASE_URI}/reply.json", "The reply to every command and query."
    )
    files["command-result.json"] = _schema(
        envelope.CommandResult,
        f"{envelope.SCHEMA_BASE_URI}/command-result.json",
        "The result of a command that succeeded.",
    )
    files["webhook-cloudevent.json"] = _schema(
        notifier.WebhookCloudEvent,
        f"{envelope.SCHEMA_BASE_URI}/webhook-cloudevent.json",
        "The body of every webhook the notifier POSTs (CloudEvents structured JSON mode).",
    )
    return {path: json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n" for path, doc in files.items()}


def stale(rendered: dict[str, str]) -> list[str]:
    problems = []
    for path, text in rendered.items():
        target = SCHEMA_DIR / path
        if not target.exists() or target.read_text() != text:
            problems.append(path)
    known = set(rendered)
    for target in SCHEMA_DIR.rglob("*.json"):
        if str(target.relative_to(SCHEMA_DIR)) not in known:
            problems.append(f"{target.relative_to(SCHEMA_DIR)} (no longer generated)")
    return sorted(problems)


def write(rendered: dict[str, str]) -> Iterable[str]:
    for target in SCHEMA_DIR.rglob("*.json"):
        if str(target.relative_to(SCHEMA_DIR)) not in rendered:
            target.unlink()
    for path, text in rendered.items():
        target = SCHEMA_DIR / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        yield path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the schema files")
    parser.add_argument("--check", action="store_true", help="exit 1 if the files are stale")
    args = parser.parse_args(argv)
    rendered = render()
    if args.write:
        written = list(write(rendered))
        print(f"wrote {len(written)} files under {SCHEMA_DIR}")
        return 0
    problems = stale(rendered)
    if problems:
        print("stale schemas (run `make schemas`):\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"{len(rendered)} schema files are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
