"""The public feed (issue 9.1): integrators read public events from stream PUBLIC, and nothing else.

A real nats-server on deploy/nats/nats.conf, provisioned as production is. Events are
encoded by the runtime's codec and appended by the services' own users; the integrator
connects as ``integrator`` (account FEED) with its own inbox prefix.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date

import nats
import nats.errors
import pytest
from feed_support import append, wait_for_public
from nats.js.api import ConsumerConfig, DeliverPolicy
from test_nats_permissions import SecuredNats

from mignet_contracts import registry as rg
from mignet_contracts import reviews as rv
from mignet_contracts.feed import PUBLIC_STREAM, SOURCES, public_events, public_subjects
from mignet_runtime.public_feed import expected_public_stream_config

from secured_nats import start_test_nats

pytestmark = pytest.mark.integration

ON = date(2024, 5, 2)
EMAIL = "a.rahman@example.org"
CONTACT_EMAIL = "contact.person@example.org"
CONTRIBUTION = "c-0123456789abcdef"
CONTENT = {
    "contributor": {"kind": "stakeholder", "category": "civil-society", "organization": "Migrant Forum in Asia"},
    "level": "regional",
    "title": "Fair recruitment in the Gulf corridor",
    "summary": "What worked.",
    "objectives": [6, 23],
    "language": "en",
}

EVENTS = [
    rg.NetworkCreated(
        network_id="nat-bd",
        scope="national",
        country="BD",
        network_name="UN Network on Migration in Bangladesh",
        status="being-established",
        occurred_on=ON,
    ),
    rg.NetworkFocalPointAssigned(
        network_id="nat-bd", focal_point_name="A. Rahman", entity="UNICEF", email=EMAIL, occurred_on=ON
    ),
    rg.NetworkMemberJoined(network_id="nat-bd", entity="IOM", role="coordinator", occurred_on=ON),
    rv.ContributionSubmitted(
        contribution_id=CONTRIBUTION,
        review_id="asia-pacific-2024-2025",
        region="asia-pacific",
        cycle="2024-2025",
        occurred_on=ON,
        contact={"name": "Contact Person", "email": CONTACT_EMAIL},  # sealed, as privacy writes it now
        **CONTENT,
    ),
    rv.ContributionContactRecorded(
        contribution_id=CONTRIBUTION, contact={"name": "Contact Person", "email": CONTACT_EMAIL}, occurred_on=ON
    ),
    rv.ContributionPublished(contribution_id=CONTRIBUTION, occurred_on=ON),
]
PUBLIC = [e for e in EVENTS if e.public]
PRIVATE = [e for e in EVENTS if not e.public]


@pytest.fixture(scope="module")
async def feed(tmp_path_factory):
    """A provisioned server holding EVENTS, appended by the registry and reviews users; PUBLIC caught up."""
    root = tmp_path_factory.mktemp("public-feed")
    proc, url = start_test_nats(root / "store", log_path=root / "nats.log")
    secured = SecuredNats(url)
    try:
        await append(secured, EVENTS)
        await wait_for_public(url, len(PUBLIC))
        yield secured
    finally:
        proc.stop(5)


@pytest.fixture
async def integrator(feed):
    conn = await feed.connect("integrator")
    yield conn
    await conn.close()


def test_public_stream_sources_exactly_the_public_event_subjects():
    config = expected_public_stream_config()
    filters = {s.name: sorted(t.src for t in s.subject_transforms) for s in config.sources}
    assert filters == {stream: sorted(public_subjects(stream)) for stream in SOURCES}
    assert "registry.events.network.*.created" in filters["REGISTRY"]
    for cls in (rg.NetworkFocalPointAssigned, rv.ContributionSubmitted, rv.ContributionContactRecorded):
        assert cls.subject_for("*") not in filters[cls.service.upper()]
    assert {cls.subject_for("*") for cls in public_events()} == {f for fs in filters.values() for f in fs}


async def test_integrator_reads_public_events_through_its_own_durable_consumer(feed, integrator):
    sub = await integrator.js().pull_subscribe(">", durable="partner-x", stream=PUBLIC_STREAM)
    msgs = await sub.fetch(10, timeout=2)
    for msg in msgs:
        await msg.ack_sync()
    # Each service's events keep their order; the two services' events interleave as they arrived.
    for service in ("registry", "reviews"):
        got = [(m.subject, m.headers["ce-type"]) for m in msgs if m.subject.startswith(service)]
        assert got == [(e.subject, e.ce_type()) for e in PUBLIC if e.service == service]
    assert len(msgs) == len(PUBLIC)
    assert not any(EMAIL.encode() in m.data or CONTACT_EMAIL.encode() in m.data for m in msgs)
    # Durable: a new connection resumes after what was acknowledged.
    again = await feed.connect("integrator")
    try:
        resumed = await again.js().pull_subscribe(">", durable="partner-x", stream=PUBLIC_STREAM)
        with pytest.raises(nats.errors.TimeoutError):
            await resumed.fetch(1, timeout=0.5)
        assert (await again.js().consumer_info(PUBLIC_STREAM, "partner-x")).num_ack_pending == 0
        await again.js().delete_consumer(PUBLIC_STREAM, "partner-x")
    finally:
        await again.close()
    assert not integrator.errors


async def test_integrator_uses_ephemeral_consumers_and_single_message_reads(integrator):
    sub = await integrator.js().pull_subscribe("registry.events.network.*.created", stream=PUBLIC_STREAM)
    (msg,) = await sub.fetch(1, timeout=2)
    assert msg.subject == "registry.events.network.nat-bd.created"
    ordered = await integrator.js().subscribe(
        "reviews.events.>", stream=PUBLIC_STREAM, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
    )
    assert (await ordered.next_msg(timeout=2)).subject == PUBLIC[-1].subject
    await ordered.unsubscribe()
    stored = await integrator.js().get_msg(PUBLIC_STREAM, 1)
    assert stored.subject in {e.subject for e in PUBLIC}
    last = await integrator.js().get_last_msg(PUBLIC_STREAM, "reviews.events.contribution.*.published")
    assert json.loads(last.data)["contribution_id"] == CONTRIBUTION
    assert not integrator.errors


async def test_integrator_cannot_read_personal_or_unmoderated_events(integrator):
    # Not on PUBLIC: a filter on the focal point's or the contact's subject finds nothing there.
    for cls in (rg.NetworkFocalPointAssigned, rv.ContributionContactRecorded, rv.ContributionSubmitted):
        with pytest.raises(nats.js.errors.NotFoundError):
            await integrator.js().get_last_msg(PUBLIC_STREAM, cls.subject_for("*"))
    # And the services' own streams are out of reach: no Direct Get, no info, no consumer, no subscription.
    for stream in ("REGISTRY", "REVIEWS"):
        with pytest.raises(nats.errors.Error):
            await integrator.js().get_msg(stream, 2, direct=True)
        assert await integrator.denied(f"$JS.API.DIRECT.GET.{stream}")
        with pytest.raises(nats.errors.Error):
            await integrator.js().add_consumer(stream, ConsumerConfig(durable_name="partner-x"))
        assert await integrator.denied(f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.partner-x")
        assert await integrator.publish_is_denied(f"$JS.API.STREAM.INFO.{stream}")
    for subject in ("registry.events.>", "reviews.events.>", ">"):
        await integrator.nc.subscribe(subject)
        assert await integrator.denied(subject)
    # Nor the API the PUBLIC stream itself uses to reach APP.
    assert await integrator.publish_is_denied("$JS.APP.API.CONSUMER.CREATE.REVIEWS.x.reviews.events.>")


async def test_integrator_cannot_send_commands_or_publish(feed, integrator):
    registry = await feed.connect("registry")
    try:
        received: list[str] = []

        async def record(msg):
            received.append(msg.subject)

        await registry.nc.subscribe("registry.commands.>", cb=record)
        await registry.nc.flush()
        for subject in ("registry.commands.create-network", "reviews.commands.submit-contribution"):
            assert await integrator.publish_is_denied(subject)
        for subject in ("registry.events.network.x.created", "$JS.API.STREAM.CREATE.PUBLIC"):
            assert await integrator.publish_is_denied(subject)
        for subject in (
            "$JS.API.STREAM.DELETE.PUBLIC",
            "$JS.API.STREAM.PURGE.PUBLIC",
            "$JS.API.STREAM.MSG.DELETE.PUBLIC",
        ):
            assert await integrator.publish_is_denied(subject)
        # A push consumer delivers where its creator says, unchecked by the server: in account FEED,
        # that reaches no service, since FEED's subjects are not APP's.
        await integrator.js().add_consumer(
            PUBLIC_STREAM,
            ConsumerConfig(name="push-into-commands", deliver_subject="registry.commands.create-network"),
        )
        await asyncio.sleep(0.5)
        await integrator.js().delete_consumer(PUBLIC_STREAM, "push-into-commands")
        await registry.nc.flush()
        assert received == []
    finally:
        await registry.close()


async def test_the_cli_says_plainly_when_the_integrator_tries_a_services_stream(feed):
    from typer.testing import CliRunner

    from mignet_cli.main import app

    env = {"COLUMNS": "200", **feed.url.env_for("integrator")}
    result = await asyncio.to_thread(CliRunner().invoke, app, ["events", "tail", "registry", "--count", "1"], env=env)
    assert result.exit_code == 3, result.output
    assert "allowed to read it? (integrators read stream PUBLIC" in " ".join(result.output.split())
    assert "Traceback" not in result.output


async def test_the_feed_account_bounds_what_integrators_can_create(integrator):
    info = await integrator.js().account_info()
    assert (info.limits.max_consumers, info.limits.max_streams) == (500, 4)
    assert info.streams == 1  # PUBLIC alone
