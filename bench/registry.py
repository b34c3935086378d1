"""Registry benchmarks, each beside the raw limit measured in the same run.

Commands and read-model visibility against the registry service running as a
separate process (see :mod:`bench.stack`); the projection catch-up in this
process, with the service stopped.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date

from pymongo import ReplaceOne

from bench.common import CLIENTS, Rate, caught_up, concurrently, ms, pct, raw_publish
from mignet_contracts import registry as c
from mignet_contracts.envelope import Event, new_id
from mignet_registry.app import CODEC
from mignet_registry.domain import NETWORK
from mignet_registry.projections import NETWORKS
from mignet_runtime.client import MignetClient
from mignet_runtime.codec import Metadata
from mignet_runtime.eventstore import EventStore
from mignet_runtime.projection import ProjectionRunner
from mignet_runtime.settings import Settings

ENTITIES = ["IOM", "UNICEF", "UNHCR", "ILO", "UNDP", "OHCHR", "UNODC", "WHO", "UNDESA"]


async def commands(client: MignetClient, per_client: int) -> Rate:
    async def one(w: int, i: int) -> None:
        await client.command(
            c.CreateNetwork(
                command_id=new_id(),
                actor="bench",
                scope="regional",
                region="asia-pacific",
                network_name=f"bench network {w}-{i}",
            )
        )

    return await concurrently(CLIENTS, per_client, one)


async def visible_latency(client: MignetClient, db, rate: int, seconds: float) -> list[float]:
    """Command sent -> its events in the read model, at a steady rate.

    One watcher polls the projection's checkpoint (every event up to it is in
    the read model) instead of one poller per command, which would load the
    database it measures.
    """
    checkpoints = db["_projections"]
    waiting: list[tuple[int, float]] = []
    latencies: list[float] = []
    stop = asyncio.Event()

    async def watch() -> None:
        while not stop.is_set() or waiting:
            doc = await checkpoints.find_one({"_id": NETWORKS.name}) or {"seq": 0}
            now = time.perf_counter()
            for item in [w for w in waiting if w[0] <= doc["seq"]]:
                waiting.remove(item)
                latencies.append(now - item[1])
            await asyncio.sleep(0.001)

    async def one(i: int) -> None:
        started = time.perf_counter()
        result = await client.command(
            c.CreateNetwork(
                command_id=new_id(), actor="bench", scope="regional", region="africa", network_name=f"latency probe {i}"
            )
        )
        waiting.append((result.version, started))

    watcher = asyncio.create_task(watch())
    tasks = []
    interval = 1 / rate
    started = time.perf_counter()
    for i in range(int(rate * seconds)):
        tasks.append(asyncio.create_task(one(i)))
        await asyncio.sleep(max(0.0, started + (i + 1) * interval - time.perf_counter()))
    await asyncio.gather(*tasks)
    stop.set()
    await asyncio.wait_for(watcher, 60)
    return latencies


async def seed_stream(nc, aggregates: int, events_per: int) -> int:
    store = EventStore(nc, "registry", CODEC)
    await store.ensure_stream()
    today = date.today()
    sem = asyncio.Semaphore(64)

    async def one(n: int) -> None:
        network_id = c.regional_network_id(f"catchup-{n}")
        events: list[Event] = [
            c.NetworkCreated(
                network_id=network_id,
                scope="regional",
                region="europe-north-america-central-asia",
                network_name=f"catch-up {n}",
                status="under-consideration",
                occurred_on=today,
            )
        ]
        for k in range(events_per - 1):
            entity = ENTITIES[k % len(ENTITIES)]
            if k < len(ENTITIES):
                events.append(
                    c.NetworkMemberJoined(network_id=network_id, entity=entity, role="member", occurred_on=today)
                )
            else:
                events.append(
                    c.NetworkStatusChanged(
                        network_id=network_id,
                        from_status="under-consideration",
                        to_status="being-established",
                        occurred_on=today,
                    )
                )
        async with sem:
            await store.append(NETWORK, network_id, events, 0, Metadata(command_id=f"catchup-{n}", actor="bench"))

    await asyncio.gather(*[one(n) for n in range(aggregates)])
    return await store.last_seq()


async def catch_up(nc, db, total: int) -> float:
    store = EventStore(nc, "registry", CODEC)
    runner = ProjectionRunner(store, db, NETWORKS, consumer_prefix="bench", batch_size=Settings().projection_batch)
    started = time.perf_counter()
    task = asyncio.create_task(runner.run())
    while runner.stats.last_seq < total:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    runner.stop()
    await task
    return total / elapsed


async def raw_upserts(db, total: int, docs: int) -> float:
    """One upsert per event, 500 to a bulk write: the naive projection's cost, on the same server."""
    collection = db["raw_upserts"]
    started = time.perf_counter()
    for start in range(0, total, 500):
        ops = [
            ReplaceOne({"_id": f"d{i % docs}"}, {"_id": f"d{i % docs}", "seq": i, "payload": "x" * 200}, upsert=True)
            for i in range(start, min(total, start + 500))
        ]
        await collection.bulk_write(ops, ordered=False)
    return total / (time.perf_counter() - started)


async def live(
    nc, client: MignetClient, mongo, database: str, per_client: int, rate: int, seconds: float
) -> list[tuple[str, ...]]:
    """The command burst and the steady-rate visibility, against the running registry service."""
    db = mongo[database]
    raw = await raw_publish(nc, per_client)
    burst = await commands(client, per_client)
    # The burst leaves the projection a backlog: the steady-rate latency is measured once it
    # is drained, and how long that took is a row of its own.
    drained = await caught_up(nc, "REGISTRY", db, NETWORKS.name)
    visible = await visible_latency(client, db, rate, seconds)
    return [
        (
            "registry: commands/s, 32 clients (create-network)",
            f"{burst.per_second:,.0f}",
            "raw JetStream publish/s, 32 publishers",
            f"{raw.per_second:,.0f}",
            f"{burst.per_second / raw.per_second:.0%} (target >= 30%)",
        ),
        ("registry: command p50 / p99 (ms)", ms(burst.latencies), "raw publish p50 / p99 (ms)", ms(raw.latencies), ""),
        ("registry: projection backlog left by the burst, drained in (s)", f"{drained:.1f}", "", "", ""),
        (
            f"registry: command -> read model visible at {rate}/s, p50 / p99 (ms)",
            ms(visible),
            "",
            "",
            f"p99 {'<' if pct(visible, 99) < 0.05 else '>='} 50 ms (target < 50)",
        ),
    ]


async def catch_up_rows(nc, mongo, aggregates: int, events_per: int) -> list[tuple[str, ...]]:
    """The registry's networks projection from zero, in this process, with the service stopped.

    The stream also holds the networks the live benchmarks created (one event each)."""
    total = await seed_stream(nc, aggregates, events_per)
    db = mongo["bench_catchup"]
    rate_events = await catch_up(nc, db, total)
    documents = await db[NETWORKS.collection].count_documents({})
    raw_rate = await raw_upserts(mongo["bench_raw"], total, documents)
    return [
        (
            f"registry: projection catch-up from zero, {total:,} events on {documents:,} networks (events/s)",
            f"{rate_events:,.0f}",
            "raw bulk upserts/s, same server (one per event)",
            f"{raw_rate:,.0f}",
            f"{rate_events / raw_rate:.2f}x (target >= 1.0x)",
        ),
    ]
