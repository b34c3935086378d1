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
import nats.js.errors
import pytest
from bursts import COUNTRIES, ENTITIES, burst, send_until_done
from conftest import eventually

from mignet_registry.app import CODEC
from mignet_registry.projections import PROJECTIONS
from mignet_runtime.client import MignetClient, RequestFailed
from mignet_runtime.cluster import NatsCluster
from mignet_runtime.eventstore import EventStore
from mignet_runtime.lease import lease_bucket, lease_key
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
    # The registry ran as its own user under nats.conf: a permission it lacks shows up here. Except
    # one, expected: answers nats-py had buffered when the node died are sent after it reconnects, on
    # the new connection, where allow_responses (per connection) no longer lets them through. The
    # server drops them and the clients resend; the service skips what it can (endpoints.py).
    violations = [
        line
        for node in cluster.nodes
        for line in node.log_path.read_text().splitlines()
        if "Violation" in line and not _late_answer(line)
    ]
    assert not violations, "nats-server refused a permission:\n" + "\n".join(violations[:5])


@pytest.fixture
def start_registry(cluster, servers, db_prefix, tmp_path):
    """Starts registry replicas as real subprocesses, each as the registry user on the given NATS URL(s)."""
    started: list[ManagedProcess] = []

    def start(nats_url: str) -> ManagedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NATS_")}
        env.update(
            NATS_URL=nats_url,
            NATS_USER="registry",
            NATS_PASSWORD=cluster.passwords["registry"],
            MONGODB_URL=servers.mongodb_url,
            MIGNET_DB_PREFIX=db_prefix,
            MIGNET_STARTUP_TIMEOUT="30",
            LOG_LEVEL="INFO",
            MIGNET_ADMIN_PORT="0",  # not used here; the default 9101 is shared by every replica on this host
        )
        name = f"registry-{len(started) + 1}"
        process = ManagedProcess(
            name, [sys.executable, "-m", "mignet_registry"], env=env, log_path=tmp_path / f"{name}.log"
        )
        started.append(process.start())
        return process

    yield start
    for process in started:
        process.stop(10)


@pytest.fixture
async def admin(cluster):
    nc = await nats.connect(
        cluster.url.split(","),
        user="admin",
        password=cluster.passwords["admin"],
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.2,
    )
    yield nc
    await nc.drain()


async def test_the_stream_leader_killed_during_a_burst_loses_nothing_and_catches_up(
    cluster, start_registry, admin, mongo, db_prefix
):
    registry = start_registry(cluster.url)
    client = MignetClient(admin, timeout=2)
    await eventually(lambda: _answers(client), timeout=30)
    leader = (await admin.jetstream().stream_info("REGISTRY")).cluster.leader
    victim = next(i for i, node in enumerate(cluster.nodes) if node.name == leader)

    last, refused_for = await _burst_killing(cluster, victim, admin, client)
    new_leader = (await admin.jetstream().stream_info("REGISTRY")).cluster.leader
    assert new_leader != leader
    print(f"\nkilled {leader} (stream leader); writes refused for at most {refused_for:.2f}s; new leader {new_leader}")

    # The service rode through it: same process, started once.
    assert registry.is_running
    assert registry.log_path.read_text().count("registry ready") == 1
    await _read_models_equal_a_fresh_fold(admin, mongo, db_prefix, last)

    # The killed node, started again on its own store, catches up with what it missed.
    cluster.restart(victim)

    async def victim_current():
        info = await admin.jetstream().stream_info("REGISTRY")
        peers = {p.name: p for p in info.cluster.replicas or []}
        peer = peers.get(leader)
        return peer is not None and bool(peer.current) and not peer.lag and info.state.last_seq == last

    await eventually(victim_current, timeout=60)


async def test_the_projection_lease_holders_node_killed_during_a_burst_leaves_one_writer(
    cluster, start_registry, admin, mongo, db_prefix
):
    """Two replicas, each given one node's URL (they learn the others from the cluster); the node of
    the one holding the projection lease dies mid-burst. Whichever replica writes afterwards (the
    holder, reconnected in time, or the other, after the lease expired), the read models converge on
    a fresh fold: nothing applied twice, nothing skipped."""
    replicas = [start_registry(cluster.nodes[i].url) for i in (0, 1)]
    client = MignetClient(admin, timeout=2)
    await eventually(lambda: _answers(client), timeout=30)
    kv = await admin.jetstream().key_value(lease_bucket("registry"))

    async def holder() -> int | None:
        try:
            entry = await kv.get(lease_key(f"{db_prefix}_registry"))
        except nats.js.errors.KeyNotFoundError:
            return None
        holder_name = (entry.value or b":0").decode().split(" ", 1)[0]  # "<host>:<pid> <nonce of this holding>"
        pid = int(holder_name.rsplit(":", 1)[1])
        return next((i for i, r in enumerate(replicas) if r.pid == pid), None)

    await eventually(lambda: _true_if(holder(), lambda h: h is not None), timeout=30)
    held_by = await holder()
    assert held_by is not None
    last, refused_for = await _burst_killing(cluster, held_by, admin, client)
    print(f"\nkilled the node of registry-{held_by + 1} (lease holder); writes refused for {refused_for:.2f}s")
    assert all(r.is_running for r in replicas)
    await _read_models_equal_a_fresh_fold(admin, mongo, db_prefix, last)


async def _burst_killing(cluster: NatsCluster, victim: int, nc, client: MignetClient) -> tuple[int, float]:
    """Sends the burst, SIGKILLs node ``victim`` once 60 events are in, and checks every command is
    in the stream exactly once; returns the last sequence and how long writes were refused."""
    store = EventStore(nc, "registry", CODEC)
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
    return last, max((t - killed_at for t in refused_at if t >= killed_at), default=0.0)


async def _read_models_equal_a_fresh_fold(nc, mongo, db_prefix: str, last: int) -> None:
    store = EventStore(nc, "registry", CODEC)
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


async def _true_if(awaitable, predicate) -> bool:
    return predicate(await awaitable)


def _late_answer(line: str) -> bool:
    return '"APP/user:registry" - Publish Violation - Subject "_INBOX.' in line


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
