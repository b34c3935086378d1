"""The workload peers publish for comparison, against the registry service running as a separate process.

- **Members added at random**: ``networks`` existing networks (created first, one member each);
  32 clients, each command a read (``get-network``, the read model a client sees) then a
  write (``add-network-member`` with an entity the read showed missing). A refusal because
  the entity is a member already (another client added it since, or the read model had not
  caught up yet) is a conflict: read again and retry. The service's own conflicts (an append
  whose expected version had moved, retried there on fresh state) are read from its metrics.
- **Sequential create then join**: one client, one command at a time.

Each window's CPU per command of every process (``/proc/<pid>/stat`` before and after,
the projections' catch-up included) is what holds up on a shared machine.
"""

from __future__ import annotations

import asyncio
import random
import time
import urllib.request
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from bench.common import CLIENTS, caught_up, concurrently, cpu_seconds, ms, raw_publish
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


class CpuWindow:
    """CPU time of each named process between ``start`` and ``per(commands)``, in ms per command."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.before: dict[str, float] = {}

    def start(self) -> None:
        self.before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def per(self, commands: int) -> dict[str, float]:
        return {
            name: (cpu_seconds(pid) - self.before[name]) * 1000 / max(1, commands) for name, pid in self.pids.items()
        }


def _cpu_row(label: str, cpu: dict[str, float]) -> tuple[str, ...]:
    parts = ", ".join(f"{name} {value:.3f}" for name, value in cpu.items())
    return (label, f"{sum(cpu.values()):.3f} ms", "", "", parts)


async def live(
    nc, client: MignetClient, db, pids: dict[str, int], admin_urls: list[str], sizes: dict[str, int]
) -> list[tuple[str, ...]]:
    """``sizes``: networks, per_client (commands per client), sequential (create-join pairs)."""
    networks = await create_networks(nc, client, db, sizes["networks"])
    raw = await raw_publish(nc, sizes["per_client"])
    conflicts_before = await asyncio.to_thread(wrong_versions, admin_urls)
    cpu = CpuWindow(pids)
    cpu.start()
    tally = await add_members(client, networks, sizes["per_client"])
    await caught_up(nc, "REGISTRY", db, NETWORKS.name)
    burst_cpu = cpu.per(tally.commands)
    service_conflicts = await asyncio.to_thread(wrong_versions, admin_urls) - conflicts_before
    raw_one = await raw_publish(nc, sizes["sequential"], clients=1)
    cpu.start()
    creates, joins = await create_then_join(client, sizes["sequential"])
    await caught_up(nc, "REGISTRY", db, NETWORKS.name)
    pair_cpu = cpu.per(2 * sizes["sequential"])
    rate = tally.commands / tally.seconds
    return [
        (
            f"peers: add-network-member/s, 32 clients, {len(networks):,} networks at random (a read + a write each)",
            f"{rate:,.0f}",
            "raw JetStream publish/s, 32 publishers",
            f"{raw.per_second:,.0f}",
            f"{rate / raw.per_second:.0%}",
        ),
        (
            "peers: read + write p50 / p99 (ms), retries included",
            ms(tally.latencies),
            "raw publish p50 / p99 (ms)",
            ms(raw.latencies),
            "",
        ),
        (
            "peers: conflicts (entity added since the read) / retries / service-side expected-version retries",
            f"{tally.conflicts:,} / {tally.retries:,} / {service_conflicts:,}",
            "",
            "",
            f"of {tally.commands:,} commands",
        ),
        _cpu_row("peers: CPU per read + write, each process (ms), projection catch-up included", burst_cpu),
        (
            "peers: sequential create-network p50 / p99 (ms), one client",
            ms(creates),
            "raw publish p50 / p99 (ms), one publisher",
            ms(raw_one.latencies),
            "",
        ),
        ("peers: sequential add-network-member to it p50 / p99 (ms)", ms(joins), "", "", ""),
        _cpu_row("peers: sequential CPU per command, each process (ms)", pair_cpu),
    ]
