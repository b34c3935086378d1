"""The peers' workload of the benchmark (bench/peers.py) counts what it did: checked against the stream and
the read model, on the bench's own stack (nats-server, SecantusDB, the registry as a separate process)."""

from __future__ import annotations

import nats
import pytest
from pymongo import AsyncMongoClient

from bench import peers
from bench.common import CpuWindow, caught_up
from bench.stack import Stack, wait_healthy
from mignet_contracts import registry as c
from mignet_contracts.envelope import new_id
from mignet_registry.projections import NETWORKS
from mignet_runtime.client import MignetClient, RequestFailed
from mignet_runtime.localstack import free_port

pytestmark = pytest.mark.integration

JOINED = "registry.events.network.*.member-joined"


@pytest.fixture
async def bench_stack():
    stack = Stack()
    stack.start_servers()
    try:
        admin_port = free_port()
        process = stack.service("registry", {"MIGNET_ADMIN_PORT": str(admin_port)})
        nc = await nats.connect(stack.client_urls)
        client = MignetClient(nc, timeout=30)
        await wait_healthy(client, "registry", process)
        mongo: AsyncMongoClient = AsyncMongoClient(stack.mongo_url)
        yield stack, process, nc, client, mongo[stack.database("registry")], f"http://127.0.0.1:{admin_port}"
        await mongo.close()
        await nc.drain()
    finally:
        stack.stop()


async def _joined(nc) -> dict[str, int]:
    info = await nc.jetstream().stream_info("REGISTRY", subjects_filter=JOINED)
    return info.state.subjects or {}


async def test_every_member_the_workload_counts_is_in_the_stream_once_and_in_the_read_model(bench_stack):
    stack, process, nc, client, db, admin_url = bench_stack
    networks = await peers.create_networks(nc, client, db, 4)
    assert len(set(networks)) == 4
    assert sum((await _joined(nc)).values()) == 4  # each network's first member

    cpu = CpuWindow({"registry": process.pid, "nats-server": stack.nats_processes[0].pid})
    cpu.start()
    # 64 commands on 4 networks from 32 clients at once: the reads and writes race.
    tally = await peers.add_members(client, networks, per_client=2)
    per_command = cpu.per(tally.commands)

    assert tally.commands == 64 and len(tally.latencies) == 64
    assert tally.retries >= tally.conflicts
    # Each counted command wrote one member-joined, and nothing else joined: no miscount either way.
    assert sum((await _joined(nc)).values()) == 4 + 64
    await caught_up(nc, "REGISTRY", db, NETWORKS.name)
    documents = await db[NETWORKS.collection].find({"_id": {"$in": networks}}).to_list()
    entities = [(doc["_id"], m["entity"]) for doc in documents for m in doc["members"]]
    assert len(entities) == len(set(entities)) == 4 + 64
    # One process queues the commands on one aggregate: its appends never meet a moved version.
    assert peers.wrong_versions([admin_url]) == 0
    assert per_command["registry"] > 0 and per_command["nats-server"] > 0

    creates, joins = await peers.create_then_join(client, 3)
    assert len(creates) == len(joins) == 3
    assert sum((await _joined(nc)).values()) == 4 + 64 + 3


async def test_only_a_refusal_for_a_member_already_there_counts_as_a_conflict(bench_stack):
    _, _, nc, client, db, _ = bench_stack
    (network,) = await peers.create_networks(nc, client, db, 1)
    with pytest.raises(RequestFailed) as member:
        await client.command(
            c.AddNetworkMember(command_id=new_id(), actor="bench", network_id=network, entity=peers.FIRST_MEMBER)
        )
    assert peers._already_member(member.value)
    with pytest.raises(RequestFailed) as missing:
        await client.command(
            c.AddNetworkMember(command_id=new_id(), actor="bench", network_id="reg-000000000000", entity="ILO")
        )
    assert not peers._already_member(missing.value)
