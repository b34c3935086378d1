"""The outbox runners expand their batches side by side (one task per outbox, and the worker's turn), each waiting on
its journaled insert: the room each takes is held until it has queued what it claimed, so the worker's queue of
claimed deliveries never outgrows ``queue_limit``, which ``Slots.claim_seconds`` assumes (a claim that ran out before
its first attempt started would be taken by a second worker: a resend beyond the documented window).

Found at review: without the reservation, 5-7 deliveries were claimed against a limit of 4 in 4 runs of 4."""

from __future__ import annotations

import asyncio

import pytest
from conftest import RunningService, eventually
from notifier_support import Receiver, ids, registry_writer, spec
from test_notifier_email import reviews_store, submit  # noqa: F401 (fixture)
from test_notifier_webhooks import NETWORK_CREATED, create_network, subscribe

from mignet_contracts import reviews as rv
from mignet_notifier import deliveries as d
from mignet_notifier import dispatch
from mignet_reviews.domain import CONTRIBUTION
from mignet_runtime.codec import Metadata

pytestmark = pytest.mark.integration


@pytest.fixture
async def registry_store(fresh_nats):
    async with registry_writer(fresh_nats) as store:
        yield store


async def test_two_outboxes_expanding_at_once_keep_the_queue_within_its_limit(
    fresh_nats,
    settings_for,
    registry_store,
    reviews_store,  # noqa: F811
    monkeypatch,
):
    dispatchers: list = []
    real_init = dispatch.Dispatcher.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        dispatchers.append(self)

    monkeypatch.setattr(dispatch.Dispatcher, "__init__", init)
    gate = asyncio.Event()

    async def answer(request, attempt):
        await gate.wait()  # the one slot stays busy: what is claimed queues
        return (204, {})

    async with Receiver(answer) as receiver, RunningService(spec(concurrency=1), settings_for(fresh_nats)) as notifier:
        [dispatcher] = dispatchers
        slots = dispatcher.slots
        await subscribe(notifier, receiver.url(), event_types=[NETWORK_CREATED, rv.ContributionPublished.ce_type()])
        cids = [await submit(reviews_store, "asia-pacific-2024-2025", "asia-pacific", f"t{n}") for n in range(3)]
        await create_network(registry_store, "BD")
        await eventually(lambda: asyncio.sleep(0, bool(receiver.requests)))  # the slot is taken

        real_insert = d.insert_new

        async def slow_insert(db, docs):  # a journaled insert that takes a while (a loaded MongoDB)
            await asyncio.sleep(0.5)
            return await real_insert(db, docs)

        monkeypatch.setattr(d, "insert_new", slow_insert)
        calls = []
        real_ew = dispatcher.expansion.expand_writing

        async def ew(outbox, batch, active, token, room, until):
            result = await real_ew(outbox, batch, active, token, room, until)
            calls.append((outbox.name, batch.after, batch.last, len(batch.docs), room, result and len(result.claimed)))
            return result

        dispatcher.expansion.expand_writing = ew

        versions = {cid: (await reviews_store.read_aggregate(CONTRIBUTION, cid))[-1].seq for cid in cids}

        async def publish(cid: str) -> None:
            event = rv.ContributionPublished(contribution_id=cid, occurred_on="2026-12-02")
            await reviews_store.append(
                CONTRIBUTION, cid, [event], versions[cid], Metadata(command_id=ids()["command_id"], actor="t")
            )

        await asyncio.gather(
            *(create_network(registry_store, country) for country in ("NP", "LK", "PK")), *(publish(c) for c in cids)
        )
        most = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 4
        while loop.time() < deadline:
            most = max(most, len(slots.queue) + len(slots.inflight))  # room_to_queue's own sum
            await asyncio.sleep(0.01)
        gate.set()
    assert most <= slots.queue_limit, (
        f"{most} deliveries claimed by the worker (queued or under way), queue_limit {slots.queue_limit}; expanded as written: {calls}"
    )
