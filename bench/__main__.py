"""`python -m bench` (or `make bench`): run the benchmarks and print one table.

Every figure stands beside the raw limit measured in the same run, because
these machines are noisy: compare ratios, not absolute numbers. `--quick`
runs smaller sizes in about a minute; `--record` appends the table to
docs/benchmarks.md (record full-size runs only). `--only queries` runs the
load-shedding benchmark alone (200 clients on `list-networks`); `--only peers` the
workload peers publish (members added to existing networks at random, sequential
create then join, CPU per command of each process); `--services-from
DIR` runs the services from another checkout (a before/after comparison).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import nats
from pymongo import AsyncMongoClient

from bench import instrumentation, notifier, peers_report, queries, registry, reviews
from bench.stack import SYNC_CHOICES, Stack, wait_healthy
from mignet_runtime.client import MignetClient
from mignet_runtime.localstack import free_port

RECORD = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
FULL = {
    "per_client": 100,
    "aggregates": 5000,
    "events_per_aggregate": 10,
    "rate": 200,
    "seconds": 10.0,
    "review_rate": 20.0,
    "notifier_events": 2000,
    "networks": 5000,
    "sequential": 500,
}
QUICK = {**FULL, "per_client": 40, "aggregates": 2000, "seconds": 5.0, "networks": 1000, "sequential": 200}
#: The load-shedding benchmark: clients on list-networks, for how long, over how many networks.
QUERY_LOAD = {"query_clients": 200, "query_seconds": 10.0, "query_networks": 250}


def render(rows: list[tuple], argv: list[str], elapsed: float) -> str:
    lines = [
        f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "",
        f"Command: `python -m bench {shlex.join(argv)}` ({elapsed:.0f} s)",
        "",
        "| measured | mignet | raw limit, same run | raw | ratio / target |",
        "|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


async def run_queries(args: argparse.Namespace) -> list[tuple]:
    stack = Stack(args.services_from, args.sync, args.cluster)
    stack.start_servers()
    try:
        registry_process = stack.service("registry")
        nc = await nats.connect(stack.client_urls)
        client = MignetClient(nc, timeout=30)
        await wait_healthy(client, "registry", registry_process)
        # The default page, then the page of 200 explicitly (the old default).
        rows = await queries.live(nc, client, args.query_clients, args.query_seconds, args.query_networks, [None, 200])
        registry_process.stop(10)
        await nc.drain()
        return rows
    finally:
        stack.stop()


async def wait_replicas(client: MignetClient, service: str, processes: list) -> None:
    """Until every replica answers: with two, one holds the projection lease and the other stands by."""
    for process in processes:
        await wait_healthy(client, service, process)
    if len(processes) == 2:
        for _ in range(600):
            answers = {(await client.admin(service, "health"))["projections"] for _ in range(8)}
            if answers == {"running", "standby"}:
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"the second {service} replica never answered")


async def run_notifier(args: argparse.Namespace) -> list[tuple]:
    stack = Stack(args.services_from)
    stack.start_servers()
    try:
        process = stack.service("notifier", notifier.ENV)
        nc = await nats.connect(stack.client_urls)
        client = MignetClient(nc, timeout=30)
        await wait_healthy(client, "notifier", process)
        rows = await notifier.live(nc, client, args.notifier_events, 100.0, args.seconds)
        process.stop(10)
        await nc.drain()
        return rows
    finally:
        stack.stop()


async def run(args: argparse.Namespace) -> list[tuple]:
    stack = Stack(args.services_from, args.sync, args.cluster)
    stack.start_servers()
    try:
        registries = [stack.service("registry") for _ in range(args.replicas)]
        nc = await nats.connect(stack.client_urls)
        client = MignetClient(nc, timeout=30)
        mongo: AsyncMongoClient = AsyncMongoClient(stack.mongo_url)
        await wait_replicas(client, "registry", registries)
        rows = await registry.live(
            nc, client, mongo, stack.database("registry"), args.per_client, args.rate, args.seconds
        )
        # Started only now, so that its mirror of the registry does not share the CPU with the registry's figures.
        reviewers = [stack.service("reviews") for _ in range(args.replicas)]
        await wait_replicas(client, "reviews", reviewers)
        rows += await reviews.live(
            nc,
            client,
            mongo,
            stack.database("reviews"),
            f"http://127.0.0.1:{stack.http_port}",
            args.per_client,
            args.review_rate,
            args.seconds,
            cpu_of={
                **stack.nats_pids(),
                **{f"reviews-{i + 1}" if len(reviewers) > 1 else "reviews": p.pid for i, p in enumerate(reviewers)},
            },
        )
        for process in reviewers + registries:
            process.stop(10)  # the catch-up is measured alone, in this process
        rows += await registry.catch_up_rows(nc, mongo, args.aggregates, args.events_per_aggregate)
        await mongo.close()
        await nc.drain()
        return rows
    finally:
        stack.stop()


async def run_peers(args: argparse.Namespace) -> list[tuple]:
    stack = Stack(args.services_from, args.sync, args.cluster)
    stack.start_servers()
    try:
        admin_ports = [free_port() for _ in range(args.replicas)]
        registries = [stack.service("registry", {"MIGNET_ADMIN_PORT": str(port)}) for port in admin_ports]
        nc = await nats.connect(stack.client_urls)
        client = MignetClient(nc, timeout=30)
        mongo: AsyncMongoClient = AsyncMongoClient(stack.mongo_url)
        await wait_replicas(client, "registry", registries)
        pids = {
            **{f"registry-{i + 1}" if len(registries) > 1 else "registry": p.pid for i, p in enumerate(registries)},
            **stack.nats_pids(),
            "SecantusDB": stack.mongo_process.pid if stack.mongo_process else None,
            "bench client": os.getpid(),
        }
        rows = await peers_report.live(
            nc,
            client,
            mongo[stack.database("registry")],
            {name: pid for name, pid in pids.items() if pid is not None},
            [f"http://127.0.0.1:{port}" for port in admin_ports],
            {"networks": args.networks, "per_client": args.per_client, "sequential": args.sequential},
        )
        for process in registries:
            process.stop(10)
        await mongo.close()
        await nc.drain()
        return rows
    finally:
        stack.stop()


async def run_instrumentation(args: argparse.Namespace) -> list[tuple]:
    stack = Stack(args.services_from)
    stack.start_servers()
    try:
        return await instrumentation.compare(stack, args.per_client, args.rounds)
    finally:
        stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"smaller sizes, about a minute: {QUICK}")
    parser.add_argument("--per-client", type=int, help="commands per client, 32 clients (100)")
    parser.add_argument("--aggregates", type=int, help="networks in the catch-up stream (5000)")
    parser.add_argument("--events-per-aggregate", type=int, help="events per catch-up network (10)")
    parser.add_argument("--rate", type=int, help="registry commands/s for the visibility latency (200)")
    parser.add_argument("--review-rate", type=float, help="contributions/s for the page latency (20)")
    parser.add_argument("--seconds", type=float, help="how long each steady-rate latency runs (10)")
    parser.add_argument(
        "--only",
        choices=("all", "commands", "queries", "instrumentation", "notifier", "peers"),
        default="all",
        help="commands: the command and projection rows; queries: the load-shedding rows; instrumentation: "
        "commands/s with metrics and traces off and on, alternating; notifier: the webhook rows; peers: the "
        "peers' workload (members added at random, sequential create then join, CPU per command); all: every one",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each kind for --only instrumentation (3)")
    parser.add_argument("--notifier-events", type=int, help="events in the webhook throughput burst (2000)")
    parser.add_argument("--networks", type=int, help="existing networks the peers' workload adds members to (5000)")
    parser.add_argument("--sequential", type=int, help="create-then-join pairs, one client, for --only peers (500)")
    parser.add_argument("--query-clients", type=int, help="concurrent list-networks clients (200)")
    parser.add_argument("--query-seconds", type=float, help="how long they send (10)")
    parser.add_argument("--query-networks", type=int, help="networks in the registry for them to list (250)")
    parser.add_argument(
        "--services-from",
        metavar="DIR",
        help="run the services from this checkout of mignet (e.g. `git archive` of an older commit)",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        choices=(1, 2),
        default=1,
        help="registry and reviews replicas serving commands at once (one NATS queue group each)",
    )
    parser.add_argument(
        "--sync",
        choices=SYNC_CHOICES,
        default="default",
        help="nats-server's JetStream fsync: its default (every 2 minutes) or always (every write)",
    )
    parser.add_argument(
        "--cluster",
        type=int,
        default=0,
        metavar="N",
        help="N (3 or more) clustered nats-servers on loopback, streams with 3 replicas (default: one server)",
    )
    parser.add_argument("--record", action="store_true", help=f"append the table to {RECORD}")
    args = parser.parse_args()
    if args.cluster and args.cluster < 3:
        parser.error("--cluster needs 3 or more nodes")
    for name, value in {**(QUICK if args.quick else FULL), **QUERY_LOAD}.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    started = time.perf_counter()
    rows = asyncio.run(run(args)) if args.only in ("all", "commands") else []
    if args.only in ("all", "queries"):
        rows += asyncio.run(run_queries(args))
    if args.only in ("all", "peers"):
        rows += asyncio.run(run_peers(args))
    if args.only in ("all", "instrumentation"):
        rows += asyncio.run(run_instrumentation(args))
    if args.only in ("all", "notifier"):
        rows += asyncio.run(run_notifier(args))
    table = render(rows, sys.argv[1:], time.perf_counter() - started)
    print(table)
    if args.record:
        with RECORD.open("a") as out:
            out.write("\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
