"""The benchmark on a 3-node cluster (`python -m bench --cluster 3`): the services' streams and the raw
limit's stream both have 3 replicas, and a command is served through the cluster."""

from __future__ import annotations

import nats
import pytest

from bench.common import raw_publish, raw_stream
from bench.stack import Stack, wait_healthy
from mignet_contracts import registry as c
from mignet_contracts.envelope import new_id
from mignet_runtime.client import MignetClient

pytestmark = pytest.mark.integration


@pytest.mark.timeout(180)
async def test_the_bench_cluster_replicates_every_stream_it_measures():
    stack = Stack(sync="always", cluster=3)
    try:
        stack.start_servers()
        assert len(stack.nats_pids()) == 3 and len(stack.client_urls) == 3
        nc = await nats.connect(stack.client_urls)
        js = nc.jetstream()
        registry = stack.service("registry")
        client = MignetClient(nc, timeout=30)
        await wait_healthy(client, "registry", registry)
        result = await client.command(
            c.CreateNetwork(
                command_id=new_id(), actor="bench", scope="regional", region="africa", network_name="on a cluster"
            )
        )
        info = await js.stream_info("REGISTRY")
        assert info.config.num_replicas == 3 and info.state.last_seq == result.version
        assert info.cluster is not None and len(info.cluster.replicas or []) == 2

        assert (await raw_stream(js)).num_replicas == 3  # the raw limit does the same replicated work
        rate = await raw_publish(nc, 2)
        assert len(rate.latencies) == 64
        await nc.drain()
    finally:
        stack.stop()
