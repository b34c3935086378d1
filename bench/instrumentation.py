"""What instrumentation costs: registry commands/s and CPU per command with metrics and tracing off, then on, in one run.

The registry service is started afresh for each round, alternately off
(``MIGNET_ADMIN_PORT=0``: no admin port, no metrics; no OTLP endpoint: no
spans) and on (metrics, the admin port scraped every second as Prometheus
would, and every span exported over OTLP/HTTP to a collector stand-in on
loopback). Several alternating rounds, every other one in reverse order, so
that the machine's drift favours no mode; each mode is compared with the off
run of its own round, and the median of those paired ratios is reported with
their spread. Besides commands/s, the registry process's own CPU time per
command (``/proc/<pid>/stat``): on a machine shared with other work that is
the steadier measure of what instrumentation adds.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import urllib.request
from dataclasses import dataclass

import nats

from bench import registry
from bench.collector import Collector
from bench.common import cpu_seconds
from bench.stack import Stack, wait_healthy
from mignet_runtime.client import MignetClient
from mignet_runtime.localstack import free_port

#: The cost instrumentation may have (the issue's bound).
MAX_COST = 0.10


async def _scrape_every_second(url: str) -> None:
    while True:
        await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
        await asyncio.sleep(1)


@dataclass(frozen=True)
class Round:
    per_second: float
    cpu_ms_per_command: float


#: off: no admin port, no metrics, no spans; metrics: the admin port and metrics (scraped), no spans;
#: on: as deployed with OTEL_EXPORTER_OTLP_ENDPOINT set (metrics, and traces with the default sampling);
#: all: on, and every request traced (parentbased_always_on).
MODES = ("off", "metrics", "on", "all")


async def _round(stack: Stack, collector: Collector, mode: str, per_client: int) -> Round:
    admin_port = free_port()
    on = mode != "off"
    env = {"MIGNET_ADMIN_PORT": str(admin_port) if on else "0"}
    if on and mode != "metrics":
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.url
    if mode == "all":
        env["OTEL_TRACES_SAMPLER"] = "parentbased_always_on"
    process = stack.service("registry", env)
    nc = await nats.connect(stack.client_urls)
    scraper: asyncio.Task | None = None
    try:
        client = MignetClient(nc, timeout=30)
        await wait_healthy(client, "registry", process)
        await _holds_lease(client)
        if env["MIGNET_ADMIN_PORT"] != "0":
            scraper = asyncio.create_task(_scrape_every_second(f"http://127.0.0.1:{admin_port}/metrics"))
        pid = process.pid
        assert pid is not None
        before = cpu_seconds(pid)
        rate = await registry.commands(client, per_client)
        # Its projections catch up too: their share (and their spans) is part of each command's cost.
        await _caught_up(client)
        cpu = cpu_seconds(pid) - before
        return Round(rate.per_second, cpu * 1000 / len(rate.latencies))
    finally:
        if scraper is not None:
            scraper.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await scraper
        await nc.drain()
        process.stop(20)  # flushes the spans still queued


async def _holds_lease(client: MignetClient, timeout: float = 60) -> None:
    """Until this round's replica runs the projections. The last round's replica releases the lease
    when it stops; if it could not, the lease expires within its TTL, and until then this one stands
    by, and nothing answers ``projections.status``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (await client.admin("registry", "health"))["projections"] != "running":
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"the registry did not take the projection lease within {timeout:.0f}s")
        await asyncio.sleep(0.1)


async def _caught_up(client: MignetClient) -> None:
    while True:
        rows = await client.admin("registry", "projections.status")
        if all(row["pending"] == 0 for row in rows):
            return
        await asyncio.sleep(0.05)


def paired(off: list[Round], runs: list[Round], of) -> tuple[float, float, float]:
    """Median, lowest and highest of ``of(run) / of(off)`` over the rounds, each mode beside the off of its round."""
    ratios = sorted(of(r) / of(o) for o, r in zip(off, runs, strict=True))
    return statistics.median(ratios), ratios[0], ratios[-1]


async def compare(stack: Stack, per_client: int, rounds: int = 3) -> list[tuple]:
    collector = Collector()
    results: dict[str, list[Round]] = {mode: [] for mode in MODES}
    try:
        for n in range(rounds):
            # Every other round in reverse order (off first, then last): a drift of the machine
            # during the run then favours no mode.
            for mode in MODES if n % 2 == 0 else reversed(MODES):
                results[mode].append(await _round(stack, collector, mode, per_client))
        spans = collector.spans()
    finally:
        collector.close()
    off = results["off"]
    rate_off = statistics.median(r.per_second for r in off)
    cpu_off = statistics.median(r.cpu_ms_per_command for r in off)
    rows = []
    for mode, what in (
        ("metrics", "metrics on (scraped every second), no traces"),
        ("on", "metrics + traces (default sampling, OTLP to a local collector)"),
        ("all", "metrics + every request traced"),
    ):
        runs = results[mode]
        rate = statistics.median(r.per_second for r in runs)
        cpu = statistics.median(r.cpu_ms_per_command for r in runs)
        rate_ratio, rate_low, rate_high = paired(off, runs, lambda r: r.per_second)
        cpu_ratio, cpu_low, cpu_high = paired(off, runs, lambda r: r.cpu_ms_per_command)
        target = f" (target > {1 - MAX_COST:.0%})" if mode == "on" else ""
        rows.append(
            (
                f"registry: commands/s, {what} (median of {rounds} rounds)",
                f"{rate:,.0f}/s",
                "instrumentation off, same run",
                f"{rate_off:,.0f}/s",
                f"{rate_ratio:.0%} of off, paired by round{target}, spread {rate_low:.0%}-{rate_high:.0%}; "
                "rounds off "
                + ", ".join(f"{r.per_second:,.0f}" for r in off)
                + f" / {mode} "
                + ", ".join(f"{r.per_second:,.0f}" for r in runs),
            )
        )
        rows.append(
            (
                f"registry service: CPU per command, its projections included ({mode})",
                f"{cpu:.3f} ms",
                "instrumentation off, same run",
                f"{cpu_off:.3f} ms",
                f"{cpu_ratio - 1:+.1%} paired by round{' (target < 10%)' if mode == 'on' else ''}, spread "
                f"{cpu_low - 1:+.0%} to {cpu_high - 1:+.0%}; rounds "
                + ", ".join(f"{r.cpu_ms_per_command:.3f}" for r in runs)
                + (f"; {spans:,} spans exported in all" if mode == "all" else ""),
            )
        )
    return rows
