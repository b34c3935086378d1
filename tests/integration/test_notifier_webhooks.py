"""Webhook deliveries against a real loopback receiver: signatures, retries, parking, 410, SSRF at connect time.

Events are appended to REGISTRY as the registry service would (its own NATS user),
and the notifier's durable consumer picks them up. The retry schedule is
shortened (notifier_support.config) so the tests run in seconds.
"""

from __future__ import annotations

import asyncio
import json

import nats
import pytest
from conftest import RunningService, eventually
from notifier_support import Receiver, command, config, ids, spec
from standardwebhooks import Webhook
from typer.testing import CliRunner

from mignet_cli.main import app
from mignet_contracts import notifier as c
from mignet_contracts import registry as r
from mignet_notifier.app import make_spec
from mignet_registry.domain import NETWORK
from mignet_runtime.codec import EventCodec, Metadata
from mignet_runtime.eventstore import EventStore

NETWORK_CREATED = r.NetworkCreated.ce_type()


@pytest.fixture
async def registry_store(fresh_nats):
    nc = await nats.connect(fresh_nats.plain, **_as("registry", fresh_nats))
    yield EventStore(nc, r.SERVICE, EventCodec(r.REGISTRY_EVENTS))
    await nc.drain()


def _as(user: str, url) -> dict:
    return {"user": user, "password": url.passwords[user], "inbox_prefix": f"_INBOX_{user}"}


async def create_network(store: EventStore, country: str) -> None:
    event = r.NetworkCreated(
        network_id=f"nat-{country.lower()}",
        scope="national",
        country=country,
        network_name=f"UN Network on Migration in {country}",
        status="being-established",
        occurred_on="2026-12-01",
    )
    meta = Metadata(command_id=ids()["command_id"], actor="test")
    await store.append(NETWORK, event.network_id, [event], 0, meta)


async def subscribe(service, url: str | None, **fields) -> dict:
    values = {"title": "receiver", "channel": "webhook", "url": url, "event_types": [NETWORK_CREATED], **fields}
    created = await command(service.client, c.CreateSubscription(**ids(), **values))

    async def active():
        doc = await service.client.query(c.GetSubscription(subscription_id=created["aggregate_id"]))
        return doc["status"] == "active"

    await eventually(active)
    return created


async def deliveries_of(service, sid: str, status: str, count: int = 1, timeout: float = 15) -> list[dict]:
    async def probe():
        found = await service.client.query(c.ListDeliveries(subscription_id=sid, status=status))
        return found["items"] if len(found["items"]) >= count else None

    return await eventually(probe, timeout=timeout)


@pytest.fixture
async def notifier(fresh_nats, settings_for):
    async with RunningService(spec(), settings_for(fresh_nats)) as service:
        yield service


async def test_the_receiver_verifies_one_signed_cloudevent_per_event(notifier, registry_store):
    async with Receiver() as receiver:
        created = await subscribe(notifier, receiver.url())
        await create_network(registry_store, "BD")
        [delivery] = await deliveries_of(notifier, created["aggregate_id"], "delivered")
    [request] = receiver.requests
    assert request.headers["content-type"] == "application/cloudevents+json"
    assert request.headers["webhook-id"] == delivery["delivery_id"]
    event = Webhook(created["secret"]).verify(request.body, request.headers)
    assert event["specversion"] == "1.0" and event["type"] == NETWORK_CREATED and event["subject"] == "nat-bd"
    assert event["source"] == "/mignet/registry" and event["data"]["country"] == "BD"
    assert delivery["attempts"] == 1 and delivery["last_status_code"] == 204
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 44).verify(request.body, request.headers)


async def test_after_a_rotation_both_secrets_verify(notifier, registry_store):
    async with Receiver() as receiver:
        created = await subscribe(notifier, receiver.url())
        sid = created["aggregate_id"]
        rotated = await command(notifier.client, c.RotateSubscriptionSecret(**ids(), subscription_id=sid))

        async def rotated_in_read_model():
            return (await notifier.client.query(c.GetSubscription(subscription_id=sid)))["secret_version"] == 2

        await eventually(rotated_in_read_model)
        await create_network(registry_store, "PH")
        await deliveries_of(notifier, sid, "delivered")
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (created["secret"], rotated["secret"]):
        Webhook(secret).verify(request.body, request.headers)


async def test_two_failures_then_success_keeps_the_webhook_id_and_backs_off(notifier, registry_store):
    def answer(request, attempt):
        return (500, {}) if attempt <= 2 else (200, {})

    async with Receiver(answer) as receiver:
        created = await subscribe(notifier, receiver.url())
        await create_network(registry_store, "MX")
        [delivery] = await deliveries_of(notifier, created["aggregate_id"], "delivered")
    assert delivery["attempts"] == 3 and len(receiver.requests) == 3
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    times = [int(r.headers["webhook-timestamp"]) for r in receiver.requests]
    assert times == sorted(times)
    assert receiver.succeeded() == {delivery["delivery_id"]: 1}


async def test_a_receiver_that_never_answers_parks_and_retry_by_command_delivers(notifier, registry_store):
    answering = False

    def answer(request, attempt):
        return (204, {}) if answering else None

    async with Receiver(answer) as receiver:
        created = await subscribe(notifier, receiver.url())
        sid = created["aggregate_id"]
        await create_network(registry_store, "KE")
        [parked] = await deliveries_of(notifier, sid, "parked")
        assert parked["attempts"] == 3 and "no answer within 1s" in parked["last_error"], parked
        answering = True
        result = await command(notifier.client, c.RetryDeliveries(**ids(), delivery_id=parked["delivery_id"]))
        assert result == {"retried": 1}
        [delivered] = await deliveries_of(notifier, sid, "delivered")
    assert delivered["delivery_id"] == parked["delivery_id"]


async def test_retry_refuses_what_is_not_parked(notifier):
    reply = await notifier.client.request(
        "notifier.commands.retry-deliveries", {**ids(), "delivery_id": "d-" + "0" * 24}
    )
    assert reply.error is not None and reply.error.code == "not_found"


async def test_410_disables_the_subscription(notifier, registry_store):
    async with Receiver(lambda request, attempt: (410, {})) as receiver:
        created = await subscribe(notifier, receiver.url())
        sid = created["aggregate_id"]
        await create_network(registry_store, "GH")
        [cancelled] = await deliveries_of(notifier, sid, "cancelled")

        async def disabled():
            doc = await notifier.client.query(c.GetSubscription(subscription_id=sid))
            return doc if doc["status"] == "disabled" else None

        doc = await eventually(disabled)
    assert cancelled["last_status_code"] == 410 and len(receiver.requests) == 1
    assert "410" in doc["status_reason"]


async def test_redirects_are_not_followed(notifier, registry_store):
    async with Receiver(lambda request, attempt: (302, {"location": "http://127.0.0.1:1/elsewhere"})) as receiver:
        created = await subscribe(notifier, receiver.url())
        await create_network(registry_store, "TN")
        [parked] = await deliveries_of(notifier, created["aggregate_id"], "parked")
    assert parked["last_status_code"] == 302 and all(r.path == "/hook" for r in receiver.requests)


async def test_the_address_is_checked_again_at_connection_time(fresh_nats, settings_for, registry_store):
    """Allowed when subscribed; the allowance gone (as a DNS change would make it), the attempts are refused."""
    settings = settings_for(fresh_nats)
    async with Receiver() as receiver:
        async with RunningService(spec(), settings) as service:
            created = await subscribe(service, receiver.url())
        async with RunningService(make_spec(config(allow_private=())), settings) as strict:
            await create_network(registry_store, "NP")
            [parked] = await deliveries_of(strict, created["aggregate_id"], "parked")
    assert "loopback" in parked["last_error"] and receiver.requests == []


async def test_the_cli_subscribes_lists_and_shows_deliveries(notifier, registry_store, fresh_nats):
    url = fresh_nats.url_for("operator")

    async def mignet(*args: str):
        env = {"MIGNET_ACTOR": "cli:test", "NATS_USER": "", "COLUMNS": "200"}
        return await asyncio.to_thread(CliRunner().invoke, app, [*args, "--nats-url", url], env=env)

    async with Receiver() as receiver:
        made = await mignet("notifier", "subscribe", "CLI hook", "--webhook", receiver.url(), "-e", NETWORK_CREATED)
        assert made.exit_code == 0, made.output
        assert "signing secret (shown once; keep it): whsec_" in made.stdout
        sid = made.stdout.split()[1]
        await eventually(lambda: notifier.client.query(c.GetSubscription(subscription_id=sid)))
        await create_network(registry_store, "LK")
        await deliveries_of(notifier, sid, "delivered")
        listed = await mignet("notifier", "deliveries", sid, "--json")
        assert listed.exit_code == 0 and json.loads(listed.stdout)["items"][0]["status"] == "delivered"
        shown = await mignet("notifier", "show", sid)
        assert "delivered 1" in shown.stdout and "whsec_" not in shown.stdout
        bad = await mignet("notifier", "subscribe", "x", "--webhook", "https://a.example.org/h", "-e", "nope")
        assert bad.exit_code == 2 and "unknown event type" in bad.stderr and "Traceback" not in bad.output
        private = await mignet(
            "notifier",
            "subscribe",
            "x",
            "--email",
            "a@example.org",
            "-e",
            "int.un-migration.mignet.reviews.contribution.submitted.v1",
        )
        assert private.exit_code == 2 and "not public" in private.stderr
        # A wildcard over types some of which are not public is taken, and the CLI says which it never gets.
        contributions = "int.un-migration.mignet.reviews.contribution.*"
        wide = await mignet("notifier", "subscribe", "y", "--webhook", receiver.url(), "-e", contributions, "--json")
        assert wide.exit_code == 0 and json.loads(wide.stdout)["aggregate_id"].startswith("s-")
        assert "are not public and are never sent to a subscription without --internal" in wide.stderr
        assert "contribution.submitted.v1" in wide.stderr and "contribution.published.v1" not in wide.stderr
        staff = await mignet(
            "notifier", "subscribe", "z", "--email", "a@example.org", "--internal", "-e", contributions
        )
        assert staff.exit_code == 0 and "not public" not in staff.stderr


async def test_a_subscription_failing_for_long_is_paused_automatically(fresh_nats, settings_for, registry_store):
    failing = make_spec(config(auto_pause_seconds=0.5, retry_schedule=(0.3, 0.3, 0.3, 0.3)))
    async with (
        Receiver(lambda request, attempt: (500, {})) as receiver,
        RunningService(failing, settings_for(fresh_nats)) as service,
    ):
        sid = (await subscribe(service, receiver.url()))["aggregate_id"]
        await create_network(registry_store, "BR")

        async def paused():
            doc = await service.client.query(c.GetSubscription(subscription_id=sid))
            return doc if doc["status"] == "paused" else None

        doc = await eventually(paused)
    assert doc["automatic"] is True and "every delivery failed since" in doc["status_reason"]


async def test_a_rebuild_of_the_outboxes_sends_nothing_twice(notifier, registry_store):
    async with Receiver() as receiver:
        created = await subscribe(notifier, receiver.url())
        sid = created["aggregate_id"]
        await create_network(registry_store, "CL")
        await deliveries_of(notifier, sid, "delivered")
        rebuilt = await notifier.client.admin("notifier", "projections.rebuild", {"projections": ["registry"]})
        assert rebuilt[0]["documents"] == 1
        await asyncio.sleep(0.5)  # room for a wrong second expansion to show
        await create_network(registry_store, "PE")  # a later event still goes
        await deliveries_of(notifier, sid, "delivered", count=2)
    assert sorted(receiver.attempts.values()) == [1, 1]


async def test_two_notifiers_by_mistake_deliver_each_pair_once(fresh_nats, settings_for, registry_store):
    """Both run delivery workers on the same database (one holds the projection lease): claims keep each
    delivery to one worker."""
    settings = settings_for(fresh_nats)
    async with (
        Receiver() as receiver,
        RunningService(spec(), settings) as first,
        RunningService(spec(), settings) as second,
    ):
        sids = [(await subscribe(first, receiver.url(f"/hook/{n}")))["aggregate_id"] for n in range(2)]
        countries = ["AR", "BO", "CO", "EC", "PY", "UY", "VE", "CR", "PA", "HN"]
        await asyncio.gather(*(create_network(registry_store, country) for country in countries))
        for sid in sids:
            await deliveries_of(second, sid, "delivered", count=len(countries), timeout=30)
    assert len(receiver.attempts) == 2 * len(countries)
    assert set(receiver.attempts.values()) == {1}
