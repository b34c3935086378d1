"""Every published event class, found by its CloudEvents ``type`` (``ce-type``), and the upcasters.

A stream holds every version of an event ever written. Readers pick the class by
``ce-type`` (never by subject: v1 and v2 share their subject), then :func:`upcast` turns
an earlier version into the current one, so services rebuild state and projections,
and integrators read the feed, with the current models only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from mignet_contracts.envelope import Event
from mignet_contracts.registry import REGISTRY_EVENTS, REGISTRY_UPCASTERS
from mignet_contracts.reviews import REVIEWS_EVENTS
from mignet_contracts.support import SUPPORT_EVENTS
from mignet_contracts.working_groups import WORKING_GROUP_EVENTS

#: Every event the REGISTRY stream holds (networks and champions, working groups, support requests): the one
#: list its readers use (the registry itself, the public feed's sources, the notifier's consumer).
REGISTRY_STREAM_EVENTS: tuple[type[Event], ...] = (*REGISTRY_EVENTS, *WORKING_GROUP_EVENTS, *SUPPORT_EVENTS)
ALL_EVENTS: tuple[type[Event], ...] = (*REGISTRY_STREAM_EVENTS, *REVIEWS_EVENTS)
#: Earlier version -> the function that makes the next version of it.
UPCASTERS: dict[type[Event], Callable[[Event], Event]] = {**REGISTRY_UPCASTERS}
HISTORIC_EVENTS: tuple[type[Event], ...] = tuple(UPCASTERS)


def upcast(event: Event) -> Event:
    """The current version of ``event`` (itself when it is current)."""
    while (step := UPCASTERS.get(type(event))) is not None:
        event = step(event)
    return event


def readable(events: Iterable[type[Event]]) -> tuple[type[Event], ...]:
    """``events`` and the earlier versions of each (same service, aggregate and name): what a reader decodes."""
    current = tuple(events)
    kinds = {(cls.service, cls.aggregate, cls.name) for cls in current}
    return (*current, *(old for old in HISTORIC_EVENTS if (old.service, old.aggregate, old.name) in kinds))


def by_type(events: Iterable[type[Event]] = ALL_EVENTS + HISTORIC_EVENTS) -> dict[str, type[Event]]:
    """``ce-type`` -> class; two classes claiming one type are a programming error."""
    found: dict[str, type[Event]] = {}
    for cls in events:
        if cls.ce_type() in found:
            raise ValueError(f"two event classes for {cls.ce_type()}")
        found[cls.ce_type()] = cls
    return found
