"""Command ids that never lie, against a real nats-server: a resend is replayed, a different
command reusing an id is refused with ``conflict`` naming the original, on its own aggregate
(however long ago) and on another one (within the duplicate window)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from conftest import RunningService

from mignet_contracts import registry as r
from mignet_contracts.reference import COUNTRY_CHAMPION_CRITERIA
from mignet_registry.app import SPEC as REGISTRY
from mignet_runtime.client import RequestFailed
from mignet_runtime.codec import Metadata
from mignet_runtime.commands import AggregateCache, CommandExecutor
from mignet_runtime.errors import Conflict
from mignet_runtime.eventstore import EventStore, StreamSettings

from sample_domain import make_domain


async def _stream(nc, window: timedelta | None = None):
    domain = make_domain()
    settings = StreamSettings(duplicate_window=window) if window else None
    store = EventStore(nc, domain.service, domain.codec, settings)
    await store.ensure_stream()
    return domain, store


@pytest.fixture
async def sample(nc):
    domain, store = await _stream(nc)
    yield domain, store
    await store.js.delete_stream(store.stream)


@pytest.fixture
async def short_window(nc):
    """A stream whose server forgets message ids after one second."""
    domain, store = await _stream(nc, timedelta(seconds=1))
    yield domain, store
    await store.js.delete_stream(store.stream)


def run(executor: CommandExecutor, d, tally_id: str, cmd):
    return executor.execute(d.tally, tally_id, cmd, lambda s: d.decide_add(s, cmd))


def fresh(store: EventStore) -> CommandExecutor:
    """Another process: nothing cached, so the resend is not caught before the append."""
    return CommandExecutor(store, AggregateCache(0))


def assert_names_original(exc: Conflict, d, tally_id: str, command_id: str) -> None:
    message = exc.message
    assert f"command id {command_id} was already used" in message
    assert f"by {d.service}.commands.add.v1 on tally {tally_id}" in message
    assert " UTC " in message  # when it was used
    assert [(x.field, x.message) for x in exc.details] == [("command_id", message)]
    assert exc.code == "conflict"


async def test_events_record_the_command_name_and_payload_hash(sample):
    d, store = sample
    cmd = d.add(5, command_id="hashed")
    await run(CommandExecutor(store), d, "a", cmd)  # opened + added, one atomic batch
    for seq in (1, 2):
        headers = (await store.js.get_msg(store.stream, seq)).headers
        assert headers["ce-commandname"] == f"{d.service}.commands.add.v1"
        assert headers["ce-commandhash"] == cmd.payload_hash()
    recorded = await store.read_aggregate(d.tally, "a")
    assert {(e.command_name, e.command_hash) for e in recorded} == {(cmd.schema_name(), cmd.payload_hash())}


@pytest.mark.parametrize("cached", [True, False], ids=["same process", "fresh process"])
async def test_same_id_and_payload_is_replayed_with_the_first_result(sample, cached):
    d, store = sample
    executor = CommandExecutor(store)
    first = await run(executor, d, "a", d.add(5, command_id="once"))
    again = await run(executor if cached else fresh(store), d, "a", d.add(5, command_id="once"))
    assert again.replayed and not first.replayed
    assert again.events == first.events and again.version == first.version
    assert await store.last_seq() == 2


async def test_same_id_and_payload_from_another_actor_is_replayed(sample):
    d, store = sample
    await run(CommandExecutor(store), d, "a", d.add(5, command_id="once"))
    retry = d.Add(amount=5, actor="someone-else", correlation_id="other-flow", command_id="once")
    assert (await run(fresh(store), d, "a", retry)).replayed
    assert await store.last_seq() == 2


@pytest.mark.parametrize("cached", [True, False], ids=["same process", "fresh process"])
async def test_same_id_other_payload_on_the_same_aggregate_is_refused_naming_the_original(sample, cached):
    d, store = sample
    executor = CommandExecutor(store)
    await run(executor, d, "a", d.add(5, command_id="reused"))
    with pytest.raises(Conflict) as refused:
        await run(executor if cached else fresh(store), d, "a", d.add(7, command_id="reused"))
    assert_names_original(refused.value, d, "a", "reused")
    assert await store.last_seq() == 2
    assert (await fresh(store).load(d.tally, "a")).state.total == 5


@pytest.mark.parametrize("first_events", [1, 2], ids=["single publish", "atomic batch"])
async def test_same_id_on_another_aggregate_is_refused_naming_the_original(sample, first_events):
    d, store = sample
    executor = CommandExecutor(store)  # it knows "b": its first try is the real append, not a guess
    if first_events == 1:  # "b" already opened: the reuse appends one event, a plain publish
        await run(executor, d, "b", d.add(1))
    before = await store.last_seq()
    await run(executor, d, "a", d.add(5, command_id="reused"))
    written = await store.last_seq()
    with pytest.raises(Conflict) as refused:
        await run(executor, d, "b", d.add(7, command_id="reused"))
    assert_names_original(refused.value, d, "a", "reused")
    assert await store.last_seq() == written == before + 2  # nothing written, the probe included
    # the same payload on another aggregate is just as much another command
    with pytest.raises(Conflict) as again:
        await run(fresh(store), d, "b", d.add(5, command_id="reused"))
    assert_names_original(again.value, d, "a", "reused")
    assert await store.last_seq() == written


async def test_probe_for_an_unused_id_writes_nothing(sample):
    d, store = sample
    await run(CommandExecutor(store), d, "a", d.add(5, command_id="used"))
    subject = d.added("a", 1).subject
    assert await store.original_seq(subject, "never-used") is None
    assert await store.original_seq(subject, "used") == 1  # nats-server checks the id first
    assert await store.last_seq() == 2


async def _wait_until_forgotten(store: EventStore, subject: str, timeout: float = 30.0) -> None:
    """Until the server has forgotten message ids older than its window (it purges on a timer)."""
    canary = "canary-" + str(time.monotonic_ns())
    await store.js.publish(subject, b"", headers={"Nats-Msg-Id": canary})
    deadline = time.monotonic() + timeout
    while (await store.js.publish(subject, b"", headers={"Nats-Msg-Id": canary})).duplicate:
        assert time.monotonic() < deadline, "the duplicate window never passed"
        await asyncio.sleep(0.25)


async def test_beyond_the_duplicate_window_the_aggregate_own_events_still_tell(short_window):
    d, store = short_window
    original = d.add(5, command_id="long-ago")
    first = await run(CommandExecutor(store), d, "a", original)
    await _wait_until_forgotten(store, f"{d.service}.events.canary.x.y")
    before = await store.last_seq()

    again = await run(fresh(store), d, "a", d.add(5, command_id="long-ago"))
    assert again.replayed and again.events == first.events
    with pytest.raises(Conflict) as refused:
        await run(fresh(store), d, "a", d.add(7, command_id="long-ago"))
    assert_names_original(refused.value, d, "a", "long-ago")
    assert await store.last_seq() == before

    # The documented bound: beyond the window, nothing remembers the id for *another*
    # aggregate (no index of every command id), so there it is taken as a new command.
    other = await run(fresh(store), d, "b", d.add(7, command_id="long-ago"))
    assert not other.replayed and await store.last_seq() == before + 2


async def test_events_recorded_without_a_hash_are_taken_as_the_same_command(sample):
    d, store = sample
    # as written before command hashes were recorded
    await store.append(d.tally, "a", [d.opened("a"), d.added("a", 5)], 0, Metadata(command_id="old", actor="test"))
    assert "ce-commandhash" not in (await store.js.get_msg(store.stream, 1)).headers
    result = await run(fresh(store), d, "a", d.add(7, command_id="old"))
    assert result.replayed and [e.seq for e in result.events] == [1, 2]
    assert await store.last_seq() == 2


# --- through the registry service -----------------------------------------------------------

ACTOR = "test:idempotency"


@pytest.fixture
async def registry(fresh_nats, settings_for):
    async with RunningService(REGISTRY, settings_for(fresh_nats)) as service:
        yield service


def create_bd(command_id: str) -> r.CreateNetwork:
    return r.CreateNetwork(
        command_id=command_id,
        actor=ACTOR,
        scope="national",
        country="BD",
        network_name="UN Network on Migration in Bangladesh",
    )


async def test_a_command_without_command_id_is_refused_and_writes_nothing(registry):
    body = create_bd("unused").model_dump(mode="json", exclude={"command_id"})
    reply = await registry.client.request(r.CreateNetwork.subject(), body)
    assert not reply.ok and reply.error.code == "validation_error"
    assert [d.field for d in reply.error.details] == ["command_id"]
    assert await registry.runtime.store.last_seq() == 0


async def test_registry_refuses_a_reused_command_id_on_the_same_and_on_another_aggregate(registry):
    await registry.client.command(create_bd("bd-1"))
    assert (await registry.client.command(create_bd("bd-1"))).replayed
    same_aggregate = r.ChangeNetworkStatus(
        command_id="bd-1", actor=ACTOR, network_id="nat-bd", status="being-established"
    )
    other_aggregate = r.NominateChampion(
        command_id="bd-1",
        actor=ACTOR,
        country="BD",
        regional_group="asia-pacific",
        assessment=[{"criterion": c, "met": True, "note": "UNCT working group"} for c in COUNTRY_CHAMPION_CRITERIA],
    )
    for command in (same_aggregate, other_aggregate):
        with pytest.raises(RequestFailed) as refused:
            await registry.client.command(command)
        error = refused.value.error
        assert error.code == "conflict", error
        assert "command id bd-1 was already used" in error.message
        assert "by registry.commands.create-network.v1 on network nat-bd" in error.message
        assert [d.field for d in error.details] == ["command_id"]
    assert await registry.runtime.store.last_seq() == 1
