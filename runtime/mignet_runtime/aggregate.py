"""How a service describes an event-sourced aggregate to the runtime (pure, no I/O).

An aggregate is a *decider*: ``evolve`` folds events into state, and command
handlers are plain functions ``(state, command, ...) -> list[Event]`` that
raise :class:`~mignet_runtime.errors.Rejected` when a rule forbids the change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from mignet_contracts.envelope import Command, Event
from mignet_runtime.errors import Rejected

S = TypeVar("S")


@dataclass(frozen=True)
class AggregateType(Generic[S]):
    service: str
    name: str
    initial: Callable[[str], S]
    evolve: Callable[[S, Event], S]

    def wildcard(self, aggregate_id: str) -> str:
        """Every event subject of one aggregate instance."""
        return f"{self.service}.events.{self.name}.{aggregate_id}.*"

    def fold(self, aggregate_id: str, events: Iterable[Event]) -> S:
        state = self.initial(aggregate_id)
        for event in events:
            state = self.evolve(state, event)
        return state


def event_date(command, today: date, default: date | None = None) -> date:
    """The business date of what a command records: its ``occurred_on``, else ``default``, else today.

    Never in the future: point-in-time queries would show facts before they happened.
    """
    on = getattr(command, "occurred_on", None) or default or today
    if on > today:
        raise Rejected(
            f"the date {on.isoformat()} is in the future (today is {today.isoformat()})", field="occurred_on"
        )
    return on


def named_id(command: Command, field: str) -> str:
    """The aggregate id a command names in ``field`` (``Command`` itself names none)."""
    value = getattr(command, field)
    if not isinstance(value, str):
        raise TypeError(f"{type(command).__name__}.{field} is not a string")
    return value
