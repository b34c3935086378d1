"""Command ids are required, and a command's payload hash says exactly what it asks for."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from mignet_contracts import registry as r
from mignet_contracts import reviews as v
from mignet_contracts.envelope import ENVELOPE_FIELDS, Command
from mignet_contracts.schemas import render
from mignet_runtime.codec import EventCodec, Metadata, parse_time

CONTACT = {"name": "Ana Pérez", "email": "ana@example.org"}


def submission(**changes) -> v.SubmitContribution:
    fields = {
        "command_id": "submit-1",
        "actor": "portal",
        "review_id": "asia-pacific-2024-2025",
        "contributor": {"kind": "stakeholder", "category": "civil-society", "organization": "Migrant Forum in Asia"},
        "level": "regional",
        "title": "Fair recruitment",
        "summary": "What worked.",
        "body": "Line one.",
        "objectives": [6, 23],
        "guiding_principles": ["whole-of-society"],
        "language": "en",
        "links": ["https://mfasia.org/report.pdf"],
        "contact": CONTACT,
        "occurred_on": "2025-01-15",
    }
    if "imrf" in changes:  # a contribution to the IMRF itself names no review
        del fields["review_id"]
    return v.SubmitContribution(**(fields | changes))


#: A different valid value for every field of ``submission()`` that is not envelope.
CHANGED = {
    "review_id": "africa-2024-2025",
    "imrf": "imrf-2026",
    "contributor": {"kind": "stakeholder", "category": "civil-society", "organization": "Another Forum"},
    "level": "national",
    "title": "Fair recruitment!",
    "summary": "What worked best.",
    "body": "Line one, amended.",
    "objectives": [6, 22],
    "guiding_principles": ["gender-responsive"],
    "language": "fr",
    "links": ["https://mfasia.org/report-2.pdf"],
    "contact": {"name": "Ana Pérez", "email": "ana.perez@example.org"},
    "occurred_on": "2025-01-16",
}


def test_command_id_is_required():
    with pytest.raises(ValidationError) as missing:
        r.ConfirmChampion(actor="ops", country="BD")
    assert [(e["loc"], e["type"]) for e in missing.value.errors()] == [(("command_id",), "missing")]


def test_every_published_command_schema_requires_command_id():
    commands = {name: schema for name, schema in render().items() if name.startswith("commands/")}
    assert len(commands) == 45  # registry 28 (with working groups and support), reviews 8, notifier 9
    for name, text in commands.items():
        assert "command_id" in json.loads(text)["required"], name


def test_hash_is_sha256_of_the_canonical_payload():
    command = r.ConfirmChampion(command_id="c-1", actor="ops", country="bd", occurred_on=date(2020, 10, 1))
    canonical = (
        '{"command":"registry.commands.confirm-champion.v1","payload":{"country":"BD","occurred_on":"2020-10-01"}}'
    )
    assert command.payload_hash() == hashlib.sha256(canonical.encode()).hexdigest()[:32]


def test_hash_is_stable_under_key_order_and_parsing():
    command = submission()
    as_json = command.model_dump(mode="json")
    reordered = json.dumps(
        dict(reversed(list(as_json.items())))
        | {
            "contributor": dict(reversed(list(as_json["contributor"].items()))),
            "contact": dict(reversed(list(as_json["contact"].items()))),
        }
    )
    assert v.SubmitContribution.model_validate_json(reordered).payload_hash() == command.payload_hash()
    assert submission(title="  Fair recruitment ").payload_hash() == command.payload_hash()  # stripped on input


def test_every_covered_field_is_in_the_test():
    assert set(v.SubmitContribution.model_fields) - ENVELOPE_FIELDS == set(CHANGED)


@pytest.mark.parametrize("field", sorted(CHANGED))
def test_hash_differs_when_any_field_changes(field):
    assert submission(**{field: CHANGED[field]}).payload_hash() != submission().payload_hash()


def test_hash_ignores_the_envelope():
    assert {"command_id", "actor", "correlation_id"} == ENVELOPE_FIELDS
    assert (
        submission(command_id="other", actor="someone-else", correlation_id="flow-2").payload_hash()
        == submission().payload_hash()
    )


def test_hash_names_the_command():
    # the same fields, two different commands
    opened = v.OpenReview(command_id="x", actor="o", review_id="africa-2024-2025")
    closed = v.CloseReview(command_id="x", actor="o", review_id="africa-2024-2025")
    assert opened.model_dump(mode="json") == closed.model_dump(mode="json")
    assert opened.payload_hash() != closed.payload_hash()


def test_a_field_left_at_its_default_hashes_as_if_absent():
    # so a later optional field does not turn retries of older commands into conflicts
    plain = r.CreateNetwork(command_id="x", actor="o", scope="national", country="BD", network_name="N")
    spelled_out = r.CreateNetwork(
        command_id="x",
        actor="o",
        scope="national",
        country="BD",
        network_name="N",
        status="under-consideration",
        members=[],
        description=None,
        occurred_on=None,
    )
    assert plain.payload_hash() == spelled_out.payload_hash()
    assert (
        plain.payload_hash()
        != r.CreateNetwork(
            command_id="x", actor="o", scope="national", country="BD", network_name="N", status="established"
        ).payload_hash()
    )


def test_every_command_hashes_to_32_hex_digits():
    for cls in Command.__subclasses__():
        for sub in [cls, *cls.__subclasses__()]:
            assert sub.payload_hash is Command.payload_hash  # no command overrides the canonical form
    assert re.fullmatch("[0-9a-f]{32}", submission().payload_hash())


def test_codec_carries_the_command_name_and_hash_as_cloudevents_extensions():
    codec = EventCodec([r.ChampionConfirmed])
    event = r.ChampionConfirmed(country="BD", occurred_on=date(2020, 10, 1))
    command = r.ConfirmChampion(command_id="c-1", actor="ops", country="BD")
    meta = Metadata(
        command_id="c-1", actor="ops", command_name=command.schema_name(), command_hash=command.payload_hash()
    )
    headers, data = codec.encode(event, meta)
    assert headers["ce-commandname"] == "registry.commands.confirm-champion.v1"
    assert headers["ce-commandhash"] == command.payload_hash()
    recorded = codec.decode(7, event.subject, headers, data)
    assert (recorded.command_name, recorded.command_hash) == (command.schema_name(), command.payload_hash())
    # events written without them (before they existed) decode with None
    bare, _ = codec.encode(event, Metadata(command_id="c-1", actor="ops"))
    assert "ce-commandname" not in bare and "ce-commandhash" not in bare
    old = codec.decode(7, event.subject, bare, data)
    assert (old.command_name, old.command_hash) == (None, None)
    assert old.recorded_at <= datetime.now(UTC)


def test_the_keyed_hash_needs_the_secret_to_confirm_a_guess():
    secret = b"s" * 32
    keyed = submission().payload_hmac(secret)
    assert re.fullmatch("[0-9a-f]{32}", keyed) and keyed != submission().payload_hash()
    assert submission(actor="other").payload_hmac(secret) == keyed  # the envelope is left out, as before
    assert submission(contact=CHANGED["contact"]).payload_hmac(secret) != keyed
    assert submission().payload_hmac(b"t" * 32) != keyed
    codec = EventCodec([r.ChampionConfirmed])
    event = r.ChampionConfirmed(country="BD", occurred_on=date(2020, 10, 1))
    headers, data = codec.encode(event, Metadata(command_id="c-1", actor="ops", command_hmac=keyed))
    assert headers["ce-commandhmac"] == keyed and "ce-commandhash" not in headers
    assert codec.decode(7, event.subject, headers, data).command_hmac == keyed


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-12-01T21:50:00.123456Z",
        "2026-12-01T21:50:00.123456789Z",
        "2026-12-01T21:50:00.123456789+00:00",
        "2026-12-01T21:50:00Z",
    ],
)
def test_recorded_times_keep_their_zone(stamp):
    # the conflict names when the original command ran; a naive time would be read as local time
    parsed = parse_time(stamp)
    assert parsed.utcoffset() is not None
    assert parsed.astimezone(UTC).replace(microsecond=0) == datetime(2026, 12, 1, 21, 50, tzinfo=UTC)
