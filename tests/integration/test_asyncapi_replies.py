"""The replies the AsyncAPI documents promise are the replies a running service sends (issue 9.3).

Raw NATS requests to the real registry, as any client would send them; each reply is
validated against the reply message of the registry's AsyncAPI document, refs resolved in it.
"""

from __future__ import annotations

import json

import nats
import pytest
from conftest import RunningService
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from mignet_contracts import registry as c
from mignet_contracts.envelope import new_id
from mignet_contracts.schemas import SCHEMA_DIR
from mignet_registry.app import SPEC

pytestmark = pytest.mark.integration

DOCUMENT = json.loads((SCHEMA_DIR / "asyncapi" / "registry.json").read_text())
REFS = Registry().with_resource("urn:registry", Resource.from_contents(DOCUMENT, default_specification=DRAFT7))


def reply_validator(key: str) -> Draft7Validator:
    return Draft7Validator({"$ref": f"urn:registry#/channels/replies/messages/{key}_reply/payload"}, registry=REFS)


@pytest.fixture
async def registry(fresh_nats, settings_for):
    async with RunningService(SPEC, settings_for(fresh_nats)):
        nc = await nats.connect(fresh_nats.url_for("operator"), inbox_prefix="_INBOX_operator")
        yield nc
        await nc.close()


async def _ask(nc, model, body: dict) -> dict:
    reply = await nc.request(model.subject(), json.dumps(body).encode(), timeout=10)
    return json.loads(reply.data)


async def test_command_replies_match_the_documented_reply(registry):
    create = {
        "command_id": new_id(),
        "actor": "test",
        "scope": "national",
        "country": "BD",
        "network_name": "UN Network on Migration in Bangladesh",
    }
    done = await _ask(registry, c.CreateNetwork, create)
    refused = await _ask(registry, c.CreateNetwork, {**create, "command_id": new_id()})  # one network per country
    malformed = await _ask(registry, c.CreateNetwork, {"actor": "test"})
    assert (done["ok"], refused["ok"], malformed["ok"]) == (True, False, False)
    validator = reply_validator("commands_create_network")
    for reply in (done, refused, malformed):
        assert list(validator.iter_errors(reply)) == [], reply
    assert list(validator.iter_errors({**done, "result": {"aggregate": "network"}}))  # the validator has teeth


async def test_list_query_replies_are_a_page(registry):
    page = await _ask(registry, c.ListNetworks, {})
    assert page["ok"] is True
    assert list(reply_validator("queries_list_networks").iter_errors(page)) == []
