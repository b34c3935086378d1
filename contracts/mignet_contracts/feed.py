"""The public feed: the events an integrator may read, and where the server keeps them.

Integrators connect as the NATS user ``integrator``, which lives in an account of
its own (``FEED``, deploy/nats/nats.conf). In that account a stream, ``PUBLIC``,
sources from the services' streams exactly the subjects of public events
(:func:`public_subjects`): personal and unmoderated events (a focal point's e-mail,
a contributor's contact, a submission before moderation) are never copied there,
and the ``FEED`` account cannot reach the services' streams at all. Subjects keep
their names: ``registry.events.champion.*.nominated`` filters the same events on
``PUBLIC`` as on ``REGISTRY``.
"""

from __future__ import annotations

from mignet_contracts.catalog import REGISTRY_STREAM_EVENTS
from mignet_contracts.envelope import Event
from mignet_contracts.reviews import REVIEWS_EVENTS

#: The stream integrators read, in the account ``FEED``.
PUBLIC_STREAM = "PUBLIC"
#: The NATS account that holds it, and its read-only user.
FEED_ACCOUNT = "FEED"
INTEGRATOR_USER = "integrator"
#: The services whose streams feed ``PUBLIC``, by stream name.
SOURCES: dict[str, tuple[type[Event], ...]] = {
    "REGISTRY": REGISTRY_STREAM_EVENTS,
    "REVIEWS": REVIEWS_EVENTS,
}


def public_events() -> tuple[type[Event], ...]:
    return tuple(cls for events in SOURCES.values() for cls in events if cls.public)


def public_subjects(stream: str) -> list[str]:
    """The subject filters ``PUBLIC`` sources from ``stream``: one per public event type."""
    return [cls.subject_for("*") for cls in SOURCES[stream] if cls.public]
