"""Expansion (outbox events -> deliveries) keeps its cursor honest: it moves only past events whose deliveries are
in MongoDB, and a cursor read from an earlier version's flags is written before a rebuild can drop them."""

from __future__ import annotations

import asyncio
import logging

import pytest
from conftest import RunningService, eventually
from notifier_support import Receiver, command, ids, registry_writer, spec
from pymongo.errors import AutoReconnect
from test_notifier_webhooks import create_network, deliveries_of, subscribe

from mignet_contracts import notifier as c
from mignet_notifier import deliveries as d

pytestmark = pytest.mark.integration


@pytest.fixture
async def registry_store(fresh_nats):
    async with registry_writer(fresh_nats) as store:
        yield store


async def _is(service, sid: str, status: str) -> bool:
    return (await service.client.query(c.GetSubscription(subscription_id=sid)))["status"] == status


async def _left_by_an_earlier_version(settings, url: str, registry_store, mongo):
    """A subscription with an event recorded while it was paused (never to be sent), resumed; then what an earlier
    version left: the flag on each outbox document, and no cursors. Returns the subscription id and the database."""
    async with RunningService(spec(), settings) as notifier:
        sid = (await subscribe(notifier, url))["aggregate_id"]
        await command(notifier.client, c.PauseSubscription(**ids(), subscription_id=sid))
        await eventually(lambda: _is(notifier, sid, "paused"))
        await create_network(registry_store, "BD")  # recorded while paused: never sent

        async def expanded():
            cursor = await notifier.db["expansion_cursors"].find_one({"_id": "registry"}) or {"seq": 0}
            return cursor["seq"] >= 1

        await eventually(expanded)
        await command(notifier.client, c.ResumeSubscription(**ids(), subscription_id=sid))
        await eventually(lambda: _is(notifier, sid, "active"))
        db = mongo[notifier.db.name]
    await db["outbox_registry"].update_many({}, {"$set": {"expanded": True}})
    await db["expansion_cursors"].drop()
    return sid, db


async def test_a_failed_insert_of_deliveries_expands_the_same_events_again(
    fresh_nats, settings_for, registry_store, monkeypatch, caplog
):
    """The deliveries' insert fails twice: as the outbox's runner writes the event (expanded from memory), then in the
    worker's turn that reads it back; the turn after expands the event again.

    The failure is raised at our own adapter (``deliveries.insert_new``), MongoDB stays real: SecantusDB's
    ``failCommand`` failpoint cannot pick a collection, and the outbox projection's insert comes first."""
    caplog.set_level(logging.INFO)
    real = d.insert_new
    failed: list[int] = []

    async def failing_once(db, docs):
        if docs and len(failed) < 2:
            failed.append(len(docs))
            raise AutoReconnect("connection reset while inserting the deliveries")
        return await real(db, docs)

    monkeypatch.setattr(d, "insert_new", failing_once)
    async with Receiver() as receiver, RunningService(spec(), settings_for(fresh_nats)) as notifier:
        sid = (await subscribe(notifier, receiver.url()))["aggregate_id"]
        await eventually(lambda: notifier.client.query(c.GetSubscription(subscription_id=sid)))  # applied
        await create_network(registry_store, "BD")
        [delivery] = await deliveries_of(notifier, sid, "delivered")
        messages = [r.getMessage() for r in caplog.records]
        assert failed == [1, 1]
        assert any("could not expand registry #1-1 as written" in m for m in messages)
        assert any("the delivery worker failed" in m for m in messages)
        assert (await notifier.db["expansion_cursors"].find_one({"_id": "registry"}) or {"seq": 1})["seq"] == 1
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery["delivery_id"]]


async def test_an_upgraded_outbox_rebuilt_then_restarted_is_not_expanded_again(
    fresh_nats, settings_for, registry_store, mongo
):
    """Upgrade from the ``expanded`` flags, then the rebuild docs/privacy.md advises, then a restart: an event
    recorded while the subscription was paused stays unsent."""
    settings = settings_for(fresh_nats)
    async with Receiver() as receiver:
        sid, db = await _left_by_an_earlier_version(settings, receiver.url(), registry_store, mongo)
        async with RunningService(spec(), settings) as notifier:

            async def cursor_written():
                return await db["expansion_cursors"].find_one({"_id": "registry"})

            assert (await eventually(cursor_written))["seq"] == 1
            await notifier.client.admin("notifier", "projections.rebuild", {"projections": ["registry"]})
            assert await db["outbox_registry"].count_documents({"expanded": True}) == 0
        async with RunningService(spec(), settings) as notifier:
            await create_network(registry_store, "NP")
            await deliveries_of(notifier, sid, "delivered")
            await asyncio.sleep(0.5)  # room for a wrong delivery of the first event to show
            assert (await notifier.client.query(c.ListDeliveries(subscription_id=sid)))["total"] == 1
    assert [r.body.count(b'"subject":"nat-np"') for r in receiver.requests] == [1]


async def test_a_clean_stop_hands_back_the_deliveries_it_queued_but_never_attempted(
    fresh_nats, settings_for, registry_store, mongo
):
    """Deliveries are inserted claimed by the worker that expanded them; those still queued when it stops go back
    to pending at once (any worker takes them), instead of waiting for their claim to run out."""
    gate = asyncio.Event()

    async def answer(request, attempt):
        await gate.wait()  # the one attempt under way holds the only slot: the others stay queued
        return (204, {})

    settings = settings_for(fresh_nats)
    async with Receiver(answer) as receiver:
        async with RunningService(spec(concurrency=1), settings) as notifier:
            sid = (await subscribe(notifier, receiver.url()))["aggregate_id"]
            for country in ("BD", "NP", "LK", "PK"):
                await create_network(registry_store, country)

            async def all_inserted():
                return await notifier.db["deliveries"].count_documents({"subscription_id": sid}) == 4

            await eventually(all_inserted)
            await eventually(lambda: asyncio.sleep(0, bool(receiver.requests)))
            db = mongo[notifier.db.name]
        gate.set()
        docs = {doc["subject"]: doc async for doc in db["deliveries"].find({"subscription_id": sid})}
    # The first had its attempt (its outcome, or its claim running out, decides what follows); the three queued
    # behind it are pending again, never attempted, claimed by nobody.
    assert docs["nat-bd"]["attempts"] == 1
    queued = [docs[f"nat-{c}"] for c in ("np", "lk", "pk")]
    assert [(q["status"], q["attempts"], q.get("claim")) for q in queued] == [("pending", 0, None)] * 3


async def test_an_outbox_from_before_the_cursors_is_not_expanded_again(fresh_nats, settings_for, registry_store, mongo):
    """Upgrading: outbox documents flagged ``expanded`` by an earlier version, and no cursor yet. An event recorded
    while the subscription was paused must stay unsent after it is resumed, as it was before the upgrade."""
    settings = settings_for(fresh_nats)
    async with Receiver() as receiver:
        sid, db = await _left_by_an_earlier_version(settings, receiver.url(), registry_store, mongo)
        async with RunningService(spec(), settings) as notifier:
            await create_network(registry_store, "NP")
            [delivery] = await deliveries_of(notifier, sid, "delivered")
            await asyncio.sleep(0.5)  # room for a wrong delivery of the first event to show
            assert (await notifier.client.query(c.ListDeliveries(subscription_id=sid)))["total"] == 1
    assert [r.body.count(b'"subject":"nat-np"') for r in receiver.requests] == [1]
