"""The published JSON Schemas and AsyncAPI documents match the contract models."""

import json

from mignet_contracts import registry
from mignet_contracts.schemas import SCHEMA_DIR, render, stale


def test_published_schemas_are_up_to_date():
    problems = stale(render())
    assert problems == [], f"stale schema files, run `make schemas`: {problems}"


def test_every_event_has_a_schema_at_its_dataschema_address():
    for event in registry.REGISTRY_EVENTS:
        schema = json.loads((SCHEMA_DIR / "events" / f"{event.schema_name()}.json").read_text())
        assert schema["$id"] == event.dataschema()
        assert "occurred_on" in schema["required"]
        # Open to fields added later within v1 (issue 9.4); commands stay strict.
        assert "additionalProperties" not in schema
        assert schema["x-public"] is event.public


def test_asyncapi_has_one_message_per_event_channel():
    doc = json.loads((SCHEMA_DIR / "asyncapi" / "registry.json").read_text())
    created = doc["channels"]["network_created"]
    assert created["address"] == "registry.events.network.{network_id}.created"
    assert list(created["messages"]) == ["network_created"]
    assert created["messages"]["network_created"]["name"] == registry.NetworkCreated.ce_type()
    focal_point = doc["channels"]["network_focal_point_assigned"]["messages"]["network_focal_point_assigned"]
    assert focal_point["x-public"] is False


def test_commands_refuse_fields_they_do_not_know():
    for command in registry.REGISTRY_COMMANDS:
        schema = json.loads((SCHEMA_DIR / "commands" / f"{command.schema_name()}.json").read_text())
        assert schema["additionalProperties"] is False
