"""The peers' workload (:mod:`bench.peers`) run against the registry service, as rows of the benchmark's table.

Every window's CPU per command of each process (``/proc/<pid>/stat`` before and after,
the projections' catch-up included: their share is part of each command's cost) holds up
on a shared machine where rates do not.
"""

from __future__ import annotations

import asyncio

from bench.common import CpuWindow, caught_up, ms, raw_publish
from bench.peers import add_members, create_networks, create_then_join, reads, wrong_versions
from mignet_registry.projections import NETWORKS
from mignet_runtime.client import MignetClient


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
    cpu.start()
    read = await reads(client, networks, sizes["per_client"])
    read_cpu = cpu.per(len(read.latencies))
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
            "peers: the read alone (get-network of a random network), reads/s and p50 / p99 (ms), 32 clients",
            f"{read.per_second:,.0f}; {ms(read.latencies)}",
            "",
            "",
            "",
        ),
        _cpu_row("peers: CPU per read alone, each process (ms)", read_cpu),
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
