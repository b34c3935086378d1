"""Running a command against an event-sourced aggregate.

Ask the pure domain to decide on the state this process knows (a bounded
cache, or the initial state of an aggregate it has not seen), append with the
expected version, and on a lost race, a refusal or a no-op decide again on
fresh state (the cached state topped up with whatever was appended since). A
command id found among the aggregate's own events means the command was
already handled: its original result is returned and nothing is written,
however long ago it ran, provided it is the same command (same name and
payload hash, recorded with the events); a different command reusing the id
is refused with ``conflict``, naming the original. A reused id on another
aggregate is caught by the server's duplicate window (see
:mod:`mignet_runtime.eventstore`), and refused the same way.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from mignet_contracts.envelope import Command, CommandResult, Event, RecordedEventRef
from mignet_runtime import logs, tracing
from mignet_runtime.aggregate import AggregateType
from mignet_runtime.codec import Metadata, RecordedEvent
from mignet_runtime.errors import Conflict
from mignet_runtime.eventstore import CommandTrace, DuplicateCommand, EventStore, WrongExpectedVersion

log = logging.getLogger(__name__)

S = TypeVar("S")
Decision = Callable[[Any], Sequence[Event]]


@dataclass(frozen=True)
class Handled:
    """A command this aggregate has handled: the events it wrote and what it was."""

    events: tuple[RecordedEventRef, ...]
    #: Schema name and payload hash; None on events recorded before they were.
    command_name: str | None
    command_hash: str | None
    recorded_at: datetime
    #: The keyed hash (``ce-commandhmac``), on events written by a service with a key store.
    command_hmac: str | None = None

    def same_command(self, command_hash: str, command_hmac: str | None = None) -> bool:
        if self.command_hmac is not None:
            return self.command_hmac == command_hmac
        # Events from before hashes were recorded cannot tell: taken as the same command,
        # which is what every resend was taken for then (a refusal would break retries).
        return self.command_hash is None or self.command_hash == command_hash


@dataclass(frozen=True)
class Loaded(Generic[S]):
    aggregate: AggregateType[S]
    aggregate_id: str
    state: S
    version: int = 0
    #: command id -> what it was and the events it wrote, to answer a resent command.
    handled: dict[str, Handled] = field(default_factory=dict)

    def apply(self, recorded: Sequence[RecordedEvent]) -> Loaded[S]:
        state, handled = self.state, dict(self.handled)
        for item in recorded:
            state = self.aggregate.evolve(state, item.event)
            if item.command_id:
                ref = RecordedEventRef(type=item.type, subject=item.subject, seq=item.seq)
                known = handled.get(item.command_id)
                handled[item.command_id] = (
                    Handled((ref,), item.command_name, item.command_hash, item.recorded_at, item.command_hmac)
                    if known is None
                    else replace(known, events=known.events + (ref,))
                )
        version = recorded[-1].seq if recorded else self.version
        return replace(self, state=state, version=version, handled=handled)

    def answer_resend(self, command: Command, command_hash: str, command_hmac: str | None = None) -> CommandResult:
        """The first result for a resend of a command this aggregate handled; Conflict for another command."""
        handled = self.handled[command.command_id]
        if not handled.same_command(command_hash, command_hmac):
            raise id_reused(command, handled.command_name, self.aggregate.name, self.aggregate_id, handled.recorded_at)
        return self.result_of(command.command_id, replayed=True)

    def result_of(self, command_id: str, *, replayed: bool) -> CommandResult:
        handled = self.handled.get(command_id)
        refs = handled.events if handled is not None else ()
        return CommandResult(
            aggregate=self.aggregate.name,
            aggregate_id=self.aggregate_id,
            version=refs[-1].seq if refs else self.version,
            events=list(refs),
            replayed=replayed,
        )


def id_reused(
    command: Command, original: str | None, aggregate: str, aggregate_id: str, at: datetime | None
) -> Conflict:
    """The refusal of a command whose id an earlier, different command used, naming that command."""
    what = original or "an earlier command"
    when = f" at {at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if at is not None else ""
    return Conflict(
        f"command id {command.command_id} was already used{when} by {what} on {aggregate} {aggregate_id}; "
        f"this {command.schema_name()} asks for something else (another payload or target), "
        f"so it needs a new command id",
        field="command_id",
    )


class AggregateCache:
    """LRU of loaded aggregates. Entries may be stale: loads top them up from
    their version, and the append's expected version catches any race."""

    def __init__(self, capacity: int = 10_000):
        self.capacity = capacity
        self._items: OrderedDict[tuple[str, str], Loaded] = OrderedDict()
        #: Look-ups that found an entry, and those that did not (metrics read them when scraped).
        self.hits = 0
        self.misses = 0

    def get(self, aggregate: AggregateType, aggregate_id: str) -> Loaded | None:
        key = (aggregate.name, aggregate_id)
        item = self._items.get(key)
        if item is not None:
            self.hits += 1
            self._items.move_to_end(key)
        else:
            self.misses += 1
        return item

    def put(self, loaded: Loaded) -> None:
        if self.capacity <= 0:
            return
        key = (loaded.aggregate.name, loaded.aggregate_id)
        self._items[key] = loaded
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def discard(self, aggregate: AggregateType, aggregate_id: str) -> None:
        self._items.pop((aggregate.name, aggregate_id), None)

    def __len__(self) -> int:
        return len(self._items)


class _KeyLock:
    __slots__ = ("lock", "users")

    def __init__(self):
        self.lock = asyncio.Lock()
        self.users = 0


class CommandExecutor:
    def __init__(
        self,
        store: EventStore,
        cache: AggregateCache | None = None,
        max_attempts: int = 8,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.store = store
        self.cache = cache if cache is not None else AggregateCache()
        self.max_attempts = max_attempts
        self.clock = clock
        # Commands on one aggregate queue up inside a process instead of racing
        # each other; the expected version still settles races between processes.
        # An entry lives while a command holds or awaits it (counted: cheaper than weak references).
        self._locks: dict[tuple[str, str], _KeyLock] = {}

    def today(self) -> date:
        return self.clock().date()

    async def load(self, aggregate: AggregateType[S], aggregate_id: str) -> Loaded[S]:
        cached = self.cache.get(aggregate, aggregate_id)
        base = cached or Loaded(aggregate, aggregate_id, aggregate.initial(aggregate_id))
        newer = await self.store.read_aggregate(aggregate, aggregate_id, after_seq=base.version)
        loaded = base.apply(newer) if newer else base
        self.cache.put(loaded)
        return loaded

    async def execute(
        self,
        aggregate: AggregateType[S],
        aggregate_id: str,
        command: Command,
        decide: Callable[[S], Sequence[Event]] | Callable[[S], Awaitable[Sequence[Event]]],
        causation_id: str | None = None,
    ) -> CommandResult:
        """Decide and append; ``decide`` raises domain errors to refuse (only ever on fresh state)."""
        key = (aggregate.name, aggregate_id)
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = _KeyLock()
        entry.users += 1
        try:
            with logs.bound(aggregate_id=aggregate_id):
                async with entry.lock:
                    result = await self._execute(aggregate, aggregate_id, command, decide, causation_id)
                if log.isEnabledFor(logging.DEBUG):
                    log.debug(
                        "%s on %s %s: %s, version %d, %d events",
                        command.name,
                        aggregate.name,
                        aggregate_id,
                        "replayed" if result.replayed else "done",
                        result.version,
                        len(result.events),
                    )
                return result
        finally:
            entry.users -= 1
            if not entry.users:
                del self._locks[key]

    async def _execute(self, aggregate, aggregate_id, command, decide, causation_id) -> CommandResult:
        command_hash = command.payload_hash()
        # Keyed when the service has a secret: only the HMAC is written (old events' plain hashes still compare).
        secret = await self.store.command_secret()
        command_hmac = command.payload_hmac(secret) if secret is not None else None
        traceparent, tracestate = tracing.current()
        meta = Metadata(
            command_id=command.command_id,
            actor=command.actor,
            correlation_id=command.correlation_id,
            causation_id=causation_id,
            command_name=command.schema_name(),
            command_hash=None if command_hmac else command_hash,
            command_hmac=command_hmac,
            traceparent=traceparent,
            tracestate=tracestate,
        )
        # The first try decides on what this process already knows, without reading the
        # store: the cached state, or the initial state of an aggregate it has not seen
        # (a create with a new id). Only the append's expected version is trusted, so a
        # stale guess fails there and is decided again on fresh state; a refusal or a
        # no-op is never answered from a guess either.
        loaded = self.cache.get(aggregate, aggregate_id) or Loaded(
            aggregate, aggregate_id, aggregate.initial(aggregate_id)
        )
        guess = True
        attempt = 0
        while True:
            if not guess:
                attempt += 1
                if attempt > self.max_attempts:
                    break
                loaded = await self.load(aggregate, aggregate_id)
            if command.command_id in loaded.handled:  # cached or fresh, this stays true
                return loaded.answer_resend(command, command_hash, command_hmac)
            try:
                events = decide(loaded.state)
                if inspect.isawaitable(events):
                    events = await events
                events = list(events)
            except Exception:
                if guess:
                    guess = False
                    continue
                raise
            if not events:
                if guess:
                    guess = False
                    continue
                return loaded.result_of(command.command_id, replayed=False)
            try:
                seqs = await self.store.append(aggregate, aggregate_id, events, loaded.version, meta)
            except WrongExpectedVersion:
                if guess:  # the guess was stale: decide again on fresh state
                    guess = False
                    continue
                log.info(
                    "%s %s moved past version %d during %s (attempt %d); retrying",
                    aggregate.name,
                    aggregate_id,
                    loaded.version,
                    command.name,
                    attempt,
                )
                # Jitter keeps racing processes from colliding again in lock step.
                await asyncio.sleep(random.uniform(0, 0.002 * 2**attempt))
                continue
            except DuplicateCommand as duplicate:
                # Written by an earlier delivery of this command, its events are on the aggregate now;
                # else the id was used on another aggregate (the server remembers ids for its window).
                fresh = await self.load(aggregate, aggregate_id)
                if command.command_id in fresh.handled:
                    return fresh.answer_resend(command, command_hash, command_hmac)
                self.cache.discard(aggregate, aggregate_id)
                raise await self._used_elsewhere(command, duplicate) from None
            now = self.clock()
            recorded = [
                RecordedEvent(
                    seq,
                    e.subject,
                    e,
                    "",
                    now,
                    meta.command_id,
                    meta.actor,
                    meta.correlation_id,
                    meta.causation_id,
                    meta.command_name,
                    meta.command_hash,
                    meta.command_hmac,
                )
                for seq, e in zip(seqs, events, strict=True)
            ]
            updated = loaded.apply(recorded)
            self.cache.put(updated)
            return updated.result_of(command.command_id, replayed=False)
        self.cache.discard(aggregate, aggregate_id)
        raise Conflict(
            f"{aggregate.name} {aggregate_id} kept changing while {command.name} ran; "
            f"gave up after {self.max_attempts} attempts, try again"
        )

    async def _used_elsewhere(self, command: Command, duplicate: DuplicateCommand) -> Conflict:
        trace: CommandTrace | None = None
        if duplicate.original_seq:
            trace = await self.store.command_trace(duplicate.original_seq)
        if trace is None or trace.command_id != command.command_id:
            return Conflict(
                f"command id {command.command_id} was already used by another command; "
                f"send {command.schema_name()} with a new command id",
                field="command_id",
            )
        return id_reused(command, trace.command_name, trace.aggregate, trace.aggregate_id, trace.recorded_at)
