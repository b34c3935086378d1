"""A three-node NATS cluster loses the REGISTRY stream's leader during a burst of commands: nothing is lost.

The cluster runs deploy/nats/nats.conf on three real nats-servers on loopback, with the
streams and lease buckets provisioned at three replicas; the registry runs as a real
subprocess connected to all three. The stream leader is SIGKILLed mid-burst; clients
resend through the outage with the same command ids. Afterwards every command is in the
stream exactly once, the service never restarted, the read models equal a fresh fold,
and the killed node, started again, catches up.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter

import nats
import pytest
from bursts import COUNTRIES, ENTITIES, burst, send_until_done
from conftest import eventually

from mignet_registry.app import CODEC
from mignet_registry.projections import PROJECTIONS
from mignet_runtime.client import MignetClient, RequestFailed
from mignet_runtime.cluster import NatsCluster
from mignet_runtime.eventstore import EventStore
from mignet_runtime.localstack import ManagedProcess, dev_passwords, provision_local
from mignet_runtime.projection import fold_stream, internal_fields_stripped

pytestmark = pytest.mark.integration


@pytest.fixture
def cluster(tmp_path):
    passwords = dev_passwords()
    cluster = NatsCluster(tmp_path / "cluster", passwords, 3).start()
    try:
        provision_local(cluster.url, passwords["admin"], replicas=3)
        yield cluster
    finally:
        cluster.stop(5)
    # The registry ran as its own user under nats.conf: a permission it lacks shows up here.
    violations = [
        line for node in cluster.nodes for line in node.log_path.read_text().splitlines() if "Violation" in line
    ]
    assert not violations, "nats-server refused a permission:\n" + "\n".join(violations[:5])


@pytest.fixture
def registry_process(cluster, servers, db_prefix, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NATS_")}
    env.update(
        NATS_URL=cluster.url,
        NATS_USER="registry",
        NATS_PASSWORD=cluster.passwords["registry"],
        MONGODB_URL=servers.mongodb_url,
        MIGNET_DB_PREFIX=db_prefix,
        MIGNET_STARTUP_TIMEOUT="30",
        LOG_LEVEL="INFO",
    )
    process = ManagedProcess(
        "registry", [sys.executable, "-m", "mignet_registry"], env=env, log_path=tmp_path / "registry.log"
    )
    yield process
    process.stop(10)


async def test_the_stream_leader_killed_during_a_burst_loses_nothing_and_catches_up(
    cluster, registry_process, mongo, db_prefix
):
    registry_process.start()
    nc = await nats.connect(
        cluster.url.split(","),
        user="admin",
        password=cluster.passwords["admin"],
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.2,
    )
    client = MignetClient(nc, timeout=2)
    await eventually(lambda: _answers(client), timeout=30)
    store = EventStore(nc, "registry", CODEC)
    leader = (await nc.jetstream().stream_info("REGISTRY")).cluster.leader
    victim = next(i for i, node in enumerate(cluster.nodes) if node.name == leader)

    commands = burst()
    refused_at: list[float] = []
    sender = asyncio.create_task(send_until_done(client, commands, refused_at))
    await eventually(lambda: _has_written(store, 60), timeout=30)
    written_before_kill = await store.last_seq()
    killed_at = time.monotonic()
    cluster.kill(victim)
    outcomes = await asyncio.wait_for(sender, 180)

    # Every command was acknowledged, and each one's events are in the stream exactly once.
    assert len(outcomes) == len(commands)
    last = await store.last_seq()
    assert written_before_kill < last, "the kill came after the burst; the test proved nothing"
    per_command = Counter()
    async for recorded in store.read("registry.events.>"):
        per_command[recorded.command_id] += 1
    assert dict(per_command) == {cmd.command_id: 1 for cmd in commands}
    new_leader = (await nc.jetstream().stream_info("REGISTRY")).cluster.leader
    assert new_leader != leader
    refused_for = max((t - killed_at for t in refused_at if t >= killed_at), default=0.0)
    print(f"\nkilled {leader} (stream leader); writes refused for at most {refused_for:.2f}s; new leader {new_leader}")

    # The service rode through it: same process, started once.
    assert registry_process.is_running
    assert registry_process.log_path.read_text().count("registry ready") == 1

    # The read models equal a fresh fold of the stream.
    db = mongo[f"{db_prefix}_registry"]

    async def caught_up():
        checkpoint = await db["_projections"].find_one({"_id": "networks"})
        return checkpoint is not None and checkpoint["seq"] >= last

    await eventually(caught_up, timeout=60)
    for projection in PROJECTIONS:
        rebuilt = await fold_stream(store, projection)
        live = {
            doc["_id"]: internal_fields_stripped(doc) for doc in await db[projection.collection].find().to_list(None)
        }
        assert live == rebuilt, f"{projection.name} differs from a fresh rebuild"
    networks = await db["networks"].find().to_list(None)
    assert len(networks) == len(COUNTRIES)
    assert all(n["member_count"] == len(ENTITIES) and n["status"] == "being-established" for n in networks)

    # The killed node, started again on its own store, catches up with what it missed.
    cluster.restart(victim)

    async def victim_current():
        info = await nc.jetstream().stream_info("REGISTRY")
        peers = {p.name: p for p in info.cluster.replicas or []}
        peer = peers.get(leader)
        return peer is not None and bool(peer.current) and not peer.lag and info.state.last_seq == last

    await eventually(victim_current, timeout=60)
    await nc.drain()


async def _answers(client: MignetClient) -> bool:
    try:
        await client.admin("registry", "health")
        return True
    except RequestFailed:
        return False


async def _has_written(store: EventStore, at_least: int) -> bool:
    try:
        return await store.last_seq() >= at_least
    except Exception:
        return False


async def test_provisioning_scales_an_r1_stream_to_three_replicas_in_place(tmp_path):
    """A deployment that grows from one server to a cluster keeps its streams: provisioning scales them."""
    passwords = dev_passwords()
    cluster = NatsCluster(tmp_path / "cluster", passwords, 3).start()
    try:
        provision_local(cluster.url, passwords["admin"], replicas=1)
        nc = await nats.connect(cluster.url.split(","), user="admin", password=passwords["admin"])
        await nc.jetstream().publish("registry.events.network.global.created", b"{}")
        steps = provision_local(cluster.url, passwords["admin"], replicas=3)
        assert "stream REGISTRY: updated (num_replicas 1 -> 3)" in steps
        assert "lease bucket leases_registry (stream KV_leases_registry): updated (num_replicas 1 -> 3)" in steps
        info = await nc.jetstream().stream_info("REGISTRY")
        assert info.config.num_replicas == 3 and info.state.messages == 1
        assert provision_local(cluster.url, passwords["admin"], replicas=3)[0] == "stream REGISTRY: unchanged"
        await nc.close()
    finally:
        cluster.stop(5)
