"""The shared projection runner against real nats-server and SecantusDB."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid

from pymongo import AsyncMongoClient, monitoring

from mignet_runtime.codec import Metadata
from mignet_runtime.eventstore import EventStore
from mignet_runtime.projection import PARKED, ProjectionRunner, fold_stream

from sample_domain import make_domain


async def _store(nc, domain):
    store = EventStore(nc, domain.service, domain.codec)
    await store.ensure_stream()
    return store


async def _write(store, d, tallies: int, adds: int) -> None:
    for t in range(tallies):
        tid = f"t{t}"
        events = [d.opened(tid)] + [d.added(tid, n) for n in range(1, adds + 1)]
        await store.append(d.tally, tid, events, 0, Metadata(command_id=f"c-{tid}", actor="test"))


async def _drain(runner: ProjectionRunner, until_seq: int, timeout: float = 20) -> None:
    task = asyncio.create_task(runner.run())
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while runner.stats.last_seq < until_seq:
            assert asyncio.get_running_loop().time() < deadline, f"projection stuck at {runner.stats.last_seq}"
            assert not task.done(), task.exception()
            await asyncio.sleep(0.05)
    finally:
        runner.stop()
        await asyncio.wait_for(task, 10)


def _strip(docs):
    return {d["_id"]: {k: v for k, v in d.items()} for d in docs}


async def test_projects_every_event_once_and_coalesces_writes(nc, db):
    d = make_domain()
    store = await _store(nc, d)
    await _write(store, d, tallies=20, adds=10)  # 220 events
    runner = ProjectionRunner(store, db, d.projection, consumer_prefix="test", batch_size=100)
    await _drain(runner, 220)
    docs = {doc["_id"]: doc for doc in await db.tallies.find().to_list(None)}
    assert len(docs) == 20
    assert all(doc["total"] == 55 and doc["events"] == 11 and doc["_seq"] > 0 for doc in docs.values())
    assert runner.stats.applied == 220
    checkpoint = await db["_projections"].find_one({"_id": "tallies"})
    assert checkpoint["seq"] == 220


async def test_restart_resumes_without_loss_or_double_application(nc, db):
    d = make_domain()
    store = await _store(nc, d)
    await _write(store, d, tallies=5, adds=3)  # 20 events
    first = ProjectionRunner(store, db, d.projection, consumer_prefix="test", batch_size=10)
    await _drain(first, 20)
    await _write_more(store, d)  # 5 more on t0
    second = ProjectionRunner(store, db, d.projection, consumer_prefix="test", batch_size=10)
    await _drain(second, 25)
    t0 = await db.tallies.find_one({"_id": "t0"})
    assert t0["total"] == 6 + 5 * 100 and t0["events"] == 4 + 5
    assert second.stats.applied == 5  # resumed where the durable consumer left off


async def _write_more(store, d):
    loaded = await store.read_aggregate(d.tally, "t0")
    version = loaded[-1].seq
    for i in range(5):
        [version] = await store.append(d.tally, "t0", [d.added("t0", 100)], version, Metadata(f"more-{i}", "test"))


async def test_redelivered_events_are_skipped_by_document_sequence(nc, db):
    d = make_domain()
    store = await _store(nc, d)
    await _write(store, d, tallies=3, adds=2)  # 9 events
    runner = ProjectionRunner(store, db, d.projection, consumer_prefix="test", batch_size=50)
    await _drain(runner, 9)
    before = _strip(await db.tallies.find().to_list(None))
    # a crash between the documents' write and the checkpoint's: the stream is delivered again
    await db["_projections"].delete_one({"_id": "tallies"})
    replay = ProjectionRunner(store, db, d.projection, consumer_prefix="test", batch_size=50)
    await _drain(replay, 9)
    assert _strip(await db.tallies.find().to_list(None)) == before
    assert replay.stats.applied == 0 and replay.stats.skipped == 9


async def test_failing_event_is_retried_then_parked_loudly(nc, db, caplog):
    attempts = {"n": 0}

    def explode_on_t1(recorded):
        if recorded.aggregate_id == "t1" and recorded.event.name == "added":
            attempts["n"] += 1
            raise RuntimeError("bug in projection")

    d = make_domain(apply_hook=explode_on_t1)
    store = await _store(nc, d)
    await _write(store, d, tallies=3, adds=1)  # t0: 1,2  t1: 3,4  t2: 5,6
    runner = ProjectionRunner(
        store, db, d.projection, consumer_prefix="test", batch_size=50, max_attempts=3, retry_delay=0.1
    )
    with caplog.at_level(logging.WARNING):
        await _drain(runner, 6)
    assert attempts["n"] == 3
    parked = await db[PARKED].find().to_list(None)
    assert [(p["seq"], p["attempts"]) for p in parked] == [(4, 3)]
    assert "bug in projection" in parked[0]["reason"]
    assert any("PARKED" in r.message for r in caplog.records if r.levelno == logging.ERROR)
    docs = {doc["_id"]: doc for doc in await db.tallies.find().to_list(None)}
    assert docs["t0"]["total"] == 1 and docs["t2"]["total"] == 1
    assert docs["t1"]["events"] == 1  # the opened event applied, the parked one not


async def test_rebuild_equals_the_live_read_model(nc, db):
    d = make_domain()
    store = await _store(nc, d)
    await _write(store, d, tallies=30, adds=4)
    runner = ProjectionRunner(store, db, d.projection, consumer_prefix="test", batch_size=64)
    await _drain(runner, 150)
    live = _strip(await db.tallies.find().to_list(None))
    await db.tallies.update_one({"_id": "t3"}, {"$set": {"total": -1}})  # corrupt it
    seen = []
    assert await runner.rebuild(lambda done, total: seen.append((done, total))) == 30
    assert _strip(await db.tallies.find().to_list(None)) == live
    assert seen[-1] == (150, 150)
    in_memory = await fold_stream(store, d.projection)
    assert {k: v for k, v in in_memory.items()} == live


async def test_an_empty_fetch_result_is_harmless(nc, db):
    d = make_domain()
    store = await _store(nc, d)
    runner = ProjectionRunner(store, db, d.projection, consumer_prefix="test")
    await runner.setup()
    await runner.handle([])
    # Nothing written, nothing counted: no checkpoint, no document, no batch.
    assert runner.stats.batches == 0 and runner.stats.last_seq == 0 and runner.stats.applied == 0
    assert await db["_projections"].find_one({"_id": "tallies"}) is None
    assert await db.tallies.count_documents({}) == 0
    # and the runner goes on with the next, real batch
    await _write(store, d, tallies=1, adds=1)
    await _drain(runner, 2)
    assert runner.stats.applied == 2


async def test_an_event_of_an_unknown_type_is_skipped_not_parked(nc, db):
    # A newer producer's event type this build does not know: the read model moves past it at
    # once (a later build may project it on a rebuild); parking it would flag every such event.
    d = make_domain()
    store = await _store(nc, d)
    await _write(store, d, tallies=1, adds=1)  # #1, #2
    ack = await store.js.publish(f"{d.service}.events.tally.t9.renamed", b'{"tally_id": "t9", "name": "x"}')
    assert ack.seq == 3
    await _write_more(store, d)  # #4..#8 on t0
    runner = ProjectionRunner(
        store, db, d.projection, consumer_prefix="test", batch_size=2, max_attempts=2, retry_delay=0.1
    )
    await _drain(runner, 8)
    assert runner.stats.skipped == 1 and runner.stats.applied == 7 and runner.stats.parked == 0
    assert await db[PARKED].count_documents({}) == 0
    assert runner.stats.errors == []  # not even retried
    t0 = await db.tallies.find_one({"_id": "t0"})
    assert t0["total"] == 1 + 5 * 100 and t0["events"] == 7 and t0["_seq"] == 8
    assert await db.tallies.find_one({"_id": "t9"}) is None


class _Writes(monitoring.CommandListener):
    """The write commands a MongoDB client sends, with their write concern."""

    WRITES = ("insert", "update", "delete", "findAndModify")

    def __init__(self):
        self.seen: list[tuple[str, str, dict]] = []

    def started(self, event):
        name = event.command_name
        if name in self.WRITES:
            self.seen.append((event.database_name, event.command[name], event.command.get("writeConcern", {})))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


async def test_every_projection_write_is_journaled(nc, servers):
    # The runner acknowledges events to JetStream right after its writes: a write acknowledged
    # before it reached the journal could be lost on a crash while its events are never redelivered.
    # (Crashing SecantusDB in a test would be slow and flaky; the write concern on the wire is not.)
    writes = _Writes()
    client = AsyncMongoClient(servers.mongodb_url, tz_aware=True, event_listeners=[writes])
    name = "t" + uuid.uuid4().hex[:10]
    db = client[name]
    try:
        broken = {"projection": True}

        def explode_on_t1(recorded):
            if broken["projection"] and recorded.aggregate_id == "t1" and recorded.event.name == "added":
                raise RuntimeError("bug in projection")

        d = make_domain(apply_hook=explode_on_t1)
        store = await _store(nc, d)
        await _write(store, d, tallies=2, adds=1)  # t0: 1,2  t1: 3,4 (parked)
        runner = ProjectionRunner(
            store, db, d.projection, consumer_prefix="test", batch_size=1, max_attempts=1, retry_delay=0.1
        )
        await _drain(runner, 4)
        await _write_more(store, d)  # replaces of an existing document: #5..#9
        again = ProjectionRunner(store, db, d.projection, consumer_prefix="test", batch_size=2)
        await _drain(again, 9)
        broken["projection"] = False  # fixed: the rebuild applies the parked event too
        await again.rebuild()
        mine = [(collection, concern) for database, collection, concern in writes.seen if database == name]
        assert {collection for collection, _ in mine} >= {"tallies", "_projections", PARKED}
        unjournaled = [(collection, concern) for collection, concern in mine if concern.get("j") is not True]
        assert unjournaled == []
    finally:
        await client.drop_database(name)
        await client.close()


async def test_a_checkpoint_interval_writes_late_and_a_restart_from_the_older_one_applies_nothing_twice(nc, db):
    """``checkpoint_seconds``: the batches after a checkpoint write none of their own; the runner's
    ``applied_seq`` moves all the same, the checkpoint is written once a fetch waits in vain, and a restart from
    an older checkpoint (a crash before that write) changes no document."""
    d = make_domain()
    store = await _store(nc, d)
    projection = dataclasses.replace(d.projection, checkpoint_seconds=60)
    runner = ProjectionRunner(store, db, projection, consumer_prefix="test", batch_size=2, fetch_timeout=2)

    async def checkpoint() -> int:
        return ((await db["_projections"].find_one({"_id": "tallies"})) or {"seq": 0})["seq"]

    loop = asyncio.get_running_loop()

    async def until(condition, timeout: float = 20) -> None:
        deadline = loop.time() + timeout
        while not await condition():
            assert loop.time() < deadline and not task.done()
            await asyncio.sleep(0.02)

    task = asyncio.create_task(runner.run())
    try:
        await _write(store, d, tallies=1, adds=0)
        await until(lambda: _true(runner.applied_seq == 1))
        assert await checkpoint() == 1  # the first batch writes one
        await _write_more(store, d)  # 5 events, in batches of at most 2
        await until(lambda: _true(runner.applied_seq == 6))
        assert await checkpoint() == 1 and runner.stats.batches >= 3
        await until(lambda: _is(checkpoint(), 6))  # the fetch after them waited 2 s for nothing
    finally:
        runner.stop()
        await asyncio.wait_for(task, 10)
    before = _strip(await db.tallies.find().to_list(None))
    await db["_projections"].update_one({"_id": "tallies"}, {"$set": {"seq": 1}})  # as if it crashed before
    again = ProjectionRunner(store, db, d.projection, consumer_prefix="test", batch_size=2)
    await _drain(again, 6)
    assert _strip(await db.tallies.find().to_list(None)) == before
    assert again.stats.applied == 0 and again.stats.skipped == 5


async def _true(value: bool) -> bool:
    return value


async def _is(awaitable, expected) -> bool:
    return await awaitable == expected
