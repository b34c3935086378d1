"""The projection lease and the fenced runner, against a real nats-server and SecantusDB."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import pytest
from nats.js.api import StorageType

from mignet_runtime.codec import Metadata
from mignet_runtime.eventstore import EventStore
from mignet_runtime.lease import Lease, LeaseLost, lease_bucket, lease_key
from mignet_runtime.projection import CHECKPOINTS, FENCE, ProjectionRunner, fold_stream, internal_fields_stripped
from mignet_runtime.provision import provision_lease_bucket
from mignet_runtime.pull import PullConsumer
from mignet_runtime.settings import Settings

from sample_domain import make_domain


async def ensure_lease_bucket(js, service: str, ttl: int) -> None:
    """What `mignet admin provision` does for one service's lease bucket."""
    await provision_lease_bucket(js, service, Settings(lease_seconds=ttl))


TTL = 2


@pytest.fixture
async def service_name():
    return "t" + uuid.uuid4().hex[:10]


async def _leases(nc, service: str, n: int = 2, ttl: float = TTL, clocks=None) -> list[Lease]:
    await ensure_lease_bucket(nc.jetstream(), service, ttl)
    database = f"db_{service}"
    leases = [await Lease.open(nc.jetstream(), service, database, holder=f"replica-{i}") for i in range(n)]
    for lease, clock in zip(leases, clocks or [None] * n, strict=True):
        if clock is not None:
            lease.clock = clock
    return leases


async def test_the_bucket_is_what_provisioning_is_told_and_services_read_its_ttl(nc, service_name):
    js = nc.jetstream()
    await ensure_lease_bucket(js, service_name, 7)
    await ensure_lease_bucket(js, service_name, 7)  # idempotent
    info = await js.stream_info(f"KV_{lease_bucket(service_name)}")
    assert info.config.max_age == 7 and info.config.max_msgs_per_subject == 1
    assert info.config.storage == StorageType.FILE
    lease = await Lease.open(js, service_name, "mignet_registry")
    assert lease.ttl == 7 and lease.key == lease_key("mignet_registry") == "projections.mignet_registry"
    await ensure_lease_bucket(js, service_name, 3)  # provisioning changes the TTL: services follow
    assert (await Lease.open(js, service_name, "mignet_registry")).ttl == 3
    with pytest.raises(ValueError, match="lease key"):
        lease_key("mignet.registry")  # a dot would split the key into two tokens


async def test_one_holder_at_a_time_and_a_later_holder_has_a_larger_token(nc, service_name):
    a, b = await _leases(nc, service_name)
    assert await a.try_acquire()
    assert a.held() and a.token is not None
    assert not await b.try_acquire(), "a held lease was acquired twice"
    assert await a.renew() and a.held()
    assert not await b.try_acquire()
    first = a.token
    await a.release()
    assert not a.held()
    assert await b.try_acquire(), "a released lease could not be taken at once"
    assert b.token > first
    assert not await a.renew(), "a released holder renewed the lease"


async def test_an_unrenewed_lease_expires_locally_first_then_another_takes_it(nc, service_name):
    a, b = await _leases(nc, service_name)
    before = time.monotonic()
    assert await a.try_acquire()
    # a stops renewing (paused, partitioned, dead); b keeps trying
    while not await b.try_acquire():
        assert time.monotonic() - before < TTL + 5, "the expired lease was never taken over"
        await asyncio.sleep(0.05)
    taken = time.monotonic() - before
    # The old holder gave up before the server let anyone else in, whatever the load.
    assert not a.held(), "two replicas held the lease at once"
    assert taken >= TTL - 0.05, "the key expired before its TTL"
    assert not await a.renew(), "the old holder renewed over its successor"
    assert a.token is None and b.held()


async def test_a_resumed_holder_sees_its_lease_expired_without_asking_the_server(nc, service_name):
    now = [1000.0]
    [a] = await _leases(nc, service_name, n=1, clocks=[lambda: now[0]])
    assert await a.try_acquire() and a.held()
    now[0] += TTL  # what SIGSTOP for TTL seconds looks like to CLOCK_MONOTONIC
    assert not a.held()
    assert not await a.renew()


# -- the fence in the store ---------------------------------------------------------------


async def _store(nc, d):
    store = EventStore(nc, d.service, d.codec)
    await store.ensure_stream()
    return store


async def _write(store, d, tallies: range, adds: int, tag: str) -> None:
    for t in tallies:
        tid = f"t{t}"
        loaded = await store.read_aggregate(d.tally, tid)
        version = loaded[-1].seq if loaded else 0
        events = ([] if loaded else [d.opened(tid)]) + [d.added(tid, n) for n in range(1, adds + 1)]
        await store.append(d.tally, tid, events, version, Metadata(command_id=f"{tag}-{tid}", actor="test"))


async def _until(probe, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not await probe():
        assert time.monotonic() < deadline, "not true in time"
        await asyncio.sleep(0.05)


async def _matches_fold(db, store, d) -> bool:
    live = {doc["_id"]: internal_fields_stripped(doc) for doc in await db.tallies.find().to_list(None)}
    return live == await fold_stream(store, d.projection)


async def test_a_zombie_holder_that_believes_it_holds_the_lease_corrupts_nothing(nc, db, service_name):
    """The window the local check leaves open, held open on purpose: the fence alone must hold."""
    d = make_domain(service_name)
    store = await _store(nc, d)
    await _write(store, d, range(20), 3, "first")
    # The zombie's clock never moves: its local check always passes, as in a process paused
    # right after the check and resumed after a takeover.
    zombie_lease, heir_lease = await _leases(nc, service_name, clocks=[lambda: 0.0, None])
    assert await zombie_lease.try_acquire()
    zombie = ProjectionRunner(
        store, db, d.projection, consumer_prefix="p", batch_size=16, retry_delay=0.1, lease=zombie_lease
    )
    zombie_task = asyncio.create_task(zombie.run())
    await _until(lambda: _covers(db, 80))

    await _until(heir_lease.try_acquire, timeout=TTL + 5)  # the zombie renews nothing: its key expires
    assert heir_lease.token > zombie_lease.token
    heir = ProjectionRunner(
        store, db, d.projection, consumer_prefix="p", batch_size=16, retry_delay=0.1, lease=heir_lease
    )
    heir_task = asyncio.create_task(heir.run())
    renewing = asyncio.create_task(_renew_forever(heir_lease))
    try:
        # Both run side by side on one consumer and one collection, under a stream of new events.
        for round_ in range(5):
            await _write(store, d, range(0, 30, 1 + round_ % 3), 2, f"more{round_}")
        last = await store.last_seq()
        await _until(lambda: _covers(db, last))
        await _until(lambda: _matches_fold(db, store, d))
        zombie.stop()
        # It stopped by itself (LeaseLost) once it took a delivery or met the heir's fence, or it
        # is still fetching (its pulls then only made the heir reset); either way it wrote no harm.
        outcome = (await asyncio.gather(zombie_task, return_exceptions=True))[0]
        assert outcome is None or isinstance(outcome, LeaseLost), outcome
        docs = await db.tallies.find().to_list(None)
        assert {doc[FENCE] for doc in docs} <= {zombie_lease.token, heir_lease.token}
        checkpoint = await db[CHECKPOINTS].find_one({"_id": "tallies"})
        assert checkpoint[FENCE] == heir_lease.token
        # and the zombie's next attempt stops at the checkpoint's fence, before any write
        await _write(store, d, range(5), 1, "after")
        with pytest.raises(LeaseLost, match="newer holder"):
            await zombie.run()
        last = await store.last_seq()
        await _until(lambda: _covers(db, last))
        assert await _matches_fold(db, store, d)
    finally:
        renewing.cancel()
        heir.stop()
        zombie.stop()
        await asyncio.gather(heir_task, zombie_task, renewing, return_exceptions=True)


class _PausingRunner(ProjectionRunner):
    """The real runner on the real collection, except that its next bulk write first waits for
    ``resume``: a process stopped between its lease check and its write (the window the local
    check cannot close)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pause_next = False
        self.paused, self.resume = asyncio.Event(), asyncio.Event()

    @property
    def collection(self):
        return _PausableCollection(super().collection, self)


class _PausableCollection:
    def __init__(self, collection, runner: _PausingRunner):
        self._collection, self._runner = collection, runner

    def __getattr__(self, name):
        return getattr(self._collection, name)

    async def bulk_write(self, *args, **kwargs):
        if self._runner.pause_next:
            self._runner.pause_next = False
            self._runner.paused.set()
            await self._runner.resume.wait()
        return await self._collection.bulk_write(*args, **kwargs)


async def test_a_holder_resumed_between_its_check_and_its_write_cannot_overwrite_newer_documents(nc, db, service_name):
    d = make_domain(service_name)
    store = await _store(nc, d)
    await _write(store, d, range(10), 2, "first")  # 30 events
    zombie_lease, heir_lease = await _leases(nc, service_name, clocks=[lambda: 0.0, None])
    assert await zombie_lease.try_acquire()
    zombie = _PausingRunner(store, db, d.projection, consumer_prefix="p", retry_delay=0.1, lease=zombie_lease)
    zombie_task = asyncio.create_task(zombie.run())
    heir = heir_task = renewing = None
    try:
        await _until(lambda: _covers(db, 30))
        zombie.pause_next = True
        await _write(store, d, range(10), 1, "second")  # read, applied, then paused before the replaces
        await asyncio.wait_for(zombie.paused.wait(), 10)

        await _until(heir_lease.try_acquire, timeout=TTL + 5)
        heir = ProjectionRunner(store, db, d.projection, consumer_prefix="p", retry_delay=0.1, lease=heir_lease)
        heir_task = asyncio.create_task(heir.run())
        renewing = asyncio.create_task(_renew_forever(heir_lease))
        await _write(store, d, range(10), 1, "third")
        last = await store.last_seq()
        await _until(lambda: _covers(db, last))
        assert await _matches_fold(db, store, d)

        zombie.resume.set()  # the zombie's replaces, one round behind, now reach the database
        with pytest.raises(LeaseLost):
            await asyncio.wait_for(zombie_task, 20)
        assert await _matches_fold(db, store, d), "the stale holder overwrote newer documents"
        assert {doc[FENCE] for doc in await db.tallies.find().to_list(None)} == {heir_lease.token}
    finally:
        zombie.resume.set()
        for runner in (zombie, heir):
            if runner is not None:
                runner.stop()
        if renewing is not None:
            renewing.cancel()
        await asyncio.gather(*[t for t in (zombie_task, heir_task, renewing) if t is not None], return_exceptions=True)


async def _renew_forever(lease: Lease) -> None:
    while await lease.renew():
        await asyncio.sleep(lease.renew_every)


async def _covers(db, seq: int) -> bool:
    checkpoint = await db[CHECKPOINTS].find_one({"_id": "tallies"})
    return checkpoint is not None and checkpoint["seq"] >= seq


async def test_a_runner_whose_lease_expired_stops_without_writing(nc, db, service_name):
    d = make_domain(service_name)
    store = await _store(nc, d)
    await _write(store, d, range(5), 2, "first")
    now = [1000.0]
    [lease] = await _leases(nc, service_name, n=1, clocks=[lambda: now[0]])
    assert await lease.try_acquire()
    runner = ProjectionRunner(store, db, d.projection, consumer_prefix="p", retry_delay=0.1, lease=lease)
    task = asyncio.create_task(runner.run())
    await _until(lambda: _covers(db, 15))
    before = await db.tallies.find().to_list(None)
    now[0] += TTL  # paused past the lease
    await _write(store, d, range(5), 2, "second")
    with pytest.raises(LeaseLost):
        await asyncio.wait_for(task, 10)
    assert await db.tallies.find().to_list(None) == before
    assert (await db[CHECKPOINTS].find_one({"_id": "tallies"}))["seq"] == 15


async def test_deliveries_taken_by_another_puller_are_noticed_and_fetched_again(nc, db, service_name, caplog):
    d = make_domain(service_name)
    store = await _store(nc, d)
    await _write(store, d, range(10), 2, "first")  # 30 events
    runner = ProjectionRunner(store, db, d.projection, consumer_prefix="p", batch_size=8, retry_delay=0.1)
    await runner.setup()
    thief = PullConsumer(nc, store.stream, runner.durable)  # a stale holder's pull, say
    await thief.start()
    stolen = await thief.fetch(3, 1)
    assert [m.metadata.sequence.stream for m in stolen] == [1, 2, 3]
    await thief.stop()
    # Without the check, the runner's ack of #11 would cover #1-#3, which it never saw.
    with caplog.at_level(logging.WARNING):
        task = asyncio.create_task(runner._loop())  # the consumer as setup() left it, thief and all
        try:
            await _until(lambda: _covers(db, 30))
        finally:
            runner.stop()
            await asyncio.wait_for(task, 10)
    assert await _matches_fold(db, store, d), "the deliveries another puller took were lost"
    assert any("not contiguous" in r.getMessage() for r in caplog.records)


async def test_a_fenced_rebuild_equals_a_fold_and_a_stale_one_writes_nothing(nc, db, service_name):
    d = make_domain(service_name)
    store = await _store(nc, d)
    await _write(store, d, range(12), 2, "first")
    stale_lease, lease = await _leases(nc, service_name, clocks=[lambda: 0.0, None])
    assert await stale_lease.try_acquire()
    stale = ProjectionRunner(store, db, d.projection, consumer_prefix="p", retry_delay=0.1, lease=stale_lease)
    await stale.setup()
    await stale._unsubscribe()
    await _until(lease.try_acquire, timeout=TTL + 5)  # the stale one renews nothing; its clock stands still
    runner = ProjectionRunner(store, db, d.projection, consumer_prefix="p", retry_delay=0.1, lease=lease)
    task = asyncio.create_task(runner.run())
    try:
        await _until(lambda: _covers(db, 36))
        await db.tallies.insert_one({"_id": "orphan", "_seq": 1, FENCE: lease.token})  # say, a key() since fixed
        await db.tallies.update_one({"_id": "t3"}, {"$set": {"total": -1}})  # corrupt one
        assert await runner.rebuild() == 12
        assert await _matches_fold(db, store, d)
        assert {doc[FENCE] for doc in await db.tallies.find().to_list(None)} == {lease.token}
        before = await db.tallies.find().to_list(None)
        with pytest.raises(LeaseLost):
            await stale.rebuild()  # a stale holder's rebuild: refused by the fence, before any write
        assert await db.tallies.find().to_list(None) == before
    finally:
        runner.stop()
        await asyncio.wait_for(task, 10)


# -- in a service ------------------------------------------------------------------------


async def test_a_clean_stop_releases_the_lease_so_a_standby_takes_over_at_once(fresh_nats, settings_for):
    from mignet_registry.app import SPEC

    from service_harness import RunningService

    settings = settings_for(fresh_nats, lease_seconds=10)
    async with RunningService(SPEC, settings) as first:
        await _until(lambda: _true(first.runtime.holds_lease))
        second = RunningService(SPEC, settings)
        await second.__aenter__()
        try:
            seen = set()
            for _ in range(30):
                seen.add((await first.client.admin("registry", "health"))["projections"])
            assert seen == {"running", "standby"}, "health does not tell the holder from the standby"
            assert not second.runtime.holds_lease
            status = await first.client.admin("registry", "projections.status")  # only the holder answers
            assert {s["projection"] for s in status} == {p.name for p in SPEC.projections}
            stopped = time.monotonic()
            await first.built.app.stop()  # clean: releases the lease
            await _until(lambda: _true(second.runtime.holds_lease), timeout=10)
            # Unreleased, the key would live up to 10 s past the last renewal (at most 3.3 s before the stop).
            assert time.monotonic() - stopped < 5
            assert (await second.client.admin("registry", "health"))["projections"] == "running"
        finally:
            await second.__aexit__(None, None, None)


async def _true(value: bool) -> bool:
    return value
