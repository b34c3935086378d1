"""The codec with every feature at once: CloudEvents headers percent-encoded (trace context included),
personal fields sealed, and an earlier version upcast on reading AFTER its personal fields are opened."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar

import pytest

from mignet_contracts import catalog
from mignet_contracts.envelope import Event
from mignet_contracts.fields import PERSONAL, WITHHELD
from mignet_contracts.registry import NetworkEvent
from mignet_runtime import personal
from mignet_runtime.codec import EventCodec, Metadata

ON = date(2024, 6, 1)
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class ContactNotedV1(NetworkEvent):
    name: ClassVar[str] = "contact-noted"
    version: ClassVar[int] = 1
    public: ClassVar[bool] = False

    person: Annotated[str, PERSONAL]


class ContactNoted(NetworkEvent):
    name: ClassVar[str] = "contact-noted"
    version: ClassVar[int] = 2
    public: ClassVar[bool] = False

    contact_name: Annotated[str, PERSONAL]
    upper: str


def _v1_to_v2(event: Event) -> Event:
    assert isinstance(event, ContactNotedV1)
    # Derived from the personal value: only right when the upcaster sees it opened, not sealed.
    return ContactNoted(
        network_id=event.network_id,
        contact_name=event.person,
        upper=event.person.upper(),
        occurred_on=event.occurred_on,
    )


class Keys:
    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}

    def key(self, key_id: str) -> bytes | None:
        return self.keys.setdefault(key_id, personal.new_key())


@pytest.fixture
def codec(monkeypatch) -> EventCodec:
    monkeypatch.setitem(catalog.UPCASTERS, ContactNotedV1, _v1_to_v2)
    monkeypatch.setattr(catalog, "HISTORIC_EVENTS", (*catalog.HISTORIC_EVENTS, ContactNotedV1))
    return EventCodec([ContactNoted])


def test_an_old_sealed_event_is_opened_then_upcast_with_percent_encoded_headers(codec):
    keys = Keys()
    old = ContactNotedV1(network_id="nat-bd", person="José Ñúñez", occurred_on=ON)
    meta = Metadata(command_id="cmd-1", actor="cli:josé 100%", traceparent=TRACEPARENT, tracestate="vendor=a b")
    headers, data = EventCodec([ContactNotedV1]).encode(old, meta, keys)  # as the build before v2 wrote it
    assert headers["ce-type"].endswith("network.contact-noted.v1")
    assert headers["ce-actor"] == "cli:jos%C3%A9%20100%25" and headers["ce-tracestate"] == "vendor=a%20b"
    assert headers["ce-traceparent"] == TRACEPARENT and headers[personal.H_DATA_KEY]
    assert b"Jos" not in data  # sealed

    recorded = codec.decode(7, old.subject, headers, data, keys)
    assert recorded.event == ContactNoted(
        network_id="nat-bd", contact_name="José Ñúñez", upper="JOSÉ ÑÚÑEZ", occurred_on=ON
    )
    assert (recorded.actor, recorded.traceparent, recorded.tracestate) == ("cli:josé 100%", TRACEPARENT, "vendor=a b")

    # Without the keys (an integrator, or an erased key) the personal value is withheld, and still upcast.
    withheld = codec.decode(7, old.subject, headers, data)
    assert isinstance(withheld.event, ContactNoted) and withheld.event.contact_name == WITHHELD
