"""`pip install ./contracts` on its own (issue 9.2): the models, subjects, headers and a typed subscriber.

The subscriber runs in-process against a real nats-server on deploy/nats/nats.conf as the
integrator user, and once more from a virtualenv that holds nothing but ./contracts.
"""

from __future__ import annotations

import json
import os
from contextlib import aclosing
from datetime import UTC, date, datetime, timedelta

import pytest
from contracts_venv import installed, run, shared_contracts_venv
from feed_support import CODEC, append, wait_for_public
from test_nats_permissions import SecuredNats

from mignet_contracts import registry as rg
from mignet_contracts import reviews as rv
from mignet_contracts.feed import PUBLIC_STREAM
from mignet_contracts.subscriber import connect, subscribe
from mignet_runtime.codec import Metadata

from secured_nats import start_test_nats

pytestmark = pytest.mark.integration

CHAMPIONS = [
    rg.ChampionNominated(
        country=country, regional_group=group, assessment=[], occurred_on=date(2020, 10, day), existing_network_id=None
    )
    for country, group, day in (
        ("CL", "latin-america-caribbean", 1),
        ("BD", "asia-pacific", 5),
        ("MA", "middle-east-north-africa", 9),
    )
]
CONFIRMED = rg.ChampionConfirmed(country="BD", occurred_on=date(2020, 11, 2))
PUBLISHED = rv.ContributionPublished(contribution_id="c-0000000000000001", occurred_on=date(2024, 5, 2))
EVENTS = [*CHAMPIONS, CONFIRMED, PUBLISHED]


@pytest.fixture(scope="module")
async def feed(tmp_path_factory):
    root = tmp_path_factory.mktemp("contracts-package")
    proc, url = start_test_nats(root / "store", log_path=root / "nats.log")
    secured = SecuredNats(url)
    try:
        await append(secured, EVENTS, actor="t")
        # An event type newer than this package: subscribers skip it.
        registry = await secured.connect("registry")
        headers, data = CODEC.encode(CONFIRMED, Metadata(command_id="cmd-future", actor="t"))
        headers["ce-type"] = "int.un-migration.mignet.registry.champion.confirmed.v9"
        await registry.js().publish("registry.events.champion.bd.confirmed", b'{"x": 1}', headers=headers)
        await registry.close()
        await wait_for_public(url, len(EVENTS) + 1)
        yield secured
    finally:
        proc.stop(5)


async def _collect(nc, *args, **kwargs):
    return [e async for e in subscribe(nc, *args, follow=False, wait=1.0, **kwargs)]


async def test_typed_envelopes_for_one_type_several_or_a_pattern(feed):
    nc = await connect(feed.url.plain, feed.passwords["integrator"])
    try:
        nominated = await _collect(nc, rg.ChampionNominated)
        assert [e.event for e in nominated] == CHAMPIONS
        assert all(isinstance(e.event, rg.ChampionNominated) and e.actor == "t" for e in nominated)
        assert nominated[0].type == rg.ChampionNominated.ce_type() and nominated[0].time.tzinfo is not None
        both = await _collect(nc, [rg.ChampionConfirmed, rv.ContributionPublished])
        assert {type(e.event) for e in both} == {rg.ChampionConfirmed, rv.ContributionPublished}
        everything = await _collect(nc, "registry.events.champion.>")
        assert [e.event for e in everything] == [*CHAMPIONS, CONFIRMED]  # the v9 event was skipped
        assert len({e.id for e in everything}) == 4
    finally:
        await nc.close()


async def test_from_a_sequence_a_stored_time_or_a_business_date(feed):
    nc = await connect(feed.url.plain, feed.passwords["integrator"])
    try:
        nominated = await _collect(nc, rg.ChampionNominated)
        later = await _collect(nc, rg.ChampionNominated, start_seq=nominated[1].stream_seq)
        assert [e.event for e in later] == CHAMPIONS[1:]
        assert await _collect(nc, rg.ChampionNominated, start_time=datetime.now(UTC) + timedelta(minutes=1)) == []
        stored = await _collect(nc, rg.ChampionNominated, start_time=datetime.now(UTC) - timedelta(hours=1))
        assert len(stored) == 3
        business = await _collect(nc, rg.ChampionNominated, since_occurred_on=date(2020, 10, 5))
        assert [e.event.country for e in business] == ["BD", "MA"]
        with pytest.raises(ValueError, match="not both"):
            await _collect(nc, rg.ChampionNominated, start_seq=1, start_time=datetime.now(UTC))
    finally:
        await nc.close()


async def test_a_durable_subscription_resumes_after_what_was_handled(feed):
    nc = await connect(feed.url.plain, feed.passwords["integrator"])
    try:
        seen = []
        events = subscribe(nc, rg.ChampionNominated, durable="partner-resume", follow=False, wait=1.0)
        async with aclosing(events):
            async for envelope in events:
                seen.append(envelope.event.country)
                if len(seen) == 2:
                    break  # the second was being handled: it is not acknowledged, so it comes again
        rest = await _collect(nc, rg.ChampionNominated, durable="partner-resume")
        assert seen == ["CL", "BD"] and [e.event.country for e in rest] == ["BD", "MA"]
        assert await _collect(nc, rg.ChampionNominated, durable="partner-resume") == []
        await nc.jetstream().delete_consumer(PUBLIC_STREAM, "partner-resume")
    finally:
        await nc.close()


SCRIPT = """
import asyncio, json, os, sys
from mignet_contracts.registry import ChampionNominated
from mignet_contracts.subscriber import connect, subscribe

async def main():
    nc = await connect(os.environ["NATS_URL"], os.environ["NATS_PASSWORD"])
    async for e in subscribe(nc, ChampionNominated, durable="venv-check", follow=False, wait=1.0):
        print(json.dumps({"id": e.id, "country": e.event.country, "group": e.event.regional_group}))
    await nc.close()

asyncio.run(main())
"""


def test_the_package_installs_alone_and_subscribes(feed, tmp_path_factory):
    python = shared_contracts_venv(tmp_path_factory)
    names = installed(python)
    assert "mignet-contracts" in names
    assert not names & {"mignet", "faststream", "pymongo", "starlette", "uvicorn", "typer"}, names
    checks = "import mignet_contracts.schemas, mignet_contracts.reference, mignet_contracts.cloudevents; import mignet_runtime"
    assert "No module named 'mignet_runtime'" in run(python, "-c", checks).stderr
    env = {**os.environ, "NATS_URL": feed.url.plain, "NATS_PASSWORD": feed.passwords["integrator"]}
    first = run(python, "-c", SCRIPT, env=env)
    assert first.returncode == 0, first.stderr
    assert [json.loads(line)["country"] for line in first.stdout.splitlines()] == ["CL", "BD", "MA"]
    again = run(python, "-c", SCRIPT, env=env)
    assert again.returncode == 0 and again.stdout == "", again.stderr
