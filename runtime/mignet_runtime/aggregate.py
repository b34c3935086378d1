"""How a service describes an event-sourced aggregate to the runtime (pure, no I/O).

An aggregate is a *decider*: ``evolve`` folds events into state, and command
handlers are plain functions ``(state, command, ...) -> list[Event]`` that
raise :class:`~mignet_runtime.errors.Rejected` when a rule forbids the change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from mignet_contracts.envelope import Event

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
