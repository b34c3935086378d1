"""The bench's stack stops its services before its servers: each service then releases its projection
lease and exits cleanly. Stopped all at once, as before, a service's release waited for a nats-server that
was gone (``could not release the lease ... TimeoutError``) and its exit ended in a traceback."""

from __future__ import annotations

import nats
import pytest

from bench.stack import Stack, wait_healthy
from mignet_runtime.client import MignetClient

pytestmark = pytest.mark.integration


async def test_the_bench_stack_stops_its_services_first_so_they_release_their_leases():
    stack = Stack()
    try:
        stack.start_servers()
        process = stack.service("registry", {"LOG_LEVEL": "INFO"})
        nc = await nats.connect(stack.client_urls)
        try:
            await wait_healthy(MignetClient(nc, timeout=5), "registry", process)
        finally:
            await nc.close()
    finally:
        stack.stop()
    log = process.log_tail(lines=10_000)
    assert process.returncode == 0, log
    assert "released the lease" in log and "could not release" not in log, log
    assert "Traceback" not in log, log
