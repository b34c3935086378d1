"""A service's key ring at start-up: JetStream not answering yet is waited for, a missing bucket is not."""

from __future__ import annotations

import asyncio
import logging

import nats
import pytest

from mignet_contracts import registry as r
from mignet_runtime.keystore import KeyStoreMissing, keys_bucket, open_key_ring
from mignet_runtime.localstack import ManagedProcess, free_port, nats_server_binary, start_nats, wait_for_log


def _plain_nats(port: int, tmp_path) -> ManagedProcess:
    """A nats-server without JetStream: every JetStream request finds no responder."""
    argv = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port)]
    proc = ManagedProcess("plain-nats", argv, log_path=tmp_path / "plain.log").start()
    wait_for_log(proc, "Server is ready", 30)
    return proc


async def test_the_key_ring_waits_for_jetstream_then_opens(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="mignet_runtime.keystore")
    # The provisioned store, made beforehand: the waiting client reconnects as soon as the server is back.
    provisioning, url = start_nats(tmp_path / "js", port=free_port())
    admin = await nats.connect(url)
    await admin.jetstream().create_key_value(bucket=keys_bucket(r.SERVICE))
    await admin.drain()
    provisioning.stop(5)
    port = free_port()
    plain = _plain_nats(port, tmp_path)
    nc = await nats.connect(f"nats://127.0.0.1:{port}", max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    jetstream = None
    try:
        opening = asyncio.create_task(open_key_ring(nc, r.SERVICE, r.REGISTRY_EVENTS, wait=30, delay=0.5))
        await asyncio.sleep(1.5)
        assert not opening.done()  # retrying: JetStream does not answer
        plain.stop(5)
        jetstream, _ = start_nats(tmp_path / "js", port=port)
        ring = await asyncio.wait_for(opening, 20)
        assert ring is not None and ring.kv is not None
    finally:
        await nc.close()
        plain.stop(5)
        if jetstream is not None:
            jetstream.stop(5)
    assert any("the key store of registry did not answer" in r.getMessage() for r in caplog.records)


async def test_the_key_ring_gives_up_at_its_deadline_and_a_missing_bucket_at_once(tmp_path):
    port = free_port()
    plain = _plain_nats(port, tmp_path)
    nc = await nats.connect(f"nats://127.0.0.1:{port}")
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(nats.errors.Error):
            await open_key_ring(nc, r.SERVICE, r.REGISTRY_EVENTS, wait=1.5, delay=0.5)
        assert 1.0 <= asyncio.get_running_loop().time() - started < 5
    finally:
        await nc.close()
        plain.stop(5)
    jetstream, url = start_nats(tmp_path / "js", port=free_port())
    try:
        nc = await nats.connect(url)
        started = asyncio.get_running_loop().time()
        with pytest.raises(KeyStoreMissing):  # never provisioned: said at once, not waited for
            await open_key_ring(nc, r.SERVICE, r.REGISTRY_EVENTS, wait=30)
        assert asyncio.get_running_loop().time() - started < 5
        await nc.close()
    finally:
        jetstream.stop(5)
