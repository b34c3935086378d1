"""The command executor's retry, cache, queueing and error mapping, on an in-memory event store.

Cosmic Python style: the executor's logic is tested against a fake store that follows the
real one's rules (``fake_eventstore.py``); ``tests/integration/test_eventstore.py`` runs
the same executor against a real nats-server.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import date

import pytest
from fake_eventstore import FakeEventStore

from mignet_contracts.envelope import Command, Event
from mignet_runtime.aggregate import AggregateType
from mignet_runtime.commands import AggregateCache, CommandExecutor, Loaded
from mignet_runtime.errors import Conflict, Rejected

SERVICE = "unit"


@dataclass(frozen=True)
class Counter:
    id: str
    total: int = 0


class Added(Event):
    counter_id: str
    amount: int


Added.service, Added.aggregate, Added.name, Added.id_field = SERVICE, "counter", "added", "counter_id"


class Add(Command):
    amount: int


Add.service, Add.name = SERVICE, "add"


def evolve(state: Counter, event: Event) -> Counter:
    return replace(state, total=state.total + event.amount) if isinstance(event, Added) else state


COUNTER = AggregateType(SERVICE, "counter", Counter, evolve)
TODAY = date(2026, 1, 1)


def add(amount: int, command_id: str | None = None) -> Add:
    return Add(amount=amount, actor="test", command_id=command_id or f"add-{amount}")


def decide(cmd: Add, seen: list[int] | None = None):
    """The decision for ``cmd``; ``seen`` collects the totals it was decided on."""

    def decision(state: Counter) -> list[Event]:
        if seen is not None:
            seen.append(state.total)
        if cmd.amount <= 0:
            raise Rejected("only positive amounts", field="amount")
        return [Added(counter_id=state.id, amount=cmd.amount, occurred_on=TODAY)]

    return decision


async def run(executor: CommandExecutor, counter_id: str, cmd: Add, seen: list[int] | None = None):
    return await executor.execute(COUNTER, counter_id, cmd, decide(cmd, seen))


# --- retry after a lost race ----------------------------------------------------------------------


async def test_a_lost_race_is_decided_again_on_fresh_state_until_it_wins():
    store = FakeEventStore()
    executor = CommandExecutor(store)
    store.lose_races = 3  # the guess and two attempts on fresh state lose, each to a write of 5 elsewhere
    seen: list[int] = []
    result = await run(executor, "a", add(5), seen)
    assert not result.replayed and [e.seq for e in result.events] == [4]
    assert store.appends == 4 and store.refused == 3
    # Every retry decided on the state including what the winners wrote.
    assert seen == [0, 5, 10, 15]
    assert (await executor.load(COUNTER, "a")).state.total == 20


async def test_a_command_that_keeps_losing_gives_up_with_conflict_after_max_attempts():
    store = FakeEventStore()
    executor = CommandExecutor(store, max_attempts=8)
    store.lose_races = 100
    with pytest.raises(Conflict, match="gave up after 8 attempts"):
        await run(executor, "a", add(1))
    # The guess on cached (here: initial) state, then the README's 8 attempts on fresh state.
    assert store.appends == 1 + 8
    assert len(executor.cache) == 0  # a state that lost 9 races is not trusted any more


async def test_an_append_that_loses_once_on_fresh_state_is_retried_not_refused():
    store = FakeEventStore()
    executor = CommandExecutor(store)
    await run(executor, "a", add(1))  # now cached: the next command's first try is no guess in the dark
    store.lose_races = 2
    result = await run(executor, "a", add(2))
    assert [e.seq for e in result.events] == [4] and store.appends == 4


# --- the per-aggregate queue ----------------------------------------------------------------------


async def test_commands_on_one_aggregate_queue_in_one_process_instead_of_racing():
    store = FakeEventStore()
    executor = CommandExecutor(store)
    await run(executor, "a", add(1, "first"))
    results = await asyncio.gather(*[run(executor, "a", add(n, f"c{n}")) for n in range(2, 12)])
    # Queued, each decides on the state its predecessor left in the cache: no append is refused.
    assert store.refused == 0
    assert sorted(r.version for r in results) == list(range(2, 12))
    assert (await executor.load(COUNTER, "a")).state.total == sum(range(1, 12))
    assert executor._locks == {}  # an entry lives only while a command holds or awaits it


async def test_commands_on_different_aggregates_do_not_wait_for_each_other():
    store = FakeEventStore()
    executor = CommandExecutor(store)
    release = asyncio.Event()
    entered: list[str] = []

    async def slow(state: Counter) -> list[Event]:
        entered.append(state.id)
        await release.wait()
        return [Added(counter_id=state.id, amount=1, occurred_on=TODAY)]

    tasks = [asyncio.create_task(executor.execute(COUNTER, i, add(1, f"c-{i}"), slow)) for i in ("a", "b")]
    for _ in range(20):
        await asyncio.sleep(0)
    assert sorted(entered) == ["a", "b"]  # both decide at once
    release.set()
    await asyncio.gather(*tasks)


# --- the cache ------------------------------------------------------------------------------------


def loaded(aggregate_id: str) -> Loaded:
    return Loaded(COUNTER, aggregate_id, Counter(aggregate_id))


def test_the_cache_evicts_the_least_recently_used_entry():
    cache = AggregateCache(capacity=2)
    cache.put(loaded("a"))
    cache.put(loaded("b"))
    assert cache.get(COUNTER, "a") is not None  # a is now more recent than b
    cache.put(loaded("c"))
    assert len(cache) == 2
    assert cache.get(COUNTER, "b") is None
    assert cache.get(COUNTER, "a") is not None and cache.get(COUNTER, "c") is not None


def test_the_cache_keeps_the_newest_entry_when_full():
    cache = AggregateCache(capacity=1)
    cache.put(loaded("a"))
    cache.put(loaded("b"))
    assert cache.get(COUNTER, "b") is not None and cache.get(COUNTER, "a") is None


def test_a_cache_of_capacity_zero_keeps_nothing():
    cache = AggregateCache(capacity=0)
    cache.put(loaded("a"))
    assert len(cache) == 0 and cache.get(COUNTER, "a") is None


async def test_a_cached_aggregate_is_decided_without_reading_the_store():
    store = FakeEventStore()
    executor = CommandExecutor(store)
    await run(executor, "a", add(1))
    reads = store.reads
    await run(executor, "a", add(2))
    assert store.reads == reads and store.refused == 0


async def test_a_stale_cache_is_topped_up_with_events_written_elsewhere():
    store = FakeEventStore()
    executor = CommandExecutor(store)
    await run(executor, "a", add(1))
    store.write_elsewhere(COUNTER, "a", Added(counter_id="a", amount=10, occurred_on=TODAY))
    seen: list[int] = []
    result = await run(executor, "a", add(2), seen)
    assert seen == [1, 11]  # the stale guess, refused; then the topped-up state
    assert result.version == 3 and (await executor.load(COUNTER, "a")).state.total == 13


# --- resends and reused ids -----------------------------------------------------------------------


async def test_a_resend_answers_the_first_result_and_writes_nothing():
    store = FakeEventStore()
    first = await run(CommandExecutor(store), "a", add(5, "once"))
    again = await run(CommandExecutor(store), "a", add(5, "once"))  # another instance, empty cache
    assert again.replayed and again.events == first.events
    assert len(store.events) == 1


async def test_a_resend_known_to_the_cache_is_answered_without_an_append():
    store = FakeEventStore()
    executor = CommandExecutor(store)
    first = await run(executor, "a", add(5, "once"))
    appends = store.appends
    again = await run(executor, "a", add(5, "once"))
    assert again.replayed and again.events == first.events and store.appends == appends


async def test_a_reused_id_with_another_payload_on_the_same_aggregate_is_a_conflict():
    store = FakeEventStore()
    executor = CommandExecutor(store)
    await run(executor, "a", add(5, "mine"))
    with pytest.raises(Conflict, match="already used") as refused:
        await run(CommandExecutor(store), "a", add(6, "mine"))
    assert [d.field for d in refused.value.details] == ["command_id"] and len(store.events) == 1


async def test_with_a_secret_only_the_keyed_hash_is_recorded_and_it_tells_commands_apart():
    store = FakeEventStore()
    store.secret = b"k" * 32
    await run(CommandExecutor(store), "a", add(5, "keyed"))
    (recorded,) = store.events
    assert recorded.command_hash is None and recorded.command_hmac == add(5, "keyed").payload_hmac(b"k" * 32)
    assert recorded.command_hmac != add(5, "keyed").payload_hash()
    assert (await run(CommandExecutor(store), "a", add(5, "keyed"))).replayed
    with pytest.raises(Conflict, match="already used"):
        await run(CommandExecutor(store), "a", add(6, "keyed"))
    assert len(store.events) == 1


async def test_plain_hashes_recorded_before_the_secret_still_compare():
    store = FakeEventStore()
    await run(CommandExecutor(store), "a", add(5, "old"))  # recorded with the plain SHA-256
    store.secret = b"k" * 32
    assert (await run(CommandExecutor(store), "a", add(5, "old"))).replayed
    with pytest.raises(Conflict, match="already used"):
        await run(CommandExecutor(store), "a", add(6, "old"))


async def test_a_reused_id_on_another_aggregate_is_a_conflict_naming_the_original():
    store = FakeEventStore()
    executor = CommandExecutor(store)
    await run(executor, "a", add(5, "mine"))
    with pytest.raises(Conflict) as refused:
        await run(executor, "b", add(5, "mine"))
    assert [d.field for d in refused.value.details] == ["command_id"]
    assert "on counter a" in str(refused.value) and f"{SERVICE}.commands.add" in str(refused.value)
    assert len(store.events) == 1 and executor.cache.get(COUNTER, "b") is None


async def test_a_refusal_is_only_ever_answered_on_fresh_state():
    store = FakeEventStore()
    executor = CommandExecutor(store)
    seen: list[int] = []
    with pytest.raises(Rejected):
        await run(executor, "a", add(0), seen)
    assert seen == [0, 0]  # the guess refused, then decided again after a read
    assert store.reads == 1 and store.appends == 0
