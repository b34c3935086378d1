"""What the benchmarks share: percentiles, concurrent clients, the raw limits, a tiny HTTP client."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from nats.js.api import StorageType, StreamConfig

CLIENTS = 32


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ms(values: list[float]) -> str:
    """``p50 / p99`` in milliseconds."""
    return f"{pct(values, 50) * 1000:.1f} / {pct(values, 99) * 1000:.1f}"


@dataclass(frozen=True)
class Rate:
    per_second: float
    latencies: list[float]


async def concurrently(clients: int, per_client: int, one) -> Rate:
    """``clients`` loops each awaiting ``one(client, i)`` ``per_client`` times, back to back."""
    latencies: list[float] = []

    async def worker(w: int) -> None:
        for i in range(per_client):
            started = time.perf_counter()
            await one(w, i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*[worker(w) for w in range(clients)])
    return Rate(len(latencies) / (time.perf_counter() - started), latencies)


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU a process has used so far (Linux /proc), whatever else shares the machine."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


async def raw_stream(js, batch: int = 0) -> StreamConfig:
    """A throwaway stream with as many replicas as mignet's own (3 on a cluster): the same work per publish."""
    name = f"RAWBENCH{uuid.uuid4().hex[:8].upper()}"
    replicas = (await js.stream_info("REGISTRY")).config.num_replicas or 1
    return StreamConfig(
        name=name,
        subjects=[f"{name.lower()}.>"],
        storage=StorageType.FILE,
        allow_atomic=bool(batch),
        num_replicas=replicas,
    )


async def raw_publish(nc, per_client: int, batch: int = 0, clients: int = CLIENTS) -> Rate:
    """JetStream publishes with a message id, 32 publishers (or ``clients``), from the client the benchmarks use.

    The stream has the replicas of the ``REGISTRY`` stream. With ``batch``, each publish is an atomic
    batch of that many messages, as a command writing several events is (the commit is the one
    acknowledged message).
    """
    js = nc.jetstream()
    config = await raw_stream(js, batch)
    stream = config.name or ""
    subject = stream.lower()
    await js.add_stream(config)
    payload = b'{"occurred_on":"2026-01-01","network_id":"reg-000000000000","scope":"regional"}'

    async def one(w: int, i: int) -> None:
        await js.publish(f"{subject}.{w}.{i}", payload, headers={"Nats-Msg-Id": uuid.uuid4().hex})

    async def atomic(w: int, i: int) -> None:
        batch_id = uuid.uuid4().hex
        for k in range(1, batch + 1):
            headers = {"Nats-Msg-Id": uuid.uuid4().hex, "Nats-Batch-Id": batch_id, "Nats-Batch-Sequence": str(k)}
            if k < batch:
                await nc.publish(f"{subject}.{w}.{i}", payload, headers=headers)
            else:
                # nats-py's default request timeout (0.5 s) is shorter than a loaded machine's commit.
                reply = await nc.request(
                    f"{subject}.{w}.{i}", payload, headers={**headers, "Nats-Batch-Commit": "1"}, timeout=30
                )
                if b'"error"' in reply.data:
                    raise RuntimeError(reply.data.decode())

    try:
        return await concurrently(clients, per_client, atomic if batch else one)
    finally:
        await js.delete_stream(stream)


async def projection_at(db, projection: str) -> int:
    """The projection's checkpoint: every event up to it is in the read model."""
    return ((await db["_projections"].find_one({"_id": projection})) or {"seq": 0})["seq"]


async def caught_up(nc, stream: str, db, projection: str, timeout: float = 300) -> float:
    """Waits until ``projection`` covers the stream's last event (the last events must be its own);
    returns how long that took."""
    started = time.perf_counter()
    last = (await nc.jetstream().stream_info(stream)).state.last_seq
    while await projection_at(db, projection) < last:
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"projection {projection} did not reach {stream} #{last} in {timeout:.0f}s")
        await asyncio.sleep(0.01)
    return time.perf_counter() - started


class HttpClient:
    """One keep-alive HTTP/1.1 connection, GET only: enough to poll the public pages."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self._connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self._connection is None:
            self._connection = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._connection
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int({k.lower(): v for k, v in headers.items()}.get("content-length", 0))
        return status, await reader.readexactly(length)

    async def close(self) -> None:
        if self._connection is not None:
            _, writer = self._connection
            self._connection = None  # the next get() connects afresh
            writer.close()
            await writer.wait_closed()


async def wait_serving(http: HttpClient, path: str, timeout: float = 30) -> None:
    deadline = time.perf_counter() + timeout
    while True:
        try:
            if (await http.get(path))[0] == 200:
                return
        except OSError:
            await http.close()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"nothing serves {path} on {http.host}:{http.port}")
        await asyncio.sleep(0.1)


async def raw_get_latency(http: HttpClient, path: str, count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        status, _ = await http.get(path)
        latencies.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
    return latencies
