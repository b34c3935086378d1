"""Two versions of one event in one stream (issue 9.4): v1 ``tor-aligned`` events, written before v2,
are read by ce-type and upcast, so the aggregate, the projection and the public feed see v2 only.

v1 comes in two shapes: the first (only ``consulted_executive_committee``) and the one the FAQ
reading added (who agreed and who was consulted, as entities, optional within v1). v2 always says
who was consulted and who was not; who agreed stays unknown (null) for the first shape.

A real nats-server on deploy/nats/nats.conf; the v1 events are encoded as the build before v2
wrote them (its own ce-type and dataschema), by the registry user.
"""

from __future__ import annotations

import asyncio
from datetime import date

import nats
import pytest

from mignet_contracts import registry as rg
from mignet_contracts.subscriber import connect, subscribe
from mignet_registry.domain import NETWORK
from mignet_registry.projections import NETWORKS
from mignet_runtime.codec import EventCodec, Metadata
from mignet_runtime.eventstore import EventStore
from mignet_runtime.projection import fold_stream

from secured_nats import start_test_nats

pytestmark = pytest.mark.integration

CREATED = rg.NetworkCreated(
    network_id="nat-bd",
    scope="national",
    country="BD",
    network_name="UN Network on Migration in Bangladesh",
    status="established",
    occurred_on=date(2020, 1, 10),
)
COMMITTEE = ["ILO", "IOM", "OHCHR", "UNDESA", "UNDP", "UNHCR", "UNICEF", "UNODC"]
V1 = rg.NetworkTermsOfReferenceAlignedV1(
    network_id="nat-bd", aligned_on=date(2020, 9, 1), consulted_executive_committee=True, occurred_on=date(2020, 9, 1)
)
V1_FAQ = rg.NetworkTermsOfReferenceAlignedV1(
    network_id="nat-bd",
    aligned_on=date(2021, 6, 1),
    consulted_executive_committee=False,
    agreed_by=["IOM"],
    consulted=["IOM"],
    not_agreed=["UNDP"],
    not_consulted=[e for e in COMMITTEE if e != "IOM"],
    occurred_on=date(2021, 6, 1),
)
V2 = rg.NetworkTermsOfReferenceAligned(
    network_id="nat-bd",
    aligned_on=date(2023, 1, 10),
    agreed_by=["IOM", "UNDP"],
    consulted=["IOM", "UNHCR"],
    not_agreed=[],
    not_consulted=["ILO", "OHCHR", "UNDESA", "UNDP", "UNICEF", "UNODC"],
    occurred_on=date(2023, 1, 10),
)


@pytest.fixture(scope="module")
async def stream(tmp_path_factory):
    root = tmp_path_factory.mktemp("upcasting")
    proc, url = start_test_nats(root / "store", log_path=root / "nats.log")
    nc = await nats.connect(url.url_for("registry"), inbox_prefix="_INBOX_registry")
    old_build = EventCodec([rg.NetworkCreated, rg.NetworkTermsOfReferenceAlignedV1])
    new_build = EventCodec(rg.REGISTRY_EVENTS)
    try:
        for codec, event in ((old_build, CREATED), (old_build, V1), (old_build, V1_FAQ), (new_build, V2)):
            headers, data = codec.encode(
                event, Metadata(command_id=f"cmd-{event.version}-{event.occurred_on}", actor="t")
            )
            await nc.jetstream().publish(event.subject, data, headers=headers)
        yield url, EventStore(nc, "registry", new_build)
    finally:
        await nc.close()
        proc.stop(5)


async def test_the_stream_holds_both_versions_and_the_codec_reads_v1_as_v2(stream):
    _, store = stream
    for seq in (2, 3):
        raw = await store.js.get_msg("REGISTRY", seq, direct=True)
        assert raw.headers["ce-type"].endswith("network.tor-aligned.v1")
        assert raw.headers["ce-dataschema"].endswith("registry.network.tor-aligned.v1.json")
    events = [r.event for r in await store.read_aggregate(NETWORK, "nat-bd")]
    assert events == [
        CREATED,
        rg.NetworkTermsOfReferenceAligned(  # the whole committee; who agreed was not recorded
            network_id="nat-bd",
            aligned_on=date(2020, 9, 1),
            consulted=COMMITTEE,
            not_consulted=[],
            occurred_on=date(2020, 9, 1),
        ),
        rg.NetworkTermsOfReferenceAligned(  # v1's own lists, as they were
            network_id="nat-bd",
            aligned_on=date(2021, 6, 1),
            agreed_by=["IOM"],
            consulted=["IOM"],
            not_agreed=["UNDP"],
            not_consulted=[e for e in COMMITTEE if e != "IOM"],
            occurred_on=date(2021, 6, 1),
        ),
        V2,
    ]
    assert NETWORK.fold("nat-bd", events).tor_aligned_on == date(2023, 1, 10)


async def test_projections_rebuild_over_both_versions(stream):
    _, store = stream
    after_v1 = (await fold_stream(store, NETWORKS, up_to_seq=2))["nat-bd"]
    assert (after_v1["tor"]["consulted"], after_v1["tor_consulted_executive_committee"]) == (COMMITTEE, True)
    assert (after_v1["tor"]["agreed_by"], after_v1["tor"]["complete"]) == (None, None)
    after_faq = (await fold_stream(store, NETWORKS, up_to_seq=3))["nat-bd"]
    assert (after_faq["tor"]["consulted"], after_faq["tor_consulted_executive_committee"]) == (["IOM"], False)
    assert (after_faq["tor"]["not_agreed"], after_faq["tor"]["complete"]) == (["UNDP"], False)
    now = (await fold_stream(store, NETWORKS))["nat-bd"]
    assert now["tor"]["consulted"] == ["IOM", "UNHCR"] and now["tor"]["agreed_by"] == ["IOM", "UNDP"]
    assert now["tor_aligned_on"] == "2023-01-10"


async def test_integrators_get_the_current_model_for_both(stream):
    url, _ = stream
    nc = await connect(url.plain, url.passwords["integrator"])
    try:
        for _ in range(100):  # PUBLIC sources REGISTRY asynchronously
            got = [e async for e in subscribe(nc, rg.NetworkTermsOfReferenceAligned, follow=False, wait=0.5)]
            if len(got) == 3:
                break
            await asyncio.sleep(0.05)
    finally:
        await nc.close()
    assert [e.type.rsplit(".", 1)[-1] for e in got] == ["v1", "v1", "v2"]
    assert [e.event.consulted for e in got] == [COMMITTEE, ["IOM"], ["IOM", "UNHCR"]]
    assert [e.event.agreed_by for e in got] == [None, ["IOM"], ["IOM", "UNDP"]]
