"""Notifier benchmarks, each beside the raw limit measured in the same run.

* Webhook deliveries/s to a local receiver, from events appended to REGISTRY to
  2xx answers (consumption, outbox, expansion, claim, signed POST, record),
  beside a raw ``httpx`` POST loop with the same concurrency to the same
  receiver, same body size.
* Event appended -> webhook received, p50 / p99, at a steady 100 events/s.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from bench.common import pct
from mignet_contracts import notifier as c
from mignet_contracts import registry as r
from mignet_contracts.envelope import new_id
from mignet_registry.domain import NETWORK
from mignet_runtime.client import MignetClient
from mignet_runtime.codec import EventCodec, Metadata
from mignet_runtime.eventstore import EventStore

CONCURRENCY = 32
#: What `Stack.service("notifier")` needs beyond the common environment.
ENV = {
    "MIGNET_NOTIFIER_SECRET_KEY": "bench-notifier-secret-key-0123456789",
    "MIGNET_NOTIFIER_ALLOW_PRIVATE": "127.0.0.1",
    "MIGNET_NOTIFIER_CONCURRENCY": str(CONCURRENCY),
}


class Receiver:
    """A keep-alive HTTP/1.1 receiver answering 204, noting when each event (by its subject) arrived."""

    def __init__(self):
        self.arrived: dict[str, float] = {}
        self.count = 0

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"

    async def _serve(self, reader, writer) -> None:
        try:
            while await reader.readline():
                length = 0
                while (header := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = header.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                self.count += 1
                if b'"subject":"' in body:
                    subject = body.split(b'"subject":"', 1)[1].split(b'"', 1)[0].decode()
                    self.arrived.setdefault(subject, time.perf_counter())
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        self.server.close()


def network_created(n: int, tag: str) -> r.NetworkCreated:
    return r.NetworkCreated(
        network_id=r.regional_network_id(f"{tag}-{n}"),
        scope="regional",
        region="africa",
        network_name=f"Benchmark network {n}",
        status="being-established",
        occurred_on="2026-12-01",
    )


async def append(store: EventStore, event: r.NetworkCreated) -> None:
    await store.append(NETWORK, event.network_id, [event], 0, Metadata(command_id=new_id(), actor="bench"))


async def subscribe(client: MignetClient, url: str) -> str:
    cmd = c.CreateSubscription(
        command_id=new_id(),
        actor="bench",
        title="bench",
        channel="webhook",
        url=url,
        event_types=[r.NetworkCreated.ce_type()],
    )
    reply = MignetClient._unwrap(await client.request(cmd.subject(), cmd))
    sid = reply["aggregate_id"]
    while True:
        found = await client.query(c.ListSubscriptions(status="active"))
        if sid in [s["subscription_id"] for s in found["items"]]:
            return sid
        await asyncio.sleep(0.05)


async def raw_posts(url: str, count: int, body: bytes) -> float:
    """Deliveries/s of a bare httpx POST loop, CONCURRENCY at a time."""
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CONCURRENCY)) as http:
        queue = iter(range(count))

        async def worker() -> None:
            for _ in queue:
                response = await http.post(url, content=body, headers={"content-type": "application/json"})
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(CONCURRENCY)])
        return count / (time.perf_counter() - started)


async def wait_for(receiver: Receiver, subjects: list[str], timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while not all(s in receiver.arrived for s in subjects):
        if time.perf_counter() > deadline:
            missing = sum(s not in receiver.arrived for s in subjects)
            raise TimeoutError(f"{missing} of {len(subjects)} webhooks did not arrive in {timeout:.0f}s")
        await asyncio.sleep(0.01)


async def steady(store: EventStore, receiver: Receiver, rate: float, seconds: float) -> list[float]:
    sent: dict[str, float] = {}
    events = [network_created(n, f"steady{rate:g}") for n in range(int(rate * seconds))]
    begin = time.perf_counter()
    tasks = []
    for n, event in enumerate(events):
        delay = begin + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent[event.network_id] = time.perf_counter()
        tasks.append(asyncio.create_task(append(store, event)))
    await asyncio.gather(*tasks)
    await wait_for(receiver, list(sent), timeout=300)
    return [receiver.arrived[s] - t for s, t in sent.items()]


async def live(nc, client: MignetClient, events: int, rate: float, seconds: float) -> list[tuple]:
    store = EventStore(nc, r.SERVICE, EventCodec(r.REGISTRY_EVENTS))
    receiver = Receiver()
    url = await receiver.start()
    try:
        await subscribe(client, url)
        # Throughput: a burst appended at once, until every webhook arrived.
        burst = [network_created(n, "burst") for n in range(events)]
        started = time.perf_counter()
        for first in range(0, events, 100):
            await asyncio.gather(*(append(store, e) for e in burst[first : first + 100]))
        await wait_for(receiver, [e.network_id for e in burst], timeout=600)
        mignet_rate = events / (time.perf_counter() - started)
        event = burst[0]
        # The same shape and size as a delivery's body (CloudEvents structured mode).
        sample = (
            c.WebhookCloudEvent(
                id=new_id(),
                type=event.ce_type(),
                source="/mignet/registry",
                subject=event.network_id,
                time="2026-12-01T00:00:00Z",
                dataschema=event.dataschema(),
                correlationid=new_id(),
                data=event.model_dump(mode="json"),
            )
            .model_dump_json()
            .encode()
        )
        raw_rate = await raw_posts(url, events, sample)

        # Latency at a steady rate (the 100/s, and one this machine sustains): appended on schedule,
        # each timed to its arrival.
        latencies: dict[float, list[float]] = {}
        for steady_rate in (rate, rate / 5):
            latencies[steady_rate] = await steady(store, receiver, steady_rate, seconds)
    finally:
        await receiver.stop()
    rows = [
        (
            f"notifier: webhook deliveries/s, {events} events appended at once, 1 subscription, {CONCURRENCY} at a time",
            f"{mignet_rate:,.0f}",
            f"raw httpx POST/s, same receiver, {CONCURRENCY} at a time",
            f"{raw_rate:,.0f}",
            f"{mignet_rate / raw_rate:.0%} (target >= 50%)",
        ),
    ]
    for steady_rate, values in latencies.items():
        p50, p99 = pct(values, 50) * 1000, pct(values, 99) * 1000
        rows.append(
            (
                f"notifier: event appended -> webhook received at {steady_rate:g}/s, p50 / p99 (ms)",
                f"{p50:.1f} / {p99:.1f}",
                "",
                "",
                f"p99 {'<' if p99 < 50 else '>='} 50 ms (target < 50)",
            )
        )
    return rows
