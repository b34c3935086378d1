"""Load shedding: many concurrent clients on one query, beside a raw NATS responder.

200 clients (each with a 5 s timeout, as the CLI has) send `list-networks` back
to back for 10 s against the registry service. What counts is whether every
request gets an answer in time: answered ok, refused at once with a retry hint
(``unavailable`` + ``retry_after_ms``: the client waits that long, then goes on),
another error, or nothing before the client gave up. Replies that arrive after
their client gave up are counted too: work the service did for nobody.

The requests go through :class:`Requester` (one inbox subscription, like
nats-py's ``request()``), which keeps late replies instead of dropping them,
and which sends the deadline header exactly as :class:`MignetClient` does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from dataclasses import dataclass, field

from bench.common import ms, pct
from mignet_contracts import registry as c
from mignet_contracts.envelope import new_id
from mignet_runtime.client import MignetClient, deadline_headers

ENTITIES = ["IOM", "UNICEF", "UNHCR", "ILO", "UNDP", "OHCHR", "UNODC", "WHO", "UNDESA"]
RAW_SUBJECT = "bench.raw.list-networks"


class Requester:
    """Request-reply over one wildcard inbox; a reply after its request's timeout is counted, not lost."""

    def __init__(self, nc):
        self.nc = nc
        self._tokens = itertools.count()
        self._waiting: dict[str, asyncio.Future] = {}
        self._gave_up: set[str] = set()
        self.late = 0

    async def start(self) -> None:
        self.prefix = self.nc.new_inbox()
        self._sub = await self.nc.subscribe(f"{self.prefix}.*", cb=self._on_reply)

    async def _on_reply(self, msg) -> None:
        token = msg.subject.rsplit(".", 1)[1]
        future = self._waiting.get(token)
        if future is not None and not future.done():
            future.set_result(msg.data)
        elif token in self._gave_up:
            self._gave_up.discard(token)
            self.late += 1

    async def request(self, subject: str, data: bytes, timeout: float, headers: dict | None) -> bytes | None:
        token = str(next(self._tokens))
        future = asyncio.get_running_loop().create_future()
        self._waiting[token] = future
        try:
            await self.nc.publish(subject, data, reply=f"{self.prefix}.{token}", headers=headers)
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            self._gave_up.add(token)
            return None
        finally:
            self._waiting.pop(token, None)

    async def stop(self) -> None:
        await self._sub.unsubscribe()


@dataclass
class Load:
    seconds: float
    ok: list[float] = field(default_factory=list)
    shed: int = 0
    errors: int = 0
    timeouts: int = 0
    late: int = 0
    reply_bytes: int = 0

    @property
    def attempts(self) -> int:
        return len(self.ok) + self.shed + self.errors + self.timeouts

    def share(self, count: int) -> str:
        return f"{count / self.attempts:.0%}" if self.attempts else "-"


async def load(nc, subject: str, body: bytes, clients: int, seconds: float, timeout: float) -> Load:
    """``clients`` loops sending ``body`` back to back for ``seconds``; then waits ``timeout`` for late replies."""
    requester = Requester(nc)
    await requester.start()
    result = Load(seconds)
    end = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < end:
            started = time.perf_counter()
            data = await requester.request(subject, body, timeout, deadline_headers(timeout))
            elapsed = time.perf_counter() - started
            if data is None:
                result.timeouts += 1
            elif data.startswith(b'{"ok":true'):
                result.ok.append(elapsed)
                result.reply_bytes = len(data)
            else:
                error = json.loads(data)["error"]
                if error.get("retry_after_ms"):
                    result.shed += 1
                    # As MignetClient does: wait as told, with jitter so that refused clients do not come back together.
                    await asyncio.sleep(error["retry_after_ms"] / 1000 * random.uniform(0.5, 1.5))
                else:
                    result.errors += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    await asyncio.sleep(timeout)  # the replies still on their way
    result.late = requester.late
    await requester.stop()
    return result


async def raw_responder(nc, reply: bytes):
    """A nats-py subscription answering every request with ``reply``: the transport's own limit."""

    async def answer(msg) -> None:
        await nc.publish(msg.reply, reply)

    return await nc.subscribe(RAW_SUBJECT, queue="raw", cb=answer)


async def seed_networks(client: MignetClient, count: int) -> None:
    """``count`` regional networks with six members each, so that a page of 200 is about the issue's 194 KB."""
    found = await client.query(c.ListNetworks(limit=1))
    missing = count - found["total"]
    sem = asyncio.Semaphore(32)

    async def one(n: int) -> None:
        members = [{"entity": e, "role": "coordinator" if k == 0 else "member"} for k, e in enumerate(ENTITIES[:6])]
        async with sem:
            await client.command(
                c.CreateNetwork(
                    command_id=new_id(),
                    actor="bench",
                    scope="regional",
                    region="asia-pacific",
                    network_name=f"query bench network {n}",
                    members=members,
                )
            )

    await asyncio.gather(*(one(n) for n in range(max(0, missing))))
    deadline = time.perf_counter() + 60
    while (await client.query(c.ListNetworks(limit=1)))["total"] < count:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the networks read model did not reach {count} networks")
        await asyncio.sleep(0.1)


async def settle(client: MignetClient, timeout: float = 120) -> None:
    """Waits until the service answers a small query promptly again: the load's backlog is gone."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        reply = await client.request(c.ListNetworks.subject(), b'{"limit":1}')
        if reply.ok and time.perf_counter() - started < 0.2:
            return
        await asyncio.sleep(0.5)
    raise TimeoutError("the service did not settle after the load")


def rows(label: str, measured: Load, raw: Load | None, clients: int, timeout: float) -> list[tuple[str, ...]]:
    ok_rate = len(measured.ok) / measured.seconds
    raw_rate = len(raw.ok) / raw.seconds if raw else 0
    return [
        (
            f"queries: {label}, {clients} clients x {measured.seconds:.0f} s, answered ok/s "
            f"(reply {measured.reply_bytes / 1024:.0f} KB)",
            f"{ok_rate:,.0f}",
            f"raw request-reply/s, same reply size, {clients} clients" if raw else "",
            f"{raw_rate:,.0f}" if raw else "",
            f"{ok_rate / raw_rate:.0%}" if raw_rate else "",
        ),
        (
            f"queries: {label}, ok answers p50 / p99 (ms)",
            ms(measured.ok) if measured.ok else "-",
            "raw p50 / p99 (ms)" if raw else "",
            ms(raw.ok) if raw and raw.ok else "",
            "",
        ),
        (
            f"queries: {label}, timed out at {timeout:.0f} s / shed with a retry hint / other errors",
            f"{measured.share(measured.timeouts)} / {measured.share(measured.shed)} / {measured.share(measured.errors)}"
            f" of {measured.attempts:,}",
            "",
            "",
            "",
        ),
        (f"queries: {label}, replies sent after the client gave up", f"{measured.late:,}", "", "", ""),
    ]


async def live(
    nc,
    client: MignetClient,
    clients: int,
    seconds: float,
    networks: int,
    limits: list[int | None],
    timeout: float = 5.0,
) -> list[tuple[str, ...]]:
    await seed_networks(client, networks)
    out: list[tuple[str, ...]] = []
    for limit in limits:
        await settle(client)
        body = json.dumps({} if limit is None else {"limit": limit}).encode()
        # The page the raw responder answers with, asked for while the service is idle.
        page = await client.request(c.ListNetworks.subject(), body)
        if not page.ok:
            raise RuntimeError(f"list-networks failed before the load: {page.error}")
        measured = await load(nc, c.ListNetworks.subject(), body, clients, seconds, timeout)
        await settle(client)
        raw_sub = await raw_responder(nc, page.model_dump_json().encode())
        try:
            raw = await load(nc, RAW_SUBJECT, body, clients, seconds, timeout)
        finally:
            await raw_sub.unsubscribe()
        label = "list-networks default page" if limit is None else f"list-networks limit={limit}"
        out += rows(f"{label} ({len(page.result['items'])} networks)", measured, raw, clients, timeout)
    return out


__all__ = ["live", "load", "pct"]
