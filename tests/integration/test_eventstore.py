"""The JetStream event store and command executor against a real nats-server."""

from __future__ import annotations

import asyncio

import pytest

from mignet_runtime.codec import Metadata
from mignet_runtime.commands import AggregateCache, CommandExecutor
from mignet_runtime.errors import Conflict, Rejected
from mignet_runtime.eventstore import (
    DuplicateCommand,
    EventStore,
    WrongExpectedVersion,
    expected_stream_config,
    stream_differences,
)

from sample_domain import make_domain


@pytest.fixture
async def sample(nc):
    domain = make_domain()
    store = EventStore(nc, domain.service, domain.codec)
    await store.ensure_stream()
    yield domain, store
    await store.js.delete_stream(store.stream)


def meta(command_id="c1"):
    return Metadata(command_id=command_id, actor="test")


async def test_stream_has_exactly_the_configuration_of_a_system_of_record(sample):
    _, store = sample
    config = (await store.js.stream_info(store.stream)).config
    assert config.subjects == [f"{store.service}.events.>"]
    assert (config.retention, config.storage, config.discard) == ("limits", "file", "new")
    assert config.duplicate_window == 6 * 3600  # the default StreamSettings: retried commands come late
    assert config.max_age == 0 and config.max_msgs == -1 and config.max_msgs_per_subject == -1  # never aged out
    assert config.allow_atomic is True and config.allow_direct is True
    assert config.deny_delete is True and config.deny_purge is True  # events are never removed
    assert stream_differences(expected_stream_config(store.service), config) == {}


async def test_append_then_read_back_with_cloudevents_headers(sample):
    d, store = sample
    seqs = await store.append(d.tally, "a", [d.opened("a")], 0, meta("c1"))
    assert seqs == [1]
    msg = await store.js.get_msg(store.stream, 1)
    assert msg.subject == f"{d.service}.events.tally.a.opened"
    headers = msg.headers
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-type"] == f"int.un-migration.mignet.{d.service}.tally.opened.v1"
    assert headers["ce-source"] == f"/mignet/{d.service}"
    assert headers["ce-subject"] == "a"
    assert headers["ce-dataschema"].endswith(f"{d.service}.tally.opened.v1.json")
    assert headers["ce-commandid"] == "c1" and headers["Nats-Msg-Id"] == "c1"
    events = await store.read_aggregate(d.tally, "a")
    assert [(e.seq, e.event) for e in events] == [(1, d.opened("a"))]
    assert events[0].command_id == "c1" and events[0].actor == "test"


async def test_stale_expected_version_is_refused(sample):
    d, store = sample
    await store.append(d.tally, "a", [d.opened("a")], 0, meta("c1"))
    with pytest.raises(WrongExpectedVersion):
        await store.append(d.tally, "a", [d.added("a", 1)], 0, meta("c2"))
    # other aggregates are independent of this one's version
    assert await store.append(d.tally, "b", [d.opened("b")], 0, meta("c3")) == [2]


async def test_atomic_batch_is_all_or_nothing(sample):
    d, store = sample
    seqs = await store.append(d.tally, "a", [d.opened("a"), d.added("a", 2), d.added("a", 3)], 0, meta("c1"))
    assert seqs == [1, 2, 3]
    with pytest.raises(WrongExpectedVersion):
        await store.append(d.tally, "a", [d.added("a", 5), d.added("a", 7)], 1, meta("c2"))
    assert await store.last_seq() == 3
    assert [e.seq for e in await store.read_aggregate(d.tally, "a")] == [1, 2, 3]


async def test_a_batch_refused_on_its_last_message_writes_none_of_the_others(sample):
    # The stream refuses the third message of the batch (its message id "c2:3" is a duplicate of an
    # earlier command's), after the first two passed every check: written one by one, they would stay.
    d, store = sample
    await store.append(d.tally, "a", [d.opened("a")], 0, meta("c2:3"))
    with pytest.raises(DuplicateCommand):
        await store.append(d.tally, "a", [d.added("a", 1), d.added("a", 2), d.added("a", 3)], 1, meta("c2"))
    assert await store.last_seq() == 1
    assert [e.seq for e in await store.read_aggregate(d.tally, "a")] == [1]
    # and the aggregate is still at version 1 for the next writer
    assert await store.append(d.tally, "a", [d.added("a", 4), d.added("a", 5)], 1, meta("c3")) == [2, 3]


async def test_same_message_id_is_deduplicated_by_the_server(sample):
    d, store = sample
    await store.append(d.tally, "a", [d.opened("a"), d.added("a", 1)], 0, meta("c1"))
    with pytest.raises(DuplicateCommand):
        await store.append(d.tally, "a", [d.opened("a"), d.added("a", 1)], 2, meta("c1"))
    assert await store.last_seq() == 2


async def test_concurrent_commands_on_one_version_exactly_one_wins(sample):
    d, store = sample
    await store.append(d.tally, "a", [d.opened("a")], 0, meta("c0"))
    results = await asyncio.gather(
        *[store.append(d.tally, "a", [d.added("a", i)], 1, meta(f"c{i}")) for i in range(1, 9)],
        return_exceptions=True,
    )
    assert sum(1 for r in results if isinstance(r, list)) == 1
    assert sum(1 for r in results if isinstance(r, WrongExpectedVersion)) == 7
    assert await store.last_seq() == 2


async def test_executor_retries_lost_races_and_applies_every_command_once(sample):
    d, store = sample
    executors = [CommandExecutor(store, AggregateCache()) for _ in range(4)]  # four service instances
    commands = [d.add(i) for i in range(1, 21)]
    results = await asyncio.gather(
        *[
            executors[i % 4].execute(d.tally, "a", cmd, lambda s, cmd=cmd: d.decide_add(s, cmd))
            for i, cmd in enumerate(commands)
        ],
        return_exceptions=True,
    )
    written = [r for r in results if not isinstance(r, Exception)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(written) + len(conflicts) == 20
    loaded = await CommandExecutor(store, AggregateCache(0)).load(d.tally, "a")
    assert loaded.state.total == sum(
        cmd.amount for cmd, r in zip(commands, results, strict=True) if not isinstance(r, Exception)
    )
    assert len(written) >= 10  # retries resolve most races (the deterministic test is the next one)


async def test_a_command_that_loses_races_is_decided_again_on_fresh_state(sample):
    # Another process writes to the aggregate between each of the first three decisions and their
    # appends: the guess and two attempts on fresh state lose; the third attempt wins.
    d, store = sample
    executor, other = CommandExecutor(store), CommandExecutor(store)
    await other.execute(d.tally, "a", d.add(1), lambda s: d.decide_add(s, d.add(1)))
    decided_on: list[int] = []
    cmd = d.add(5)

    async def decide_while_another_writes(state):
        decided_on.append(state.total)
        if len(decided_on) <= 3:
            meddle = d.add(10)
            await other.execute(d.tally, "a", meddle, lambda s: d.decide_add(s, meddle))
        return d.decide_add(state, cmd)

    result = await executor.execute(d.tally, "a", cmd, decide_while_another_writes)
    assert decided_on == [0, 11, 21, 31]  # the first on the initial state (a guess), then fresh each time
    assert [e.seq for e in result.events] == [6] and not result.replayed
    assert (await CommandExecutor(store, AggregateCache(0)).load(d.tally, "a")).state.total == 36


async def test_a_command_that_always_loses_is_a_conflict_after_eight_attempts(sample):
    d, store = sample
    executor, other = CommandExecutor(store), CommandExecutor(store)
    decisions = 0
    cmd = d.add(5)

    async def decide_while_another_writes(state):
        nonlocal decisions
        decisions += 1
        meddle = d.add(1)
        await other.execute(d.tally, "a", meddle, lambda s: d.decide_add(s, meddle))
        return d.decide_add(state, cmd)

    with pytest.raises(Conflict, match="gave up after 8 attempts"):
        await executor.execute(d.tally, "a", cmd, decide_while_another_writes)
    assert decisions == 1 + 8  # the guess, then the README's 8 attempts on fresh state
    loaded = await CommandExecutor(store, AggregateCache(0)).load(d.tally, "a")
    assert loaded.state.total == 9 and cmd.command_id not in loaded.handled  # nothing of it written


async def test_resent_command_returns_the_original_result_and_writes_nothing(sample):
    d, store = sample
    executor = CommandExecutor(store)
    cmd = d.add(5, command_id="resend-me")
    first = await executor.execute(d.tally, "a", cmd, lambda s: d.decide_add(s, cmd))
    assert [e.seq for e in first.events] == [1, 2] and not first.replayed
    other = d.add(1)
    await executor.execute(d.tally, "a", other, lambda s: d.decide_add(s, other))
    # a fresh instance (empty cache) receives the retry
    again = await CommandExecutor(store, AggregateCache(0)).execute(d.tally, "a", cmd, lambda s: d.decide_add(s, cmd))
    assert again.replayed and again.events == first.events and again.version == 2
    assert await store.last_seq() == 3


async def test_rejected_command_writes_nothing(sample):
    d, store = sample
    cmd = d.add(-1)
    with pytest.raises(Rejected):
        await CommandExecutor(store).execute(d.tally, "a", cmd, lambda s: d.decide_add(s, cmd))
    assert await store.last_seq() == 0


async def test_reused_command_id_for_another_aggregate_is_a_conflict(sample):
    d, store = sample
    executor = CommandExecutor(store)
    cmd = d.add(1, command_id="same-id")
    await executor.execute(d.tally, "a", cmd, lambda s: d.decide_add(s, cmd))
    with pytest.raises(Conflict):
        await executor.execute(d.tally, "b", cmd, lambda s: d.decide_add(s, cmd))
    assert await store.last_seq() == 2


async def test_cache_is_topped_up_with_events_written_elsewhere(sample):
    d, store = sample
    mine, theirs = CommandExecutor(store), CommandExecutor(store)
    c1, c2, c3 = d.add(1), d.add(2), d.add(4)
    await mine.execute(d.tally, "a", c1, lambda s: d.decide_add(s, c1))
    await theirs.execute(d.tally, "a", c2, lambda s: d.decide_add(s, c2))
    result = await mine.execute(d.tally, "a", c3, lambda s: d.decide_add(s, c3))
    assert result.version == 4
    assert (await mine.load(d.tally, "a")).state.total == 7
