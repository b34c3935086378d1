"""A projection that cannot reset its consumer while MongoDB is down says so once, briefly, and when it recovers."""

from __future__ import annotations

import asyncio
import logging

import nats
from pymongo import AsyncMongoClient

from mignet_runtime.codec import Metadata
from mignet_runtime.eventstore import EventStore
from mignet_runtime.projection import ProjectionRunner

from sample_domain import make_domain

RETRY_DELAY = 0.2


async def _write(store: EventStore, d, tally_id: str) -> None:
    await store.append(d.tally, tally_id, [d.opened(tally_id)], 0, Metadata(command_id=f"c-{tally_id}", actor="t"))


async def _until(condition, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_mongodb_outage_is_logged_once_short_and_its_end_at_info(spawn_servers, caplog):
    pair = spawn_servers()
    caplog.set_level(logging.INFO, logger="mignet_runtime.projection")
    nc = await nats.connect(pair.nats_url)
    # A short server selection, as the services configure it, so that attempts fail fast and often.
    mongo: AsyncMongoClient = AsyncMongoClient(pair.mongodb_url, serverSelectionTimeoutMS=300)
    d = make_domain()
    store = EventStore(nc, d.service, d.codec)
    await store.ensure_stream()
    runner = ProjectionRunner(store, mongo["outage"], d.projection, consumer_prefix="t", retry_delay=RETRY_DELAY)
    task = asyncio.create_task(runner.run())
    try:
        await _write(store, d, "a")
        await _until(lambda: runner.stats.last_seq >= 1, 30, "the first event")
        pair.mongo.stop()
        try:
            await _write(store, d, "b")  # its batch cannot be read or written: the runner resets
            resets = lambda: [r for r in caplog.records if "cannot reset its consumer" in r.getMessage()]  # noqa: E731
            await _until(lambda: resets(), 30, "the outage line")
            # Many more attempts (each 0.3 s of selection + 0.2 s) than lines: at least five fail meanwhile.
            await asyncio.sleep(3)
        finally:
            pair.mongo.start()
        await _until(lambda: runner.stats.last_seq >= 2, 60, "the event written during the outage")
    finally:
        runner.stop()
        await asyncio.wait_for(task, 10)
        await mongo.close()
        await nc.close()
    said = resets()
    assert len(said) == 1, [r.getMessage() for r in said]
    message = said[0].getMessage()
    assert said[0].levelno == logging.WARNING
    # The type and the first line only: no repr, no topology description.
    assert "ServerSelectionTimeoutError: " in message and "Topology" not in message and "\n" not in message
    recovered = [r for r in caplog.records if "reset its consumer after" in r.getMessage()]
    assert [r.levelno for r in recovered] == [logging.INFO]
    assert caplog.records.index(recovered[0]) > caplog.records.index(said[0])
