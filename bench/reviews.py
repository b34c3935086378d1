"""Reviews benchmarks, each beside the raw limit measured in the same run.

Contribution submission throughput (32 clients, beside raw JetStream
publishes: a submission writes one event, its contact sealed in it; and beside
raw atomic batches of two messages, what a submission wrote before the contact
was encrypted, docs/privacy.md), and submit -> publish -> visible on the public page
``/contributions/<id>``, polled with one HTTP client, beside that client's
latency for ``/healthz`` (one HTTP round trip and a MongoDB ping).
"""

from __future__ import annotations

import asyncio
import time

from bench.common import (
    CLIENTS,
    HttpClient,
    Rate,
    caught_up,
    concurrently,
    cpu_seconds,
    ms,
    raw_get_latency,
    raw_publish,
    wait_serving,
)
from mignet_contracts import reviews as c
from mignet_contracts.envelope import new_id
from mignet_reviews.projections import CONTRIBUTIONS
from mignet_reviews.registry_mirror import NETWORKS as MIRRORED_NETWORKS
from mignet_runtime.client import MignetClient

ACTOR = "bench"
REGION, CYCLE = "asia-pacific", "2024-2025"
MEMBER_STATE = {"kind": "member-state", "country": "BD"}


async def open_review(client: MignetClient) -> str:
    scheduled = await client.command(
        c.ScheduleReview(
            command_id=new_id(),
            actor=ACTOR,
            region=REGION,
            cycle=CYCLE,
            meeting_start="2025-02-04",
            meeting_end="2025-02-06",
            venue="Bangkok",
            occurred_on="2024-08-01",
        )
    )
    await client.command(
        c.OpenReview(command_id=new_id(), actor=ACTOR, review_id=scheduled.aggregate_id, occurred_on="2024-10-01")
    )
    return scheduled.aggregate_id


def submission(review_id: str, n: int) -> c.SubmitContribution:
    return c.SubmitContribution(
        command_id=new_id(),
        actor=ACTOR,
        review_id=review_id,
        contributor=MEMBER_STATE,
        level="national",
        title=f"National review of GCM implementation {n}",
        summary="Progress on regular pathways and data.",
        objectives=[1, 5, 23],
        language="en",
        contact={"name": "Bench Contact", "email": "bench@example.org"},
    )


async def submissions(client: MignetClient, review_id: str, per_client: int) -> Rate:
    async def one(w: int, i: int) -> None:
        await client.command(submission(review_id, w * per_client + i))

    return await concurrently(CLIENTS, per_client, one)


async def visible_on_page(
    client: MignetClient, http: HttpClient, review_id: str, rate: float, seconds: float
) -> list[float]:
    """Submit, then publish (as a moderator would at once), then poll the public page until it shows.

    Probes start at a steady rate; the one HTTP client polls the pending pages in turn.
    """
    pending: dict[str, float] = {}
    latencies: list[float] = []
    stop = asyncio.Event()
    # The pages live under a language prefix since they speak six; an older build (--services-from) has none.
    prefix = "/en" if (await http.get("/en/"))[0] == 200 else ""

    async def poll() -> None:
        while not stop.is_set() or pending:
            for contribution_id, started in list(pending.items()):
                status, _ = await http.get(f"{prefix}/contributions/{contribution_id}")
                if status == 200:
                    latencies.append(time.perf_counter() - started)
                    del pending[contribution_id]
                elif status != 404:
                    raise RuntimeError(f"{prefix}/contributions/{contribution_id} answered {status}")
            await asyncio.sleep(0.001)

    async def one(n: int) -> None:
        started = time.perf_counter()
        submitted = await client.command(submission(review_id, 1_000_000 + n))
        await client.command(
            c.PublishContribution(command_id=new_id(), actor=ACTOR, contribution_id=submitted.aggregate_id)
        )
        pending[submitted.aggregate_id] = started

    poller = asyncio.create_task(poll())
    probes = []
    started = time.perf_counter()
    for n in range(int(rate * seconds)):
        probes.append(asyncio.create_task(one(n)))
        await asyncio.sleep(max(0.0, started + (n + 1) / rate - time.perf_counter()))
    await asyncio.gather(*probes)
    stop.set()
    await asyncio.wait_for(poller, 60)
    return latencies


async def live(
    nc,
    client: MignetClient,
    mongo,
    database: str,
    base_url: str,
    per_client: int,
    rate: float,
    seconds: float,
    cpu_of: dict[str, int | None] | None = None,
) -> list[tuple[str, ...]]:
    """Against the running reviews service (and the registry it mirrors); ``cpu_of``: processes whose CPU
    per submission is measured during the burst (CPU time holds up on a shared machine, rates do not)."""
    cpu_of = cpu_of or {}
    db = mongo[database]
    # The service starts by mirroring the registry's stream: measured once that is done.
    await caught_up(nc, "REGISTRY", db, MIRRORED_NETWORKS.name)
    review_id = await open_review(client)
    raw = await raw_publish(nc, per_client)
    raw_atomic = await raw_publish(nc, per_client, batch=2)
    before = {name: cpu_seconds(pid) for name, pid in cpu_of.items()}
    burst = await submissions(client, review_id, per_client)
    per_submission = {
        name: (cpu_seconds(pid) - before[name]) * 1000 / max(1, len(burst.latencies)) for name, pid in cpu_of.items()
    }
    drained = await caught_up(nc, "REVIEWS", db, CONTRIBUTIONS.name)
    http = HttpClient(base_url)
    try:
        await wait_serving(http, "/healthz")
        raw_get = await raw_get_latency(http, "/healthz", max(100, int(rate * seconds)))
        visible = await visible_on_page(client, http, review_id, rate, seconds)
    finally:
        await http.close()
    return [
        (
            "reviews: submit-contribution/s, 32 clients",
            f"{burst.per_second:,.0f}",
            "raw JetStream publish/s, 32 publishers",
            f"{raw.per_second:,.0f}",
            f"{burst.per_second / raw.per_second:.0%}",
        ),
        (
            "reviews: the same, beside what a submission wrote before (two events)",
            f"{burst.per_second:,.0f}",
            "raw atomic 2-message batches/s, 32 publishers",
            f"{raw_atomic.per_second:,.0f}",
            f"{burst.per_second / raw_atomic.per_second:.0%}",
        ),
        ("reviews: submit p50 / p99 (ms)", ms(burst.latencies), "raw publish p50 / p99 (ms)", ms(raw.latencies), ""),
        (
            f"reviews: CPU per submission during the burst, {' / '.join(per_submission)} (ms)",
            " / ".join(f"{v:.2f}" for v in per_submission.values()),
            "",
            "",
            "",
        ),
        ("reviews: projection backlog left by the burst, drained in (s)", f"{drained:.1f}", "", "", ""),
        (
            f"reviews: submit -> publish -> visible on /contributions/<id> at {rate:g}/s, p50 / p99 (ms)",
            ms(visible),
            "raw HTTP GET /healthz p50 / p99 (ms), same client",
            ms(raw_get),
            "",
        ),
    ]
