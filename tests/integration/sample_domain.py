"""A tiny event-sourced domain (a tally) for testing the shared runtime on its own.

Each test gets its own service name, hence its own stream and subjects.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date

from mignet_contracts.envelope import Command, Event
from mignet_runtime.aggregate import AggregateType
from mignet_runtime.codec import EventCodec, RecordedEvent
from mignet_runtime.errors import Rejected
from mignet_runtime.projection import Projection


@dataclass(frozen=True)
class Tally:
    id: str
    total: int = 0
    opened: bool = False


@dataclass
class SampleDomain:
    service: str
    Opened: type[Event]
    Added: type[Event]
    Add: type[Command]
    tally: AggregateType
    codec: EventCodec
    projection: Projection

    def opened(self, tally_id: str) -> Event:
        return self.Opened(tally_id=tally_id, occurred_on=date.today())

    def added(self, tally_id: str, amount: int) -> Event:
        return self.Added(tally_id=tally_id, amount=amount, occurred_on=date.today())

    def add(self, amount: int, command_id: str | None = None) -> Command:
        return self.Add(amount=amount, actor="test", command_id=command_id or uuid.uuid4().hex)

    def decide_add(self, state: Tally, cmd) -> list[Event]:
        if cmd.amount <= 0:
            raise Rejected("only positive amounts", field="amount")
        events = [] if state.opened else [self.opened(state.id)]
        return events + [self.added(state.id, cmd.amount)]


def make_domain(service: str | None = None, apply_hook=None) -> SampleDomain:
    service = service or "t" + uuid.uuid4().hex[:10]

    class Opened(Event):
        tally_id: str

    class Added(Event):
        tally_id: str
        amount: int

    for cls, name in ((Opened, "opened"), (Added, "added")):
        cls.service, cls.aggregate, cls.name, cls.id_field = service, "tally", name, "tally_id"

    class Add(Command):
        amount: int

    Add.service, Add.name = service, "add"

    def evolve(state: Tally, event: Event) -> Tally:
        if isinstance(event, Opened):
            return replace(state, opened=True)
        if isinstance(event, Added):
            return replace(state, total=state.total + event.amount)
        return state

    def apply(doc, recorded: RecordedEvent):
        if apply_hook is not None:
            apply_hook(recorded)
        doc = doc or {"total": 0, "events": 0}
        if isinstance(recorded.event, Added):
            doc["total"] += recorded.event.amount
        doc["events"] += 1
        return doc

    return SampleDomain(
        service=service,
        Opened=Opened,
        Added=Added,
        Add=Add,
        tally=AggregateType(service, "tally", lambda i: Tally(i), evolve),
        codec=EventCodec([Opened, Added]),
        projection=Projection(
            name="tallies",
            collection="tallies",
            subject_filter=f"{service}.events.tally.>",
            key=lambda r: r.aggregate_id,
            apply=apply,
        ),
    )
