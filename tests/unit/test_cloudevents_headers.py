"""CloudEvents NATS binding, binary mode: ce- header values are percent-encoded (issue 9.5)."""

from __future__ import annotations

from email.header import Header
from email.parser import BytesParser

import pytest

from mignet_contracts import cloudevents as ce

ACTOR = 'José "Ñ" 100% secretariat'


@pytest.mark.parametrize(
    ("text", "wire"),
    [
        (ACTOR, "Jos%C3%A9%20%22%C3%91%22%20100%25%20secretariat"),
        ("registry.commands.create-network.v1", "registry.commands.create-network.v1"),
        ("https://mignet.un-migration.int/schemas/x.json", "https://mignet.un-migration.int/schemas/x.json"),
        ("tab\there\x7f", "tab%09here%7F"),
        ("", ""),
        ("مكتب الهجرة", "%D9%85%D9%83%D8%AA%D8%A8%20%D8%A7%D9%84%D9%87%D8%AC%D8%B1%D8%A9"),
    ],
)
def test_values_are_percent_encoded_as_the_binding_says_and_decode_back(text, wire):
    assert ce.encode_value(text) == wire
    assert wire.isascii() and " " not in wire and '"' not in wire
    assert ce.decode_value(wire) == text


def test_headers_other_than_ce_are_left_alone_and_the_content_type_is_named_by_the_binding():
    headers = ce.encode_headers({"ce-actor": ACTOR, "Nats-Msg-Id": "a b", "content-type": "application/json"})
    assert headers == {
        "ce-actor": "Jos%C3%A9%20%22%C3%91%22%20100%25%20secretariat",
        "Nats-Msg-Id": "a b",
        "content-type": "application/json",
    }
    encoded = {**headers, ce.H_DATACONTENTTYPE: "application/json"}
    assert ce.attributes(encoded) == {"actor": ACTOR, "datacontenttype": "application/json"}


def test_events_recorded_before_the_encoding_are_read_as_they_are():
    # No ce-datacontenttype: an old event, whose '%20' is literal and whose non-ASCII was sent raw.
    old = {"ce-actor": "100%20 done", "ce-id": "x", "content-type": "application/json"}
    assert ce.attributes(old) == {"actor": "100%20 done", "id": "x"}
    # What nats-py's get_msg hands over for a raw non-ASCII value: email's Header of undecoded bytes.
    raw = BytesParser().parsebytes(f"ce-actor: {ACTOR}\r\n\r\n".encode())["ce-actor"]
    assert isinstance(raw, Header)
    assert ce.attributes({"ce-actor": raw}) == {"actor": ACTOR}
    assert ce.decode_headers(None) == {}
