"""An in-memory event store for unit tests of the command executor (no NATS).

It implements the methods :class:`~mignet_runtime.commands.CommandExecutor` uses
(``read_aggregate``, ``append``, ``command_trace``) with the real store's rules: an
append states the aggregate's expected version and is refused with
:class:`WrongExpectedVersion` when another writer moved it, and a command id
already written is refused with :class:`DuplicateCommand`. Tests can also make the
next appends lose a race (``lose_races``) or interfere at the moment of an append
(``before_append``), to reach the executor's retry paths on purpose. The
integration tests in ``tests/integration/test_eventstore.py`` run the same executor
against a real nats-server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from mignet_contracts.envelope import Event
from mignet_runtime.aggregate import AggregateType
from mignet_runtime.codec import Metadata, RecordedEvent
from mignet_runtime.eventstore import CommandTrace, DuplicateCommand, WrongExpectedVersion


class FakeEventStore:
    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []
        self._msg_ids: dict[str, int] = {}
        #: The next this many appends are refused as if another process had just written.
        self.lose_races = 0
        #: Awaited inside every append before its version check: a test's hook to interleave.
        self.before_append: Callable[[], Awaitable[None]] | None = None
        #: The service's secret for keyed command hashes; None: plain hashes, as without a key store.
        self.secret: bytes | None = None
        self.appends = 0  # every append asked for, refused or not
        self.refused = 0  # appends refused with WrongExpectedVersion
        self.reads = 0

    def _of(self, aggregate: AggregateType, aggregate_id: str) -> list[RecordedEvent]:
        prefix = aggregate.wildcard(aggregate_id)[:-1]  # "<service>.events.<name>.<id>."
        return [e for e in self.events if e.subject.startswith(prefix)]

    async def read_aggregate(
        self, aggregate: AggregateType, aggregate_id: str, after_seq: int = 0
    ) -> list[RecordedEvent]:
        self.reads += 1
        await asyncio.sleep(0)  # a real read yields to other tasks
        return [e for e in self._of(aggregate, aggregate_id) if e.seq > after_seq]

    async def append(
        self,
        aggregate: AggregateType,
        aggregate_id: str,
        events: Sequence[Event],
        expected_version: int,
        meta: Metadata,
    ) -> list[int]:
        self.appends += 1
        await asyncio.sleep(0)  # a real append yields to other tasks
        if self.before_append is not None:
            await self.before_append()
        if meta.command_id in self._msg_ids:
            raise DuplicateCommand(meta.command_id, self._msg_ids[meta.command_id])
        if self.lose_races > 0:
            self.lose_races -= 1
            self.refused += 1
            self.write_elsewhere(aggregate, aggregate_id, events[0])
            raise WrongExpectedVersion("another writer won (staged by the test)")
        mine = self._of(aggregate, aggregate_id)
        if (mine[-1].seq if mine else 0) != expected_version:
            self.refused += 1
            raise WrongExpectedVersion(f"{aggregate_id} is past version {expected_version}")
        return self._write(events, meta)

    def write_elsewhere(self, aggregate: AggregateType, aggregate_id: str, event: Event) -> int:
        """Another process's command: one event, outside the executor under test."""
        [seq] = self._write([event], Metadata(command_id=f"elsewhere-{len(self.events) + 1}", actor="other"))
        return seq

    def _write(self, events: Sequence[Event], meta: Metadata) -> list[int]:
        now = datetime.now(UTC)
        seqs = []
        for event in events:
            seq = len(self.events) + 1
            self.events.append(
                RecordedEvent(
                    seq,
                    event.subject,
                    event,
                    f"e{seq}",
                    now,
                    meta.command_id,
                    meta.actor,
                    meta.correlation_id,
                    meta.causation_id,
                    meta.command_name,
                    meta.command_hash,
                    meta.command_hmac,
                )
            )
            seqs.append(seq)
        self._msg_ids[meta.command_id] = seqs[0]
        return seqs

    async def command_secret(self) -> bytes | None:
        return self.secret

    async def command_trace(self, seq: int) -> CommandTrace | None:
        if not 1 <= seq <= len(self.events):
            return None
        recorded = self.events[seq - 1]
        parts = recorded.subject.split(".")
        return CommandTrace(
            seq=seq,
            aggregate=parts[2],
            aggregate_id=parts[3],
            command_id=recorded.command_id,
            command_name=recorded.command_name,
            command_hash=recorded.command_hash,
            recorded_at=recorded.recorded_at,
        )
