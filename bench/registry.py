"""Registry benchmarks, each beside the raw limit measured in the same run.

Run by hand (`make bench`), not in CI. Starts its own throwaway nats-server
and SecantusDB, and the registry service as a separate process, exactly as
`make run` does. Prints one table and appends it to docs/benchmarks.md with
`--record`.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import nats
from pymongo import AsyncMongoClient, ReplaceOne

from mignet_contracts import registry as c
from mignet_registry.app import CODEC
from mignet_registry.domain import NETWORK
from mignet_registry.projections import NETWORKS
from mignet_runtime.client import MignetClient
from mignet_runtime.codec import Metadata
from mignet_runtime.eventstore import EventStore
from mignet_runtime.localstack import ManagedProcess, start_nats, start_secantus, stop_all
from mignet_runtime.projection import ProjectionRunner

CLIENTS = 32
ENTITIES = ["IOM", "UNICEF", "UNHCR", "ILO", "UNDP", "OHCHR", "UNODC", "WHO", "UNDESA"]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def _concurrently(clients: int, per_client: int, one) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def worker(w: int) -> None:
        for i in range(per_client):
            started = time.perf_counter()
            await one(w, i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*[worker(w) for w in range(clients)])
    return len(latencies) / (time.perf_counter() - started), latencies


async def raw_publish(nc, per_client: int) -> tuple[float, list[float]]:
    js = nc.jetstream()
    await js.add_stream(name="RAWBENCH", subjects=["rawbench.>"], storage="file")
    payload = b'{"occurred_on":"2026-01-01","network_id":"reg-000000000000","scope":"regional"}'

    async def one(w: int, i: int) -> None:
        await js.publish(f"rawbench.{w}.{i}", payload, headers={"Nats-Msg-Id": uuid.uuid4().hex})

    result = await _concurrently(CLIENTS, per_client, one)
    await js.delete_stream("RAWBENCH")
    return result


async def commands(client: MignetClient, per_client: int) -> tuple[float, list[float]]:
    async def one(w: int, i: int) -> None:
        await client.command(c.CreateNetwork(actor="bench", scope="regional", region="asia-pacific",
                                             network_name=f"bench network {w}-{i}"))

    return await _concurrently(CLIENTS, per_client, one)


async def visible_latency(client: MignetClient, db, rate: int, seconds: float) -> list[float]:
    """Command sent -> its events in the read model, at a steady rate.

    One watcher polls the projection's checkpoint (every event up to it is in
    the read model) instead of one poller per command, which would load the
    database it measures.
    """
    checkpoints = db["_projections"]
    waiting: list[tuple[int, float, asyncio.Future]] = []
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
        result = await client.command(c.CreateNetwork(actor="bench", scope="regional", region="africa",
                                                      network_name=f"latency probe {i}"))
        waiting.append((result.version, started, None))

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
        events = [c.NetworkCreated(network_id=network_id, scope="regional", region="europe-north-america-central-asia",
                                   network_name=f"catch-up {n}", status="under-consideration", occurred_on=today)]
        for k in range(events_per - 1):
            entity = ENTITIES[k % len(ENTITIES)]
            if k < len(ENTITIES):
                events.append(c.NetworkMemberJoined(network_id=network_id, entity=entity, role="member",
                                                    occurred_on=today))
            else:
                events.append(c.NetworkStatusChanged(network_id=network_id, from_status="under-consideration",
                                                     to_status="being-established", occurred_on=today))
        async with sem:
            await store.append(NETWORK, network_id, events, 0, Metadata(command_id=f"catchup-{n}", actor="bench"))

    await asyncio.gather(*[one(n) for n in range(aggregates)])
    return await store.last_seq()


async def catch_up(nc, db, total: int) -> float:
    store = EventStore(nc, "registry", CODEC)
    runner = ProjectionRunner(store, db, NETWORKS, consumer_prefix="bench", batch_size=500)
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
        ops = [ReplaceOne({"_id": f"d{i % docs}"}, {"_id": f"d{i % docs}", "seq": i, "payload": "x" * 200},
                          upsert=True) for i in range(start, min(total, start + 500))]
        await collection.bulk_write(ops, ordered=False)
    return total / (time.perf_counter() - started)


async def main(per_client: int, aggregates: int, events_per: int, rate: int, seconds: float) -> list[tuple]:
    root = Path(tempfile.mkdtemp(prefix="mignet-bench-"))
    nats_proc, nats_url = start_nats(root / "nats", log_path=root / "nats.log")
    mongo_proc, mongo_url = start_secantus(root / "mongo", log_path=root / "mongo.log")
    service = ManagedProcess("registry", [sys.executable, "-m", "mignet_registry"],
                             env={**__import__("os").environ, "NATS_URL": nats_url, "MONGODB_URL": mongo_url,
                                  "MIGNET_DB_PREFIX": "bench", "LOG_LEVEL": "WARNING"},
                             log_path=root / "registry.log")
    rows = []
    try:
        service.start()
        nc = await nats.connect(nats_url)
        client = MignetClient(nc, timeout=30)
        for _ in range(200):
            try:
                await client.admin("registry", "health")
                break
            except Exception:
                await asyncio.sleep(0.1)
        mongo = AsyncMongoClient(mongo_url)

        raw_rate, raw_lat = await raw_publish(nc, per_client)
        cmd_rate, cmd_lat = await commands(client, per_client)
        rows.append(("commands/s, 32 clients (create-network)", f"{cmd_rate:,.0f}",
                     "raw JetStream publish/s, 32 publishers", f"{raw_rate:,.0f}",
                     f"{cmd_rate / raw_rate:.0%} (target >= 30%)"))
        rows.append(("command p50 / p99 latency (ms)", f"{pct(cmd_lat, 50)*1000:.1f} / {pct(cmd_lat, 99)*1000:.1f}",
                     "raw publish p50 / p99 (ms)", f"{pct(raw_lat, 50)*1000:.1f} / {pct(raw_lat, 99)*1000:.1f}", ""))

        visible = await visible_latency(client, mongo["bench_registry"], rate, seconds)
        rows.append((f"command -> read model visible at {rate}/s, p50 / p99 (ms)",
                     f"{pct(visible, 50)*1000:.1f} / {pct(visible, 99)*1000:.1f}",
                     "", "", f"p99 {'<' if pct(visible, 99) < 0.05 else '>='} 50 ms (target < 50)"))

        service.stop(10)  # the catch-up is measured alone, in this process
        total = await seed_stream(nc, aggregates, events_per)
        db = mongo["bench_catchup"]
        rate_events = await catch_up(nc, db, total)
        raw_rate_up = await raw_upserts(mongo["bench_raw"], total, aggregates)
        rows.append((f"projection catch-up from zero, {total:,} events, {aggregates:,}+ aggregates (events/s)",
                     f"{rate_events:,.0f}", "raw bulk upserts/s, same server (one per event)", f"{raw_rate_up:,.0f}",
                     f"{rate_events / raw_rate_up:.2f}x (target >= 1.0x)"))
        await mongo.close()
        await nc.drain()
    finally:
        stop_all([p for p in (service, nats_proc, mongo_proc) if p is not None])
    return rows
