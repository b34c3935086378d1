"""Personal fields: the contract marker, and the codec sealing them on append and opening them on read."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import pytest
from pydantic import ValidationError

from mignet_contracts import registry as r
from mignet_contracts import reviews as c
from mignet_contracts.envelope import Contract
from mignet_contracts.fields import ERASED, PERSONAL, WITHHELD, PersonalEmail
from mignet_runtime import personal
from mignet_runtime.codec import EventCodec, MalformedEvent, Metadata

EMAIL = "amina.private@example.org"
NAME = "Amina Privata"
ON = date(2024, 6, 1)
META = Metadata(command_id="cmd-1", actor="test")


class Keys:
    """A key source as the event store's KeyRing is after loading: id -> key, None once erased."""

    def __init__(self, **keys: bytes | None):
        self.keys = keys
        self.forgotten: list[str] = []

    def key(self, key_id: str) -> bytes | None:
        return self.keys[key_id]

    def forget(self, key_ids) -> None:
        self.forgotten += key_ids


def focal_point() -> r.NetworkFocalPointAssigned:
    return r.NetworkFocalPointAssigned(
        network_id="nat-bd", focal_point_name=NAME, entity="IOM", email=EMAIL, occurred_on=ON
    )


def contact() -> c.ContributionContactRecorded:
    return c.ContributionContactRecorded(
        contribution_id="c-0123456789abcdef", contact=c.ContributionContact(name=NAME, email=EMAIL), occurred_on=ON
    )


def test_the_marker_shows_in_the_json_schema_and_hides_the_field_from_repr():
    schema = r.NetworkFocalPointAssigned.model_json_schema()["properties"]
    assert schema["email"]["x-personal"] is True and schema["email"]["x-personal-lookup"] is True
    assert schema["focal_point_name"]["x-personal"] is True
    assert "x-personal" not in schema["entity"]
    contact_schema = c.ContributionContactRecorded.model_json_schema()["$defs"]["ContributionContact"]["properties"]
    assert contact_schema["email"]["x-personal"] is True
    shown = repr(focal_point()) + str(focal_point()) + repr(contact())
    assert EMAIL not in shown and NAME not in shown
    assert "IOM" in shown


def test_one_annotation_marks_any_field():
    class Subscriber(Contract):
        address: PersonalEmail
        nickname: Annotated[str, PERSONAL]
        topic: str

    plan = personal.plan_for(Subscriber)
    assert set(plan) == {"address", "nickname"}
    assert plan["address"].lookup and not plan["nickname"].lookup
    assert "x-personal" in Subscriber.model_json_schema()["properties"]["nickname"]


def test_a_command_may_not_carry_the_erased_marker():
    with pytest.raises(ValidationError):
        r.AssignFocalPoint(
            command_id="x", actor="a", network_id="nat-bd", focal_point_name=NAME, entity="IOM", email=ERASED
        )


@pytest.mark.parametrize("event", [focal_point(), contact()], ids=["focal-point", "contact"])
def test_sealed_on_encode_and_opened_on_decode(event):
    codec = EventCodec([type(event)])
    key_id = personal.key_id_for(event, META.command_id)
    keys = Keys(**{key_id: personal.new_key()})
    headers, data = codec.encode(event, META, keys)
    assert headers[personal.H_DATA_KEY] == key_id == f"{event.aggregate}.{event.aggregate_id}.cmd-1"
    assert EMAIL.encode() not in data and NAME.encode() not in data
    assert f"{personal.PREFIX}{key_id}:".encode() in data  # the ciphertext carries its key id
    assert codec.decode(7, event.subject, headers, data, keys).event == event
    # Without the key store (another service reading the stream): withheld. With the key erased: erased.
    withheld = codec.decode(7, event.subject, headers, data, None).event
    erased = codec.decode(7, event.subject, headers, data, Keys(**{key_id: None})).event
    assert WITHHELD in repr(withheld.model_dump()) and ERASED in repr(erased.model_dump())
    assert EMAIL not in repr(erased.model_dump())


def test_a_value_moved_to_another_field_or_a_wrong_key_reads_as_erased():
    event = focal_point()
    codec = EventCodec([type(event)])
    key_id = personal.key_id_for(event, META.command_id)
    keys = Keys(**{key_id: personal.new_key()})
    headers, data = codec.encode(event, META, keys)
    payload = json.loads(data)
    payload["focal_point_name"], payload["email"] = payload["email"], payload["focal_point_name"]
    swapped = codec.decode(7, event.subject, headers, json.dumps(payload).encode(), keys).event
    assert swapped.email == ERASED and swapped.focal_point_name == ERASED
    wrong = codec.decode(7, event.subject, headers, data, Keys(**{key_id: personal.new_key()})).event
    assert wrong.email == ERASED


def test_events_written_before_encryption_still_decode():
    event = focal_point()
    codec = EventCodec([type(event)])
    plain = event.model_dump_json().encode()
    assert codec.decode(3, event.subject, {}, plain, None).event == event


def test_writing_personal_data_without_a_key_store_is_refused():
    event = contact()
    with pytest.raises(ValueError, match="needs a key store"):
        EventCodec([type(event)]).encode(event, META, None)


def test_an_erasure_event_makes_the_reader_forget_its_keys():
    erased = c.ContributionPersonalDataErased(
        contribution_id="c-0123456789abcdef",
        key_ids=["contribution.c-0123456789abcdef.cmd-1"],
        requested_by="ticket-42",
        occurred_on=ON,
    )
    codec = EventCodec([type(erased)])
    headers, data = codec.encode(erased, META)
    keys = Keys()
    codec.decode(9, erased.subject, headers, data, keys)
    assert keys.forgotten == ["contribution.c-0123456789abcdef.cmd-1"]


def test_a_malformed_event_error_never_shows_the_payload():
    event = focal_point()
    bad = json.loads(event.model_dump_json())
    bad["entity"] = 12
    with pytest.raises(MalformedEvent) as caught:
        EventCodec([type(event)]).decode(3, event.subject, {}, json.dumps(bad).encode())
    assert EMAIL not in str(caught.value) and NAME not in str(caught.value)
    assert "entity" in str(caught.value)


def test_lookup_values_and_their_keyed_hash():
    assert personal.lookup_values(contact()) == [EMAIL]
    assert personal.lookup_values(focal_point()) == [EMAIL]
    secret = b"s" * 32
    digest = personal.lookup_hash(secret, EMAIL)
    assert digest == personal.lookup_hash(secret, "  " + EMAIL.upper())  # addresses compare case-insensitively
    assert digest != personal.lookup_hash(b"t" * 32, EMAIL) and len(digest) == 32
