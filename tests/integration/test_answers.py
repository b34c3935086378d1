"""Every request gets an answer: oversized errors, dependency outages, and load shedding.

Against real servers: the session's SecantusDB, a nats-server of each test's own,
and for the outage a private pair whose SecantusDB is stopped and started again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time

import nats
import pytest
from conftest import RunningService, eventually
from pymongo import AsyncMongoClient

from mignet_contracts.envelope import Contract
from mignet_registry.app import SPEC as REGISTRY
from mignet_reviews.app import SPEC as REVIEWS
from mignet_runtime.client import TIMEOUT_HEADER, MignetClient
from mignet_runtime.endpoints import MAX_DETAILS, Endpoint, EndpointServer
from mignet_runtime.localstack import ManagedProcess, free_port, wait_for_port
from mignet_runtime.settings import Settings


class Ping(Contract):
    n: int = 0


@pytest.fixture
async def registry(fresh_nats, settings_for):
    async with RunningService(REGISTRY, settings_for(fresh_nats)) as service:
        yield service


@pytest.fixture
async def reviews(fresh_nats, settings_for):
    # Commands and queries only: the validation under test happens before any handler runs.
    async with RunningService(REVIEWS, settings_for(fresh_nats, role="commands")) as service:
        yield service


async def timed(client: MignetClient, subject: str, body: bytes):
    started = time.monotonic()
    reply = await client.request(subject, body)
    return reply, time.monotonic() - started


# --- every request gets an answer ------------------------------------------------------------


async def test_a_30kb_submission_with_10000_objectives_is_answered_within_a_second(reviews):
    body = json.dumps(
        {
            "actor": "test",
            "review_id": "asia-pacific-2024-2025",
            "contributor": {"kind": "member-state", "country": "BD"},
            "level": "national",
            "title": "t",
            "summary": "s",
            "language": "en",
            "objectives": [0] * 10000,
        }
    ).encode()
    assert len(body) > 30_000
    reply, elapsed = await timed(reviews.client, "reviews.commands.submit-contribution", body)
    assert elapsed < 1.0
    assert reply.error.code == "validation_error"
    # Refused by count: one error for the array, not one per element.
    assert [d.message for d in reply.error.details if d.field == "objectives"] == ["at most 23 items, not 10000"]
    assert await reviews.runtime.store.last_seq() == 0


async def test_20000_unknown_fields_are_refused_with_a_short_answer(registry):
    body = json.dumps({"actor": "test", **{f"k{i}": 0 for i in range(20000)}}).encode()
    reply, elapsed = await timed(registry.client, "registry.commands.create-network", body)
    assert elapsed < 1.0
    assert reply.error.code == "validation_error"
    assert "20,001 fields" in reply.error.message
    assert [d.field for d in reply.error.details[:3]] == ["k0", "k1", "k2"]
    assert len(reply.error.details) == MAX_DETAILS
    assert reply.error.details[-1].message == f"and {20000 - MAX_DETAILS + 1:,} more unknown fields"
    assert len(reply.model_dump_json()) < 5_000
    assert await registry.runtime.store.last_seq() == 0


async def test_out_of_range_paging_is_a_validation_error_not_internal(registry):
    for body in ({"offset": 2**63}, {"offset": 100_001}, {"limit": 201}):
        reply, _ = await timed(registry.client, "registry.queries.list-networks", json.dumps(body).encode())
        assert reply.error.code == "validation_error", body
        assert reply.error.details[0].field == next(iter(body))


async def test_a_reply_too_large_for_nats_is_replaced_by_a_short_error(fresh_nats):
    nc = await nats.connect(fresh_nats)
    server = EndpointServer(workers=2)

    async def huge(_: Ping) -> dict:
        return {"items": ["x" * 1000] * (nc.max_payload // 1000 + 1)}

    server.add(Endpoint("test.huge", "test", Ping, huge))
    await server.start(nc)
    try:
        reply = await MignetClient(nc, timeout=5).request("test.huge", b"{}")
        assert not reply.ok
        assert reply.error.code == "internal"
        assert "larger than a NATS message" in reply.error.message
    finally:
        await server.stop(5)
        await nc.drain()


# --- unavailable when MongoDB is down ------------------------------------------------------------


async def test_queries_and_health_answer_unavailable_fast_while_mongodb_is_down(spawn_servers, db_prefix, caplog):
    pair = spawn_servers()
    settings = Settings(
        nats_url=pair.nats_url, mongodb_url=pair.mongodb_url, db_prefix=db_prefix, startup_timeout=20, role="commands"
    )
    caplog.set_level(logging.INFO)
    async with RunningService(REGISTRY, settings) as service:
        client = MignetClient(service.nc, timeout=10)
        assert (await client.request("registry.queries.list-networks", b"{}")).ok
        pair.mongo.stop()
        try:
            requests = [
                ("registry.queries.list-networks", b"{}"),
                ("registry.queries.get-network", b'{"network_id":"global"}'),
                ("registry.queries.list-champions", b"{}"),
                ("registry.admin.health", b"{}"),
            ] * 3
            answers = await asyncio.gather(*(timed(client, subject, body) for subject, body in requests))
            for (subject, _), (reply, elapsed) in zip(requests, answers, strict=True):
                assert reply.error is not None and reply.error.code == "unavailable", (subject, reply)
                assert elapsed < 2.5, (subject, elapsed)
        finally:
            pair.mongo.start()
        await eventually(lambda: _ok(client), timeout=30, interval=0.2)
        await eventually(lambda: _logged(caplog, logging.INFO, "MongoDB is back"), timeout=30, interval=0.2)
    mignet = [r for r in caplog.records if r.name.startswith("mignet")]
    assert [r.levelname for r in mignet if "MongoDB is unavailable" in r.getMessage()] == ["WARNING"]
    assert not [r for r in mignet if r.levelno >= logging.ERROR or r.exc_info], "no traceback per request"


async def _ok(client: MignetClient) -> bool:
    return (await client.request("registry.admin.health", b"{}")).ok


async def _logged(caplog, level: int, text: str) -> bool:
    return any(r.levelno == level and text in r.getMessage() for r in caplog.records)


@pytest.fixture
def mongo_with_failpoints(tmp_path):
    """A SecantusDB of this test's own that accepts configureFailPoint (off by default, as in mongod)."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "secantus",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--storage-path",
        str(tmp_path / "mongo"),
        "--enable-test-commands",
    ]
    proc = ManagedProcess("secantus", argv, log_path=tmp_path / "secantus.log").start()
    try:
        wait_for_port("127.0.0.1", port, 60, proc)
        yield f"mongodb://127.0.0.1:{port}"
    finally:
        proc.stop(10)


async def test_a_query_against_a_hung_mongodb_is_answered_before_its_client_gives_up(
    fresh_nats, mongo_with_failpoints, db_prefix, caplog
):
    settings = Settings(
        nats_url=fresh_nats, mongodb_url=mongo_with_failpoints, db_prefix=db_prefix, startup_timeout=20, role="commands"
    )
    caplog.set_level(logging.INFO)
    admin = AsyncMongoClient(mongo_with_failpoints)
    async with RunningService(REGISTRY, settings) as service:
        client = MignetClient(service.nc, timeout=2)
        assert (await client.request("registry.queries.list-networks", b"{}")).ok
        # MongoDB takes the connection but does not answer reads for 20 s: not down, hung.
        await admin.admin.command(
            {
                "configureFailPoint": "failCommand",
                "mode": "alwaysOn",
                "data": {
                    "failCommands": ["find", "aggregate", "count"],
                    "blockConnection": True,
                    "blockTimeMS": 20_000,
                },
            }
        )
        try:
            reply, elapsed = await timed(client, "registry.queries.list-networks", b"{}")
            assert reply.error.code == "unavailable" and "in time" in reply.error.message, reply
            assert elapsed < 2.0
            # The worker is free again at once, not held for the 20 s the database stalls.
            lane = service.built.endpoints.lanes["registry.queries.list-networks"]
            assert lane.active == 0
        finally:
            await admin.admin.command({"configureFailPoint": "failCommand", "mode": "off"})
            await admin.close()
        assert (await MignetClient(service.nc, timeout=30).request("registry.queries.list-networks", b"{}")).ok
    assert not [r for r in caplog.records if "MongoDB is unavailable" in r.getMessage()], "slow is not an outage"


# --- load shedding -------------------------------------------------------------------------------


class Gate:
    """A handler that holds every request until released, counting the ones it started."""

    def __init__(self):
        self.started = 0
        self.open = asyncio.Event()

    async def __call__(self, request: Ping) -> dict:
        self.started += 1
        await self.open.wait()
        return {"n": request.n}


@pytest.fixture
async def gated(fresh_nats):
    nc = await nats.connect(fresh_nats)
    gate = Gate()
    server = EndpointServer(workers=1, queue_limit=2)
    server.add(Endpoint("test.gated", "test", Ping, gate))
    await server.start(nc)
    yield nc, gate, server.lanes["test.gated"]
    gate.open.set()
    await server.stop(5)
    await nc.drain()


async def test_a_full_queue_is_refused_at_once_with_a_retry_hint(gated):
    nc, gate, lane = gated
    client = MignetClient(nc, timeout=10)
    accepted = [asyncio.create_task(client.request("test.gated", json.dumps({"n": n}).encode())) for n in range(3)]
    await eventually(lambda: _true(gate.started == 1 and len(lane.waiting) == 2))
    busy = MignetClient(nc, timeout=10, retry_busy=False)
    reply, elapsed = await timed(busy, "test.gated", b'{"n":3}')
    assert elapsed < 1.0
    assert reply.error.code == "unavailable"
    assert reply.error.retry_after_ms >= 10
    assert "busy" in reply.error.message
    gate.open.set()
    assert [r.result for r in await asyncio.gather(*accepted)] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert gate.started == 3


async def test_a_client_retries_a_busy_refusal_within_its_timeout(gated):
    nc, gate, lane = gated
    client = MignetClient(nc, timeout=10)
    first = [asyncio.create_task(client.request("test.gated", b"{}")) for _ in range(3)]
    await eventually(lambda: _true(len(lane.waiting) == 2))
    retried = asyncio.create_task(client.request("test.gated", b'{"n":9}'))
    await eventually(lambda: _true(lane.shed >= 1))
    gate.open.set()
    assert (await retried).result == {"n": 9}
    await asyncio.gather(*first)


async def test_requests_whose_client_gave_up_are_dropped_before_they_start(gated):
    nc, gate, lane = gated
    holder = asyncio.create_task(MignetClient(nc, timeout=10).request("test.gated", b"{}"))
    await eventually(lambda: _true(gate.started == 1))
    impatient = await MignetClient(nc, timeout=0.3).request("test.gated", b'{"n":1}')  # waits in the queue
    assert impatient.error.code == "unavailable" and "no answer" in impatient.error.message
    # No deadline header: the service cannot know, so it is served.
    patient = asyncio.create_task(nc.request("test.gated", b'{"n":2}', timeout=10))
    await eventually(lambda: _true(len(lane.waiting) == 2))
    gate.open.set()
    await holder
    assert json.loads((await patient).data)["result"] == {"n": 2}
    assert gate.started == 2
    assert lane.expired == 1


@pytest.mark.parametrize("max_wait, timeout", [(10, 0.3), (0.2, 10)], ids=["past-its-deadline", "past-max-wait"])
async def test_a_request_that_could_only_be_answered_too_late_is_refused_at_once(fresh_nats, max_wait, timeout):
    nc = await nats.connect(fresh_nats)
    server = EndpointServer(workers=1, queue_limit=10, max_wait=max_wait)

    async def slow(request: Ping) -> dict:
        await asyncio.sleep(request.n / 1000)
        return {"n": request.n}

    server.add(Endpoint("test.slow", "test", Ping, slow))
    await server.start(nc)
    try:
        client = MignetClient(nc, timeout=10, retry_busy=False)
        assert (await client.request("test.slow", b'{"n":400}')).ok  # the endpoint learns its pace
        busy = asyncio.create_task(client.request("test.slow", b'{"n":400}'))
        await eventually(lambda: _true(server.lanes["test.slow"].active == 1))
        # 0.4 s until the worker is free, then 0.4 s of work: a 0.3 s client cannot be answered in time,
        # and a 10 s one would wait longer than a max_wait of 0.2 s.
        reply = await MignetClient(nc, timeout=timeout, retry_busy=False).request("test.slow", b'{"n":400}')
        assert reply.error.code == "unavailable" and reply.error.retry_after_ms, reply
        assert (await busy).ok
        if max_wait > 1:  # a client with time to wait is queued and served
            queued = asyncio.create_task(client.request("test.slow", b'{"n":400}'))
            await eventually(lambda: _true(server.lanes["test.slow"].active == 1))
            assert (await client.request("test.slow", b'{"n":1}')).result == {"n": 1}
            assert (await queued).ok
    finally:
        await server.stop(5)
        await nc.drain()


async def test_a_queued_request_that_can_no_longer_be_answered_in_time_is_refused_not_started(fresh_nats):
    nc = await nats.connect(fresh_nats)
    server = EndpointServer(workers=1, queue_limit=10, max_wait=10)
    started: list[int] = []

    async def slow(request: Ping) -> dict:
        started.append(request.n)
        await asyncio.sleep(request.n / 1000)
        return {"n": request.n}

    server.add(Endpoint("test.slow", "test", Ping, slow))
    await server.start(nc)
    try:
        client = MignetClient(nc, timeout=10, retry_busy=False)
        assert (await client.request("test.slow", b'{"n":500}')).ok  # pace: 0.5 s a request
        running = asyncio.create_task(client.request("test.slow", b'{"n":500}'))
        await eventually(lambda: _true(len(started) == 2))
        longer = asyncio.create_task(client.request("test.slow", b'{"n":2000}'))  # takes 2 s, not 0.5
        await eventually(lambda: _true(len(server.lanes["test.slow"].waiting) == 1))
        # Queued with 1.5 s expected before its answer and 3 s to wait; by its turn (about 2.5 s in),
        # 0.5 s are left against a pace of 0.8 s: refused then, while its client still listens.
        late = await MignetClient(nc, timeout=3.0, retry_busy=False).request("test.slow", b'{"n":3}')
        assert late.error.code == "unavailable" and late.error.retry_after_ms, late
        assert (await running).ok and (await longer).ok
        assert 3 not in started
    finally:
        await server.stop(5)
        await nc.drain()


async def test_a_malformed_deadline_header_is_a_validation_error(gated):
    nc, gate, _ = gated
    for value in ("soon", "0", "-5", "99999999999"):
        msg = await nc.request("test.gated", b"{}", timeout=5, headers={TIMEOUT_HEADER: value})
        error = json.loads(msg.data)["error"]
        assert error["code"] == "validation_error" and TIMEOUT_HEADER in error["message"], value
    assert gate.started == 0


async def _true(value: bool) -> bool:
    return value
