"""CloudEvents headers on the wire (issue 9.5): percent-encoded by the binding, read back by every path.

``José "Ñ" 100% secretariat`` as the actor, through a real nats-server on deploy/nats/nats.conf:
nats-py's ``get_msg`` (STREAM.MSG.GET, which parses headers with :mod:`email`), Direct Get
and a pull consumer, on the service's stream and on the integrators' PUBLIC stream; and an
event recorded before the encoding (raw value, no ``ce-datacontenttype``) still decodes.
"""

from __future__ import annotations

import asyncio
from datetime import date

import nats
import pytest
from test_nats_permissions import SecuredNats

from mignet_contracts import cloudevents
from mignet_contracts import registry as rg
from mignet_contracts.envelope import H_ACTOR, H_DATACONTENTTYPE
from mignet_runtime.codec import EventCodec, Metadata

from secured_nats import start_test_nats

pytestmark = pytest.mark.integration

ACTOR = 'José "Ñ" 100% secretariat'
CODEC = EventCodec(rg.REGISTRY_EVENTS)
CREATED = rg.NetworkCreated(
    network_id="nat-cl",
    scope="national",
    country="CL",
    network_name="Red de las Naciones Unidas sobre la Migración en Chile",
    status="established",
    occurred_on=date(2024, 5, 2),
)
RENAMED = rg.NetworkRenamed(
    network_id="nat-cl",
    from_name=CREATED.network_name,
    network_name="Red de Naciones Unidas sobre Migración – Chile",
    occurred_on=date(2024, 6, 1),
)


@pytest.fixture(scope="module")
async def server(tmp_path_factory):
    """REGISTRY holding seq 1 encoded by the codec and seq 2 written the old way (raw, no ce-datacontenttype)."""
    root = tmp_path_factory.mktemp("ce-wire")
    proc, url = start_test_nats(root / "store", log_path=root / "nats.log")
    secured = SecuredNats(url)
    registry = await secured.connect("registry")
    try:
        headers, data = CODEC.encode(CREATED, Metadata(command_id="cmd-1", actor=ACTOR))
        await registry.js().publish(CREATED.subject, data, headers=headers)
        old, data = CODEC.encode(RENAMED, Metadata(command_id="cmd-2", actor="x"))
        old = {k: v for k, v in old.items() if k != H_DATACONTENTTYPE} | {H_ACTOR: ACTOR}
        await registry.js().publish(RENAMED.subject, data, headers=old)
        yield secured
    finally:
        await registry.close()
        proc.stop(5)


async def test_the_wire_carries_ascii_and_the_binding_content_type(server):
    registry = await server.connect("registry")
    try:
        msg = await registry.js().get_msg("REGISTRY", 1, direct=True)
    finally:
        await registry.close()
    assert msg.headers[H_ACTOR] == "Jos%C3%A9%20%22%C3%91%22%20100%25%20secretariat"
    assert msg.headers["ce-datacontenttype"] == "application/json" == msg.headers["content-type"]
    assert cloudevents.attributes(msg.headers)["actor"] == ACTOR


@pytest.mark.parametrize("read", ["get_msg", "direct_get", "pull"])
async def test_the_actor_comes_back_from_every_read_path_for_new_and_old_events(server, read):
    registry = await server.connect("registry")
    try:
        js = registry.js()
        if read == "pull":
            sub = await js.pull_subscribe("registry.events.>", durable="registry-networks", stream="REGISTRY")
            msgs = await sub.fetch(2, timeout=2)
            for msg in msgs:
                await msg.ack_sync()
            await js.delete_consumer("REGISTRY", "registry-networks")
            found = [(m.metadata.sequence.stream, m.subject, m.headers, m.data) for m in msgs]
        else:
            got = [await js.get_msg("REGISTRY", seq, direct=read == "direct_get") for seq in (1, 2)]
            found = [(m.seq or int(m.headers["Nats-Sequence"]), m.subject, m.headers, m.data) for m in got]
    finally:
        await registry.close()
    recorded = [CODEC.decode(*args) for args in found]
    assert [r.actor for r in recorded] == [ACTOR, ACTOR]
    assert [r.event for r in recorded] == [CREATED, RENAMED]


async def test_an_integrator_reads_the_actor_from_the_public_feed(server):
    integrator = await server.connect("integrator")
    try:
        js = integrator.js()
        sub = await js.pull_subscribe("registry.events.network.*.created", stream="PUBLIC")
        for _ in range(100):  # PUBLIC sources REGISTRY asynchronously
            try:
                (msg,) = await sub.fetch(1, timeout=0.2)
                break
            except nats.errors.TimeoutError:
                await asyncio.sleep(0.05)
        stored = await js.get_msg("PUBLIC", msg.metadata.sequence.stream)
    finally:
        await integrator.close()
    assert cloudevents.attributes(msg.headers)["actor"] == ACTOR
    assert cloudevents.attributes(stored.headers)["actor"] == ACTOR
