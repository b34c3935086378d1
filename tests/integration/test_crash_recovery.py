"""A registry service SIGKILLed during a burst of commands loses nothing and applies nothing twice.

The service runs as a real subprocess (`python -m mignet_registry`). Clients
resend every command whose reply was lost with the same command id, as a
well-behaved client does; afterwards the read models must equal a fresh
rebuild from the stream, and the stream must hold each command's events once.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter

import nats
import pytest
from bursts import COUNTRIES, ENTITIES, burst, send_until_done
from conftest import eventually

from mignet_registry.app import CODEC
from mignet_registry.projections import PROJECTIONS
from mignet_runtime.client import MignetClient, RequestFailed
from mignet_runtime.eventstore import EventStore
from mignet_runtime.localstack import ManagedProcess
from mignet_runtime.projection import fold_stream, internal_fields_stripped


@pytest.fixture
def registry_process(fresh_nats, servers, db_prefix, tmp_path):
    env = servers.env_for(
        "registry", nats=fresh_nats, MIGNET_DB_PREFIX=db_prefix, LOG_LEVEL="INFO", MIGNET_STARTUP_TIMEOUT="30"
    )
    process = ManagedProcess(
        "registry", [sys.executable, "-m", "mignet_registry"], env=env, log_path=tmp_path / "registry.log"
    )
    yield process
    process.stop(10)


async def test_sigkill_during_burst_then_restart_matches_a_fresh_rebuild(
    registry_process, fresh_nats, mongo, db_prefix
):
    registry_process.start()
    nc = await nats.connect(fresh_nats)
    client = MignetClient(nc, timeout=2)
    await eventually(lambda: _answers(client), timeout=30)

    commands = burst()
    sender = asyncio.create_task(send_until_done(client, commands))
    store = EventStore(nc, "registry", CODEC)
    await eventually(lambda: _has_written(store, 60), timeout=30)
    registry_process.kill()  # SIGKILL mid-burst: replies in flight are lost
    killed_at = await store.last_seq()
    await asyncio.sleep(0.5)
    registry_process.start()
    outcomes = await asyncio.wait_for(sender, 120)

    assert len(outcomes) == len(commands)
    assert killed_at < await store.last_seq(), "the kill came after the burst; the test proved nothing"
    # every command's events are in the stream exactly once
    per_command = Counter()
    async for recorded in store.read("registry.events.>"):
        per_command[recorded.command_id] += 1
    expected_events = {cmd.command_id: 1 for cmd in commands}
    assert dict(per_command) == expected_events

    db = mongo[f"{db_prefix}_registry"]
    last = await store.last_seq()

    async def caught_up():
        # The burst has network events only, so the networks projection's checkpoint is the one to watch.
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
