"""Lease writes the server applied but whose answer never came, against a real nats-server.

The server is paused (SIGSTOP) while a write is waiting for its answer and the waiting task is
cancelled, as a stopping service cancels its lease keeper mid-renewal; resumed, the server applies
the write. Before the fix, the holder's revision was then stale: its next renewal was refused as if
another replica held the key (a lost lease, then a wait of a whole TTL), and its release was refused
(BadRequestError, err_code 10071), so the next holder waited the TTL out too.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid

import nats
import nats.js.errors
import pytest

from mignet_runtime.lease import Lease
from mignet_runtime.localstack import start_nats
from mignet_runtime.provision import provision_lease_bucket
from mignet_runtime.settings import Settings

TTL = 3


@pytest.fixture
async def paused_nats(tmp_path):
    """A nats-server of our own (so it can be paused), and a connection to it."""
    proc, url = start_nats(tmp_path / "nats", log_path=tmp_path / "nats.log")
    conn = await nats.connect(url)
    yield proc, conn
    os.kill(proc.pid, signal.SIGCONT)
    await conn.close()
    proc.stop(5)


async def _leases(nc, n: int = 2) -> list[Lease]:
    service = "t" + uuid.uuid4().hex[:10]
    await provision_lease_bucket(nc.jetstream(), service, Settings(lease_seconds=TTL))
    return [await Lease.open(nc.jetstream(), service, f"db_{service}", holder=f"replica-{i}") for i in range(n)]


async def _unanswered(proc, write) -> None:
    """Runs ``write`` while the server is paused, cancels it unanswered, and resumes the server."""
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        await _stopped(proc.pid)
        task = asyncio.create_task(write)
        await asyncio.sleep(0.3)  # sent, and waiting for the answer
        assert not task.done(), "the write was answered by a paused server"
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        os.kill(proc.pid, signal.SIGCONT)


async def _stopped(pid: int) -> None:
    """The signal is delivered asynchronously: waits until every thread of the server is stopped."""
    deadline = time.monotonic() + 5
    while any(_state(pid, t) != "T" for t in os.listdir(f"/proc/{pid}/task")):
        assert time.monotonic() < deadline, "the server did not stop"
        await asyncio.sleep(0.01)


def _state(pid: int, thread: str) -> str:
    try:
        with open(f"/proc/{pid}/task/{thread}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "T"  # a thread that has ended


async def _revision(lease: Lease) -> int:
    try:
        return (await lease.kv.get(lease.key)).revision
    except nats.js.errors.KeyNotFoundError:
        return 0


async def _applied(lease: Lease, above: int) -> None:
    """Waits until the resumed server has applied the write (the key's revision moved past ``above``)."""
    deadline = time.monotonic() + 10
    while await _revision(lease) <= above:
        assert time.monotonic() < deadline, "the resumed server never applied the write"
        await asyncio.sleep(0.05)


async def test_a_renewal_cancelled_unanswered_keeps_the_lease_and_its_release_frees_it_at_once(paused_nats):
    proc, nc = paused_nats
    a, b = await _leases(nc)
    assert await a.try_acquire()
    token = a.token
    for _ in range(2):
        stale = a.revision
        await _unanswered(proc, a.renew())
        await _applied(a, stale)
        assert a.revision == stale, "the test meant a renewal whose answer never came"
        assert await a.renew(), "a renewal of our own that went unanswered was taken for another holder"
        assert a.held() and a.token == token and a.revision > stale + 1
        assert not await b.try_acquire()
    # The stop path: the keeper cancelled mid-renewal, then the release.
    stale = a.revision
    await _unanswered(proc, a.renew())
    await _applied(a, stale)
    released = time.monotonic()
    await a.release()
    assert await b.try_acquire(), "the release after an unanswered renewal left the key to expire"
    assert time.monotonic() - released < 1
    assert b.token > token


async def test_a_create_cancelled_unanswered_is_adopted_or_released(paused_nats):
    # Fresh keys: a create over a delete marker takes two round trips, and cancelled during the first
    # it writes nothing at all.
    proc, nc = paused_nats
    a, b = await _leases(nc)
    await _unanswered(proc, a.try_acquire())
    await _applied(a, 0)
    assert a.token is None
    assert not await b.try_acquire()
    assert await a.try_acquire(), "the key our unanswered create wrote was not recognised as ours"
    adopted = a.token
    assert a.held() and adopted is not None
    assert not await b.try_acquire()
    await a.release()
    assert await b.try_acquire() and b.token is not None and b.token > adopted
    # A standby stopping with its create unanswered releases what that create wrote.
    standby, other = await _leases(nc)
    await _unanswered(proc, standby.try_acquire())
    await _applied(standby, 0)
    await standby.release()
    assert await other.try_acquire(), "a standby's unanswered create was left to expire"


async def test_the_fencing_token_counts_every_write_to_the_bucket_not_acquisitions(paused_nats):
    """Tokens are KV revisions (stream sequences): renewals raise them too, so 17 or 49 after a few
    restarts is the arithmetic of renewals every TTL/3, not acquire/lose loops."""
    _, nc = paused_nats
    a, b = await _leases(nc)
    assert await a.try_acquire()
    first = a.token
    assert first is not None
    for _ in range(3):
        assert await a.renew()
    await a.release()
    assert await b.try_acquire()
    assert b.token == first + 3 + 1 + 1  # 3 renewals, a's delete marker, then b's create
