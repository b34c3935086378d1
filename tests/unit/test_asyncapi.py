"""The AsyncAPI documents (issue 9.3): what integrators' tools need, and the official parser accepts them.

The parser is ``@asyncapi/parser`` from npm, pinned by contracts/asyncapi-check/package-lock.json
and installed by ``make asyncapi`` (``.ci/run`` does it, with Debian's nodejs/npm); nothing is
fetched here. Without that install the parser test is skipped, except under CI, where
MIGNET_REQUIRE_ASYNCAPI_CHECK=1 makes a missing parser a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mignet_contracts.schemas import SCHEMA_DIR, render

CHECK = Path(__file__).resolve().parents[2] / "contracts" / "asyncapi-check"
DOCUMENTS = sorted((SCHEMA_DIR / "asyncapi").glob("*.json"))


def _doc(service: str) -> dict:
    return json.loads(render()[f"asyncapi/{service}.json"])


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


@pytest.fixture(scope="module")
def parser() -> list[str]:
    node = shutil.which("node")
    if node and (CHECK / "node_modules" / "@asyncapi" / "parser").is_dir():
        return [node, str(CHECK / "validate.mjs")]
    reason = "the AsyncAPI parser is not installed: make asyncapi (needs node and npm)"
    if os.environ.get("MIGNET_REQUIRE_ASYNCAPI_CHECK") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _parse(parser: list[str], *files: Path) -> tuple[int, list[dict]]:
    done = subprocess.run([*parser, *map(str, files)], capture_output=True, text=True, timeout=120, cwd=CHECK)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


def test_the_official_parser_accepts_every_document_from_its_text_alone(parser):
    assert len(DOCUMENTS) == 3  # registry, reviews, notifier
    code, results = _parse(parser, *DOCUMENTS)
    assert [(r["parsed"], r["errors"], r["warnings"]) for r in results] == [(True, [], [])] * 3
    assert code == 0


def test_the_parser_refuses_what_it_used_to_refuse(parser, tmp_path):
    """The two faults of issue 9: a payload by relative $ref, and pydantic's discriminator object."""
    doc = _doc("reviews")
    relative, discriminated = json.loads(json.dumps(doc)), json.loads(json.dumps(doc))
    relative["channels"]["review_opened"]["messages"]["review_opened"]["payload"] = {"$ref": "../events/x.json"}
    for node in _walk(discriminated["components"]["schemas"]):
        if isinstance(node.get("discriminator"), str):
            node["discriminator"] = {"propertyName": node["discriminator"], "mapping": {}}
            break
    else:
        pytest.fail("no discriminator in reviews.json to break")
    (tmp_path / "relative.json").write_text(json.dumps(relative))
    (tmp_path / "discriminated.json").write_text(json.dumps(discriminated))
    code, results = _parse(parser, tmp_path / "relative.json", tmp_path / "discriminated.json")
    assert code == 1
    assert all(r["errors"] for r in results), results


@pytest.mark.parametrize("service", ["registry", "reviews"])
def test_documents_are_self_contained_with_servers_security_and_bindings(service):
    doc = _doc(service)
    refs = [n["$ref"] for n in _walk(doc) if "$ref" in n]
    assert refs and all(ref.startswith("#/") for ref in refs)
    assert {s["protocol"] for s in doc["servers"].values()} == {"nats"}
    assert set(doc["components"]["securitySchemes"]) == {"integrator", "operator"}
    assert not any("$defs" in n or "$id" in n for n in _walk(doc))


@pytest.mark.parametrize("service", ["registry", "reviews"])
def test_services_send_events_and_receive_requests_with_typed_replies(service):
    doc = _doc(service)
    for key, operation in doc["operations"].items():
        channel = doc["channels"][operation["channel"]["$ref"].split("/")[-1]]
        if ".events." in channel["address"]:
            assert operation["action"] == "send", key
            (sent,) = operation["messages"]
            message = channel["messages"][sent["$ref"].split("/")[-1]]
            for other in set(channel["messages"]) - {sent["$ref"].split("/")[-1]}:  # earlier versions, still read
                assert channel["messages"][other]["x-upcast-to"] == message["name"]
            headers = message["headers"]
            assert {"ce-id", "ce-type", "ce-source", "ce-time", "ce-datacontenttype"} <= set(headers["required"])
            public = message["x-public"]
            assert message["tags"] == [{"name": "public" if public else "internal"}]
            assert ("PUBLIC" in channel["x-jetstream-streams"]) == public
        else:
            assert operation["action"] == "receive" and "reply" in operation, key
            assert operation["bindings"]["nats"]["queue"] in (f"{service}-commands", f"{service}-queries")
            reply = operation["reply"]["messages"][0]["$ref"].split("/")[-1]
            ok, failed = doc["channels"]["replies"]["messages"][reply]["payload"]["oneOf"]
            assert failed["properties"]["error"] == {"$ref": "#/components/schemas/ErrorBody"}
            if key.startswith("commands_"):
                assert ok["properties"]["result"] == {"$ref": "#/components/schemas/CommandResult"}
            elif key.startswith("queries_list_"):
                result = ok["properties"]["result"]
                if "$ref" in result:  # a typed view (registry_views)
                    result = doc["components"]["schemas"][result["$ref"].split("/")[-1]]
                assert {"total", "items"} <= set(result["required"])


def test_channel_parameters_are_named_like_the_payload_fields():
    doc = _doc("registry")
    assert doc["channels"]["champion_nominated"]["address"] == "registry.events.champion.{country}.nominated"
    assert "lower case" in doc["channels"]["champion_nominated"]["parameters"]["country"]["description"]
    assert doc["channels"]["network_created"]["address"] == "registry.events.network.{network_id}.created"


def test_the_headers_the_codec_writes_match_each_events_header_schema():
    from datetime import date

    from jsonschema import Draft7Validator

    from mignet_contracts import registry as rg
    from mignet_contracts.cloudevents import decode_headers
    from mignet_runtime.codec import EventCodec, Metadata

    event = rg.ChampionConfirmed(country="CL", occurred_on=date(2020, 10, 1))
    headers, _ = EventCodec(rg.REGISTRY_EVENTS).encode(
        event, Metadata(command_id="c1", actor='José "Ñ" 100% secretariat', command_name="n", command_hash="0" * 32)
    )
    message = _doc("registry")["channels"]["champion_confirmed"]["messages"]["champion_confirmed"]
    assert list(Draft7Validator(message["headers"]).iter_errors(decode_headers(headers))) == []
    missing = {k: v for k, v in decode_headers(headers).items() if k != "ce-id"}
    assert list(Draft7Validator(message["headers"]).iter_errors(missing))  # ce-id is required
