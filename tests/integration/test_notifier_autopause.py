"""The auto-pause clock with two notifier replicas: a success on one stops the clock the other started."""

from __future__ import annotations

import asyncio

import pytest

from mignet_contracts import notifier as c
from mignet_notifier import deliveries as d
from mignet_notifier.autopause import FailureClock

pytestmark = pytest.mark.integration

SID = "s-0123456789abcdef"


def _outbox_doc(event_id: str) -> dict:
    return {"event_id": event_id, "type": "t", "cloud_event": {"subject": "nat-bd"}}


async def test_a_success_on_another_replica_stops_the_clock(db):
    await d.ensure_indexes(db)
    paused: list[c.PauseSubscription] = []

    async def send(command: c.PauseSubscription) -> None:
        paused.append(command)

    replica_a, replica_b = FailureClock(db, 0.5, send), FailureClock(db, 0.5, send)
    await replica_a.failed(SID)  # A's clock starts
    # B delivers one (the outcome as its worker writes it) and never failed: its success() has nothing to stop.
    delivery = d.claimed(
        d.new_delivery(_outbox_doc("e-1"), {"subscription_id": SID, "channel": "webhook"}, d.now()), "b", d.now()
    )
    await d.insert_new(db, [delivery])
    await d.collection(db).bulk_write([d.delivered(delivery, 204, 3.0)])
    await replica_b.succeeded(SID)
    await asyncio.sleep(0.6)
    await replica_a.failed(SID)  # past A's clock, but a delivery succeeded since it started
    assert paused == []
    await asyncio.sleep(0.6)
    await replica_a.failed(SID)  # the clock restarted at the last failure: failing for 0.6 s since, no success
    assert [p.subscription_id for p in paused] == [SID] and paused[0].automatic


async def test_without_any_success_the_subscription_is_paused(db):
    await d.ensure_indexes(db)
    paused: list[c.PauseSubscription] = []

    async def send(command: c.PauseSubscription) -> None:
        paused.append(command)

    clock = FailureClock(db, 0.3, send)
    await clock.failed(SID)
    await asyncio.sleep(0.4)
    await clock.failed(SID)
    assert len(paused) == 1 and "every delivery failed since" in paused[0].reason
