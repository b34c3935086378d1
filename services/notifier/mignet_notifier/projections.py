"""Read models of the notifier: the subscriptions, and the outbox of events from the other services.

* ``subscriptions`` (from NOTIFIER): one document per subscription, what the
  queries and the delivery worker read. It holds no personal data: an e-mail
  subscription's address stays sealed in its event, and is read (opened with the
  notifier's key ring) from the event store when a message is sent or the
  subscription shown; erasing it deletes the key and the subscription.
* ``outbox_registry`` / ``outbox_reviews`` (from REGISTRY / REVIEWS, through the
  notifier's own durable consumers ``notifier-registry`` and ``notifier-reviews``):
  one document per event, holding the event in CloudEvents structured form and the
  facets filters match on. The runner writes it and checkpoints before it acks, so
  no event is lost or recorded twice; :mod:`.expansion` then expands each document
  into one delivery per matching subscription (its cursor passes the document).
"""

from __future__ import annotations

from typing import Any

from mignet_contracts import notifier as c
from mignet_contracts import registry as r
from mignet_contracts import reviews as rv
from mignet_contracts.envelope import Event
from mignet_notifier.domain.matching import facets
from mignet_notifier.inherited_facets import SUBJECT
from mignet_runtime.codec import EventCodec, RecordedEvent
from mignet_runtime.projection import Projection
from mignet_runtime.service import ForeignSource

Doc = dict[str, Any]


def apply_subscription(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    at = recorded.recorded_at
    if isinstance(event, c.SubscriptionCreated):
        return {
            "subscription_id": event.subscription_id,
            "title": event.title,
            "channel": str(event.channel),
            "url": event.url,
            # Never the address itself: MongoDB's files would keep it after an erasure (docs/privacy.md).
            "event_types": list(event.event_types),
            "filters": event.filters.model_dump(mode="json", exclude_none=True),
            "internal": event.internal,
            "status": str(c.SubscriptionStatus.ACTIVE),
            "status_reason": None,
            "secret_version": event.secret_version,
            "previous_valid_until": None,
            "created_at": at,
            "updated_at": at,
        }
    if doc is None:
        return None
    match event:
        case c.SubscriptionPaused():
            doc.update(status=str(c.SubscriptionStatus.PAUSED), status_reason=event.reason, automatic=event.automatic)
        case c.SubscriptionDisabled():
            doc.update(status=str(c.SubscriptionStatus.DISABLED), status_reason=event.reason)
        case c.SubscriptionResumed():
            doc.update(status=str(c.SubscriptionStatus.ACTIVE), status_reason=None, automatic=False)
        case c.SubscriptionFiltersUpdated():
            doc.update(
                event_types=list(event.event_types), filters=event.filters.model_dump(mode="json", exclude_none=True)
            )
        case c.SubscriptionSecretRotated():
            doc.update(secret_version=event.secret_version, previous_valid_until=event.previous_valid_until)
        case c.SubscriptionDeleted():
            doc.update(status=str(c.SubscriptionStatus.DELETED))
        case c.SubscriptionPersonalDataErased():
            doc.update(
                status=str(c.SubscriptionStatus.DELETED),
                status_reason="the subscriber's address was erased",
                personal_data_erased_on=event.occurred_on.isoformat(),
            )
        case _:
            return None
    doc["updated_at"] = at
    return doc


SUBSCRIPTIONS = Projection(
    name="subscriptions",
    collection="subscriptions",
    subject_filter=c.SUBSCRIPTION_EVENTS_SUBJECT,
    key=lambda recorded: recorded.aggregate_id,
    apply=apply_subscription,
    indexes=(("status",),),
)


def cloud_event(recorded: RecordedEvent) -> Doc:
    """The event in CloudEvents structured JSON mode (the webhook body; see contracts WebhookCloudEvent)."""
    event: Event = recorded.event
    return c.WebhookCloudEvent(
        id=recorded.event_id,
        type=event.ce_type(),
        source=f"/mignet/{event.service}",
        subject=event.aggregate_id,
        time=recorded.recorded_at,
        dataschema=event.dataschema(),
        correlationid=recorded.correlation_id,
        data=event.model_dump(mode="json"),
    ).model_dump(mode="json")


def apply_outbox(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    if doc is not None or event.ce_type() not in c.SUBSCRIBABLE:
        return None  # one document per event, written once; contact details are never kept
    return {
        "event_id": recorded.event_id,
        "type": event.ce_type(),
        "public": event.public,
        "facets": facets(event),
        "recorded_at": recorded.recorded_at,
        "cloud_event": cloud_event(recorded),
        # The event's trace context: each delivery of it continues that trace (docs/operations.md, Traces).
        "trace": [recorded.traceparent, recorded.tracestate],
    }


#: How often the outboxes' checkpoints are written at most (``Projection.checkpoint_seconds``).
OUTBOX_CHECKPOINT_SECONDS = 0.25


def _outbox(service: str, subjects: str, *indexes: tuple[str, ...]) -> Projection:
    return Projection(
        name=service,
        collection=f"outbox_{service}",
        subject_filter=subjects,
        key=lambda recorded: recorded.event_id,
        apply=apply_outbox,
        indexes=(("_seq",), *indexes),  # expansion reads them in stream order, after its cursor
        # The notifier expands each batch as it is written (expansion.py), not after the checkpoint: one
        # journaled write per event fewer on the way to a webhook at a steady rate.
        checkpoint_seconds=OUTBOX_CHECKPOINT_SECONDS,
    )


#: Support requests' progress looks up the request's first event by its subject (inherited_facets).
OUTBOX_REGISTRY = _outbox(r.SERVICE, r.EVENTS_SUBJECT, (SUBJECT,))
OUTBOX_REVIEWS = _outbox(rv.SERVICE, rv.EVENTS_SUBJECT)
OUTBOXES = (OUTBOX_REGISTRY, OUTBOX_REVIEWS)
PROJECTIONS = (SUBSCRIPTIONS,)
FOREIGN = (
    ForeignSource(service=r.SERVICE, codec=EventCodec(c.SOURCE_EVENTS[r.SERVICE]), projections=(OUTBOX_REGISTRY,)),
    ForeignSource(service=rv.SERVICE, codec=EventCodec(c.SOURCE_EVENTS[rv.SERVICE]), projections=(OUTBOX_REVIEWS,)),
)
