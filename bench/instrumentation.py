"""What instrumentation costs: registry commands/s with metrics and tracing off, then on, in one run.

The registry service is started afresh for each round, alternately off
(``MIGNET_ADMIN_PORT=0``: no admin port, no metrics; no OTLP endpoint: no
spans) and on (metrics, the admin port scraped every second as Prometheus
would, and every span exported over OTLP/HTTP to a collector stand-in on
loopback). Several alternating rounds, so that the machine's drift does not
favour either; each figure is the best round of its kind.
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.request

import nats

from bench import registry
from bench.collector import Collector
from bench.stack import Stack, wait_healthy
from mignet_runtime.client import MignetClient
from mignet_runtime.localstack import free_port

#: The cost instrumentation may have (the issue's bound).
MAX_COST = 0.10


async def _scrape_every_second(url: str) -> None:
    while True:
        await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
        await asyncio.sleep(1)


async def _round(stack: Stack, collector: Collector, on: bool, per_client: int) -> float:
    admin_port = free_port()
    env = {"MIGNET_ADMIN_PORT": str(admin_port) if on else "0"}
    if on:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.url
    process = stack.service("registry", **env)
    nc = await nats.connect(stack.nats_url)
    scraper: asyncio.Task | None = None
    try:
        client = MignetClient(nc, timeout=30)
        await wait_healthy(client, "registry", process)
        if on:
            scraper = asyncio.create_task(_scrape_every_second(f"http://127.0.0.1:{admin_port}/metrics"))
        rate = await registry.commands(client, per_client)
        return rate.per_second
    finally:
        if scraper is not None:
            scraper.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await scraper
        await nc.drain()
        process.stop(20)  # flushes the spans still queued


async def compare(stack: Stack, per_client: int, rounds: int = 3) -> list[tuple]:
    collector = Collector()
    try:
        off: list[float] = []
        on: list[float] = []
        for _ in range(rounds):
            off.append(await _round(stack, collector, False, per_client))
            on.append(await _round(stack, collector, True, per_client))
        spans = collector.spans()
    finally:
        collector.close()
    best_off, best_on = max(off), max(on)
    cost = 1 - best_on / best_off
    return [
        (
            "registry: commands/s, metrics + traces on (OTLP to a local collector)",
            f"{best_on:,.0f}/s",
            "instrumentation off, same run",
            f"{best_off:,.0f}/s",
            f"cost {cost:.1%} (target < {MAX_COST:.0%}); rounds off "
            + ", ".join(f"{r:,.0f}" for r in off)
            + " / on "
            + ", ".join(f"{r:,.0f}" for r in on)
            + f"; {spans:,} spans exported",
        )
    ]
