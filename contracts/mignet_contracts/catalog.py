"""Every published event class, found by its CloudEvents ``type`` (``ce-type``)."""

from __future__ import annotations

from collections.abc import Iterable

from mignet_contracts.envelope import Event
from mignet_contracts.registry import REGISTRY_EVENTS
from mignet_contracts.reviews import REVIEWS_EVENTS

ALL_EVENTS: tuple[type[Event], ...] = (*REGISTRY_EVENTS, *REVIEWS_EVENTS)


def by_type(events: Iterable[type[Event]] = ALL_EVENTS) -> dict[str, type[Event]]:
    """``ce-type`` -> class; two classes claiming one type are a programming error."""
    found: dict[str, type[Event]] = {}
    for cls in events:
        if cls.ce_type() in found:
            raise ValueError(f"two event classes for {cls.ce_type()}")
        found[cls.ce_type()] = cls
    return found
