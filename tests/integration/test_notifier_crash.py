"""A notifier SIGKILLed during a burst, then restarted: every (event, subscription) pair arrives, none is
recorded delivered twice, and a resend (the documented window) carries the same webhook-id.

The notifier runs as a real subprocess (`python -m mignet_notifier`); the receiver is in this process.
The issue asks for 300 events to 3 subscriptions; that is what runs (900 deliveries).
"""

from __future__ import annotations

import asyncio
import sys

import nats
import pytest
from conftest import eventually
from notifier_support import SECRET_KEY, Receiver, command, ids

from mignet_contracts import notifier as c
from mignet_contracts import registry as r
from mignet_notifier.dispatch import UNRECORDED_PER_SLOT
from mignet_registry.domain import NETWORK
from mignet_runtime.client import MignetClient, RequestFailed
from mignet_runtime.codec import EventCodec, Metadata
from mignet_runtime.eventstore import EventStore
from mignet_runtime.localstack import ManagedProcess

#: Small, so the documented window (UNRECORDED_PER_SLOT x this) is small beside the 900 pairs.
CONCURRENCY = 8
EVENTS = 300
SUBSCRIPTIONS = 3
REGIONS = ["africa", "asia-pacific", "arab-region"]


@pytest.fixture
def notifier_process(fresh_nats, servers, db_prefix, tmp_path):
    env = servers.env_for(
        "notifier",
        nats=fresh_nats,
        MIGNET_DB_PREFIX=db_prefix,
        LOG_LEVEL="INFO",
        MIGNET_STARTUP_TIMEOUT="30",
        MIGNET_NOTIFIER_SECRET_KEY=SECRET_KEY.decode(),
        MIGNET_NOTIFIER_ALLOW_PRIVATE="127.0.0.1",
        MIGNET_NOTIFIER_RETRY_SCHEDULE="0.5,0.5,0.5,0.5,0.5",
        MIGNET_NOTIFIER_TIMEOUT="2",
        MIGNET_NOTIFIER_POLL_SECONDS="0.05",
        MIGNET_NOTIFIER_CONCURRENCY=str(CONCURRENCY),
    )
    process = ManagedProcess(
        "notifier", [sys.executable, "-m", "mignet_notifier"], env=env, log_path=tmp_path / "notifier.log"
    )
    yield process
    process.stop(10)


async def test_sigkill_during_a_burst_loses_no_pair_and_records_none_twice(notifier_process, fresh_nats):
    notifier_process.start()
    nc = await nats.connect(fresh_nats)  # the test acts as admin/operator
    client = MignetClient(nc, timeout=20)
    await until_ready(client)
    registry_nc = await nats.connect(
        fresh_nats.plain, user="registry", password=fresh_nats.passwords["registry"], inbox_prefix="_INBOX_registry"
    )
    store = EventStore(registry_nc, r.SERVICE, EventCodec(r.REGISTRY_EVENTS))
    try:
        async with Receiver() as receiver:
            sids = []
            for n in range(SUBSCRIPTIONS):
                created = await command(
                    client,
                    c.CreateSubscription(
                        **ids(),
                        title=f"burst {n}",
                        channel="webhook",
                        url=receiver.url(f"/hook/{n}"),
                        event_types=["int.un-migration.mignet.registry.network.*"],
                    ),
                )
                sids.append(created["aggregate_id"])

            async def all_active():
                found = await client.query(c.ListSubscriptions(status="active"))
                return found["total"] == SUBSCRIPTIONS

            await eventually(all_active, timeout=30)

            async def append(n: int) -> None:
                event = r.NetworkCreated(
                    network_id=r.regional_network_id(f"burst-{n}"),
                    scope="regional",
                    region=REGIONS[n % 3],
                    network_name=f"Regional network {n}",
                    status="being-established",
                    occurred_on="2026-12-01",
                )
                await store.append(NETWORK, event.network_id, [event], 0, Metadata(command_id=f"burst-{n}", actor="t"))

            for start in range(0, EVENTS, 50):
                await asyncio.gather(*(append(n) for n in range(start, min(EVENTS, start + 50))))
            expected = EVENTS * SUBSCRIPTIONS

            async def some_arrived():
                return len(receiver.attempts) >= expected // 4

            await eventually(some_arrived, timeout=60)
            notifier_process.kill()  # SIGKILL mid-burst
            arrived_at_kill = len(receiver.attempts)
            assert arrived_at_kill < expected, "the kill came after the burst; the test proved nothing"
            notifier_process.start()
            await until_ready(client)

            async def all_arrived():
                print(
                    "arrived",
                    len(receiver.succeeded()),
                    "requests",
                    len(receiver.requests),
                    await client.query(c.DeliveryFigures()),
                    flush=True,
                )
                return len(receiver.succeeded()) >= expected

            await eventually(all_arrived, timeout=120, interval=0.5)

            async def all_recorded():
                figures = await client.query(c.DeliveryFigures())
                return figures["by_channel"]["webhook"]["delivered"] == expected

            await eventually(all_recorded, timeout=60, interval=0.5)
            resent = {wid: n for wid, n in receiver.succeeded().items() if n > 1}
    finally:
        await registry_nc.drain()
        await nc.drain()
    # Every pair once per webhook-id at the receiver, and each recorded delivered once in the log.
    assert len(receiver.succeeded()) == expected
    per_subscription = {sid: 0 for sid in sids}
    for sid in sids:
        found = await client_count(fresh_nats, sid)
        per_subscription[sid] = found
    assert set(per_subscription.values()) == {EVENTS}
    # The documented window: at most the attempts under way at the kill, and those ended whose outcome was not
    # written yet, went twice (UNRECORDED_PER_SLOT x MIGNET_NOTIFIER_CONCURRENCY at most), same webhook-id.
    assert len(resent) <= UNRECORDED_PER_SLOT * CONCURRENCY, resent


async def until_ready(client: MignetClient, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await client.admin("notifier", "health")
            return
        except RequestFailed:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def client_count(url, sid: str) -> int:
    nc = await nats.connect(url)
    try:
        found = await MignetClient(nc).query(c.ListDeliveries(subscription_id=sid, status="delivered", limit=1))
        return found["total"]
    finally:
        await nc.drain()
