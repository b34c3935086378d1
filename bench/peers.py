"""The workload peers publish for comparison, against the registry service running as a separate process.

- **Members added at random**: ``networks`` existing networks (created first, one member each);
  32 clients, each command a read (``get-network``, the read model a client sees) then a
  write (``add-network-member`` with an entity the read showed missing). A refusal because
  the entity is a member already (another client added it since, or the read model had not
  caught up yet) is a conflict: read again and retry. The service's own conflicts (an append
  whose expected version had moved, retried there on fresh state) are read from its metrics.
- **The read alone**: the same clients, ``get-network`` only, to tell the read's share.
- **Sequential create then join**: one client, one command at a time.

:mod:`bench.peers_report` runs them and measures each window's CPU per command.
"""

from __future__ import annotations

import random
import time
import urllib.request
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from bench.common import CLIENTS, Rate, caught_up, concurrently
from mignet_contracts import reference
from mignet_contracts import registry as c
from mignet_contracts.envelope import new_id
from mignet_registry.projections import NETWORKS
from mignet_runtime.client import MignetClient, RequestFailed

ENTITIES = sorted(reference.UN_ENTITIES)
#: Every network starts with this member; the workload adds the others.
FIRST_MEMBER = "IOM"
#: Reads and writes one command may take before the bench gives up on it (a bug, not load).
MAX_ATTEMPTS = 50


@dataclass
class Tally:
    commands: int = 0
    #: Refusals of a write because the entity had become a member since the read.
    conflicts: int = 0
    #: Extra read-and-write rounds, one per conflict (and per read that found a network full).
    retries: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0


async def create_networks(nc, client: MignetClient, db, count: int) -> list[str]:
    """``count`` regional networks with one member each, 32 clients at a time; returns once all are
    in the read model (``db``), where the workload's clients read them."""
    ids: list[str] = []

    async def one(w: int, i: int) -> None:
        n = w + i * CLIENTS
        if n < count:
            result = await client.command(
                c.CreateNetwork(
                    command_id=new_id(),
                    actor="bench",
                    scope="regional",
                    region="asia-pacific",
                    network_name=f"peers network {n}",
                    members=[c.Membership(entity=FIRST_MEMBER)],
                )
            )
            ids.append(result.aggregate_id)

    await concurrently(CLIENTS, -(-count // CLIENTS), one)
    await caught_up(nc, "REGISTRY", db, NETWORKS.name)
    return ids


def _already_member(error: RequestFailed) -> bool:
    body = error.error
    return body.code == "conflict" or (body.code == "rejected" and any(d.field == "entity" for d in body.details))


async def add_members(client: MignetClient, network_ids: list[str], per_client: int, seed: int = 1) -> Tally:
    """32 clients x ``per_client`` commands: read a random network, add an entity it lacks."""
    tally = Tally()
    rng = random.Random(seed)

    async def one(w: int, i: int) -> None:
        network_id = rng.choice(network_ids)
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                tally.retries += 1
            view = await client.query(c.GetNetwork(network_id=network_id))
            lacking = sorted(set(ENTITIES) - {m["entity"] for m in view["members"]})
            if not lacking:  # every entity is a member: another network
                network_id = rng.choice(network_ids)
                continue
            command = c.AddNetworkMember(
                command_id=new_id(), actor="bench", network_id=network_id, entity=rng.choice(lacking)
            )
            try:
                await client.command(command)
            except RequestFailed as refused:
                if not _already_member(refused):
                    raise
                tally.conflicts += 1
                continue
            tally.commands += 1
            return
        raise RuntimeError(f"add-network-member on {network_id} still refused after {MAX_ATTEMPTS} attempts")

    started = time.perf_counter()
    rate = await concurrently(CLIENTS, per_client, one)
    tally.seconds = time.perf_counter() - started
    tally.latencies = rate.latencies
    return tally


async def create_then_join(client: MignetClient, count: int) -> tuple[list[float], list[float]]:
    """One client: create a network, then add a member to it; ``count`` times, one command at a time."""
    creates: list[float] = []
    joins: list[float] = []
    for n in range(count):
        started = time.perf_counter()
        created = await client.command(
            c.CreateNetwork(
                command_id=new_id(), actor="bench", scope="regional", region="africa", network_name=f"sequential {n}"
            )
        )
        joined = time.perf_counter()
        await client.command(
            c.AddNetworkMember(command_id=new_id(), actor="bench", network_id=created.aggregate_id, entity="UNICEF")
        )
        creates.append(joined - started)
        joins.append(time.perf_counter() - joined)
    return creates, joins


async def reads(client: MignetClient, network_ids: list[str], per_client: int, seed: int = 2) -> Rate:
    """The workload's read alone: 32 clients x ``per_client`` ``get-network`` of a random network."""
    rng = random.Random(seed)

    async def one(w: int, i: int) -> None:
        await client.query(c.GetNetwork(network_id=rng.choice(network_ids)))

    return await concurrently(CLIENTS, per_client, one)


def wrong_versions(admin_urls: list[str]) -> int:
    """Appends the services retried because the aggregate had moved (their ``mignet_appends`` counter)."""
    total = 0
    for url in admin_urls:
        text = urllib.request.urlopen(f"{url}/metrics", timeout=10).read().decode()
        appends = [f for f in text_string_to_metric_families(text) if f.name == "mignet_appends"]
        if not appends:
            raise RuntimeError(f"{url}/metrics has no mignet_appends counter")
        total += sum(
            int(s.value)
            for s in appends[0].samples
            if s.name == "mignet_appends_total" and s.labels.get("outcome") == "wrong_version"
        )
    return total
