"""The key store on a three-node cluster: replicas creating the same key at once all end up with one value.

Reads of a KV bucket with replicas may be answered by a node that has not applied the
latest write yet (direct gets). Creating a key must therefore never depend on reading it
back: two service replicas (two connections) asking at once for the same secret, data
key or pseudonym that does not exist yet all get the one value that was stored, and
none is refused ``unavailable``.
"""

from __future__ import annotations

import asyncio

import nats
import pytest

from mignet_runtime.cluster import NatsCluster
from mignet_runtime.keystore import KeyRing
from mignet_runtime.localstack import dev_passwords, provision_local

pytestmark = pytest.mark.integration


@pytest.fixture
async def replicas(tmp_path):
    """Two key rings of the reviews bucket, as two replicas would hold, each connected to another node."""
    passwords = dev_passwords()
    cluster = NatsCluster(tmp_path / "cluster", passwords, 3).start()
    connections = []
    try:
        provision_local(cluster.url, passwords["admin"], replicas=3)
        for node in cluster.nodes[:2]:
            connections.append(await nats.connect(node.url, user="admin", password=passwords["admin"]))
        yield [await KeyRing(nc, "reviews").open() for nc in connections]
    finally:
        for nc in connections:
            await nc.drain()
        cluster.stop(5)


async def test_replicas_creating_the_same_keys_at_once_share_one_value(replicas):
    first, second = replicas
    for attempt in range(5):  # a race: five rounds of fresh names
        secrets = await asyncio.gather(
            *(ring._create_or_read(f"secret.test{attempt}", bytes([n]) * 32) for n in range(16) for ring in replicas)
        )
        assert len(set(secrets)) == 1, f"round {attempt}: {len(set(secrets))} different values"
        stored = (await first.kv.get(f"secret.test{attempt}")).value
        assert secrets[0] == stored

    key_ids = [f"contribution.c{n}.cmd{n}" for n in range(20)]
    await asyncio.gather(*(ring.ensure(key_id) for key_id in key_ids for ring in replicas))
    assert [first.key(k) for k in key_ids] == [second.key(k) for k in key_ids]
    assert all(first.key(k) for k in key_ids)

    actors = [f"Person {n}" for n in range(10)]
    pseudonyms = await asyncio.gather(*(ring.pseudonym(actor) for actor in actors for ring in replicas))
    assert pseudonyms[0::2] == pseudonyms[1::2]  # each actor: the same pseudonym from both replicas
    assert len(set(pseudonyms)) == len(actors)
