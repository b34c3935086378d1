"""Versioning that holds (issue 9.4): released event schemas take additive changes only; the rest is a v2."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest
from pydantic import ValidationError

from mignet_contracts import registry as rg
from mignet_contracts.compat import RELEASED_DIR, breaking_changes, check

CREATED = "registry.network.created.v1"


def released(name: str = CREATED) -> dict:
    return json.loads((RELEASED_DIR / f"{name}.json").read_text())


def test_the_current_event_schemas_match_the_released_ones():
    assert check() == []


def test_adding_an_optional_field_is_compatible():
    current = copy.deepcopy(released())
    current["properties"]["website"] = {"type": "string", "format": "uri"}
    assert breaking_changes(released(), current) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s["properties"].pop("network_name"), "field 'network_name' was removed or renamed"),
        (
            lambda s: s["properties"].__setitem__("name", s["properties"].pop("network_name")),
            "field 'network_name' was removed or renamed",
        ),
        (lambda s: s["properties"].__setitem__("network_name", {"type": "integer"}), "field 'network_name' changed"),
        (lambda s: s["required"].append("description"), "field 'description' became required"),
        (
            lambda s: (s["properties"].__setitem__("website", {"type": "string"}), s["required"].append("website")),
            "new field 'website' is required",
        ),
        (lambda s: s["$defs"]["NetworkStatus"]["enum"].append("merged"), "field 'status' changed"),
        (lambda s: s.__setitem__("additionalProperties", False), "the event no longer accepts fields it does not know"),
    ],
)
def test_removing_renaming_retyping_or_requiring_a_field_breaks(change, expected):
    current = copy.deepcopy(released())
    change(current)
    problems = breaking_changes(released(), current)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_a_break_says_to_publish_a_new_version(tmp_path):
    # The released v1 had a field the current model no longer has: as if someone removed it.
    old = released()
    old["properties"]["acronym"] = {"type": "string"}
    (tmp_path / f"{CREATED}.json").write_text(json.dumps(old))
    problems = [p for p in check(tmp_path) if p.startswith(CREATED)]
    assert problems == [
        f"{CREATED}: field 'acronym' was removed or renamed. That breaks consumers of {CREATED}: publish the "
        f"change as registry.network.created.v2 (a new event class, with an upcaster from the old one) "
        f"and keep {CREATED} as it is"
    ]


def test_events_accept_fields_they_do_not_know_and_commands_do_not():
    fields = {
        "network_id": "nat-bd",
        "network_name": "UN Network on Migration in Bangladesh",
        "occurred_on": date(2024, 1, 1),
    }
    event = rg.NetworkRenamed.model_validate({**fields, "from_name": "Old", "added_in_v1_later": 1})
    assert not hasattr(event, "added_in_v1_later")
    with pytest.raises(ValidationError, match="added_in_v1_later"):
        rg.RenameNetwork.model_validate({**fields, "command_id": "c1", "actor": "a", "added_in_v1_later": 1})


def test_a_consumer_validating_with_the_published_schema_accepts_an_added_field():
    from jsonschema import Draft202012Validator

    from mignet_contracts.schemas import SCHEMA_DIR

    event = rg.NetworkCreated(
        network_id="nat-bd",
        scope="national",
        country="BD",
        network_name="UN Network on Migration in Bangladesh",
        status="established",
        occurred_on=date(2024, 1, 1),
    )
    schema = json.loads((SCHEMA_DIR / "events" / f"{event.schema_name()}.json").read_text())
    validator = Draft202012Validator(schema)
    payload = json.loads(event.model_dump_json())
    assert list(validator.iter_errors(payload)) == []
    assert list(validator.iter_errors({**payload, "website": "https://example.org"})) == []  # a later v1
    assert list(validator.iter_errors({**payload, "status": "merged"}))  # a new enum value is a new version
    assert list(validator.iter_errors({k: v for k, v in payload.items() if k != "network_name"}))
