"""A stop (SIGTERM) that comes while the service is still starting leaves no lease held behind it.

FastStream runs the shutdown hook as soon as the signal comes, alongside a start-up still under way. The
stop then found no lease keeper to cancel, released the lease the start had just acquired, and the start
went on to create the keeper, which acquired the lease again in a process about to exit: the next holder
waited out the TTL. The stop is injected at two exact points of the start, in the process, against a real
nats-server and SecantusDB.
"""

from __future__ import annotations

import asyncio

import nats
import pytest

from mignet_registry.app import SPEC
from mignet_runtime.lease import Lease
from mignet_runtime.service import ServiceRuntime


@pytest.fixture
async def runtime_and_nc(fresh_nats, settings_for):
    settings = settings_for(fresh_nats, "registry")
    nc = await nats.connect(**settings.nats_connect_options("registry"))
    runtime = ServiceRuntime(SPEC, settings)
    yield runtime, nc
    try:
        await asyncio.wait_for(runtime.stop(), 30)
    finally:
        await nc.close()


async def _nothing_held(runtime: ServiceRuntime, nc) -> None:
    assert runtime._lease_task is None, "a lease keeper outlives the stop"
    assert not runtime.holds_lease
    assert all(task.done() for task in runtime._tasks), "projections run after the stop"
    await asyncio.sleep(0.2)
    other = await Lease.open(nc.jetstream(), "registry", runtime.db.name, holder="the next replica")
    assert await other.try_acquire(), "the lease was left held: the next replica waits out the TTL"
    await other.release()


async def test_a_stop_just_after_the_first_acquisition_releases_and_keeps_nothing(runtime_and_nc):
    runtime, nc = runtime_and_nc
    acquired = runtime._lease_acquired

    async def then_stopped(token: int) -> None:
        await acquired(token)
        runtime._lease_acquired = acquired  # type: ignore[method-assign]
        await runtime.stop()  # the SIGTERM's shutdown hook, while start() is still under way

    runtime._lease_acquired = then_stopped  # type: ignore[method-assign]
    await runtime.start(nc)
    await _nothing_held(runtime, nc)


async def test_a_stop_before_the_start_reaches_the_lease_acquires_nothing(runtime_and_nc):
    runtime, nc = runtime_and_nc
    await runtime.stop()
    await runtime.start(nc)
    await _nothing_held(runtime, nc)
