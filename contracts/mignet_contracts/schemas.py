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

from mignet_contracts import asyncapi, catalog, envelope, notifier, registry, reviews, support, working_groups
from mignet_contracts.envelope import Command, Event, Query

SCHEMA_DIR = Path(__file__).parent / "schemas"
SERVICES: dict[str, tuple[tuple[type[Event], ...], tuple[type[Command], ...], tuple[type[Query], ...]]] = {
    "registry": (
        catalog.REGISTRY_STREAM_EVENTS,
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


def render() -> dict[str, str]:
    """Every generated file: path relative to SCHEMA_DIR -> text."""
    files: dict[str, dict] = {}
    for service, (events, commands, queries) in SERVICES.items():
        historic = catalog.readable(events)[len(events) :]  # earlier versions still in the streams
        for event in (*events, *historic):
            schema = _schema(event, event.dataschema(), _event_doc(event))
            files[f"events/{event.schema_name()}.json"] = {**schema, "x-public": event.public}
        for kind, models in (("commands", commands), ("queries", queries)):
            for model in models:
                name = model.schema_name()
                files[f"{kind}/{name}.json"] = _schema(
                    model,
                    f"{envelope.SCHEMA_BASE_URI}/{kind}/{name}.json",
                    (model.__doc__ or f"{model.name} request").strip().splitlines()[0],
                )
        files[f"asyncapi/{service}.json"] = asyncapi.document(service, events, commands, queries, historic)
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
