"""The notifier service's contracts: subscriptions to the other services' events, and their deliveries.

Aggregate ``subscription``: id ``s-<16 hex>`` derived from the creating command's
id, so a retried create targets the same aggregate; lifecycle active -> paused ->
active, disabled (the receiver answered 410 Gone; resume re-enables), deleted.

A subscription names the CloudEvents types it wants (exact, or a prefix with a
trailing ``.*``), optional filters, and one channel: a webhook URL or an e-mail
address. **Internal** subscriptions (``internal: true``) are the Network's own
staff: e-mail only, and the only ones that may receive events that are not
public (``x-public: false``); an external subscription naming such a type is
refused, and its wildcards match public types only.

Webhook secrets are never stored in an event: the notifier derives each one
from its own key (``MIGNET_NOTIFIER_SECRET_KEY``) and the subscription's
``secret_version``, shows it in the reply to create and rotate-secret only,
and signs with the previous one too until ``previous_valid_until``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from mignet_contracts import registry, reviews
from mignet_contracts.catalog import REGISTRY_STREAM_EVENTS
from mignet_contracts.envelope import Command, Contract, Event, Query
from mignet_contracts.fields import (
    DEFAULT_PAGE,
    MAX_OFFSET,
    MAX_PAGE,
    PERSONAL_LOOKUP,
    CountryCode,
    PersonalEmail,
    matching,
    max_items,
)
from mignet_contracts.privacy import ErasureRequest, PersonalDataErasure
from mignet_contracts.reference import RegionCode
from mignet_contracts.reviews import ReviewId

SERVICE = "notifier"
EVENTS_SUBJECT = f"{SERVICE}.events.>"
SUBSCRIPTION_EVENTS_SUBJECT = f"{SERVICE}.events.subscription.>"
SUBSCRIPTION = "subscription"

#: Fixed forever: subscription ids derive from it (a retried create targets the same aggregate).
SUBSCRIPTION_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://mignet.un-migration.int/notifier/subscriptions")
SUBSCRIPTION_ID_PATTERN = r"^s-[0-9a-f]{16}$"
DELIVERY_ID_PATTERN = r"^d-[0-9a-f]{24}$"
MAX_EVENT_TYPES = 50
MAX_URL_LENGTH = 2000

#: Events that carry someone's contact details: never notified (nor kept by the notifier).
PERSONAL_EVENTS: tuple[type[Event], ...] = (registry.NetworkFocalPointAssigned, reviews.ContributionContactRecorded)
#: The streams the notifier consumes, each with every event it holds (the same lists their services use).
SOURCE_EVENTS: dict[str, tuple[type[Event], ...]] = {
    registry.SERVICE: REGISTRY_STREAM_EVENTS,
    reviews.SERVICE: reviews.REVIEWS_EVENTS,
}
#: Every event type a subscription may name: CloudEvents type -> public?
SUBSCRIBABLE: dict[str, bool] = {
    e.ce_type(): e.public for events in SOURCE_EVENTS.values() for e in events if e not in PERSONAL_EVENTS
}


def subscription_id(command_id: str) -> str:
    return "s-" + uuid.uuid5(SUBSCRIPTION_ID_NAMESPACE, command_id).hex[:16]


def types_matching(pattern: str) -> list[str]:
    """The known event types a pattern names: itself, or every type under a ``prefix.*``."""
    if pattern.endswith(".*"):
        prefix = pattern[:-1]
        return sorted(t for t in SUBSCRIBABLE if t.startswith(prefix))
    return [pattern] if pattern in SUBSCRIBABLE else []


def not_public_matching(patterns: Iterable[str]) -> list[str]:
    """The types that are not public among those ``patterns`` name with a trailing wildcard: a subscription
    that is not internal is never sent them (naming one exactly is refused: :func:`check_external_types`)."""
    return sorted({t for p in patterns if p.endswith(".*") for t in types_matching(p) if not SUBSCRIBABLE[t]})


def _event_type(value: str) -> str:
    if not types_matching(value):
        raise ValueError(
            f"unknown event type {value[:120]!r}: expected a CloudEvents type such as "
            f"'{registry.NetworkCreated.ce_type()}', or a prefix with a trailing '.*' "
            "(the types are listed in contracts/mignet_contracts/schemas/asyncapi/)"
        )
    return value


def _unique(values: tuple) -> tuple:
    return tuple(dict.fromkeys(values))


def _at_least_one(values: tuple) -> tuple:
    if not values:
        raise ValueError("name at least one event type")
    return values


EventTypePattern = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_event_type)]
EventTypes = Annotated[
    tuple[EventTypePattern, ...],
    Field(max_length=MAX_EVENT_TYPES, json_schema_extra={"minItems": 1}),
    AfterValidator(_at_least_one),
    AfterValidator(_unique),
    max_items(MAX_EVENT_TYPES),
]
#: PERSONAL DATA: the one field type that holds a subscriber's e-mail address, sealed per data subject in
#: the events and erasable by `mignet privacy erase --email` (docs/privacy.md).
SubscriberEmail = PersonalEmail
SubscriptionId = Annotated[
    str, *matching(SUBSCRIPTION_ID_PATTERN, "a subscription id", "'s-' and 16 lower-case hex digits")
]
DeliveryId = Annotated[str, *matching(DELIVERY_ID_PATTERN, "a delivery id", "'d-' and 24 lower-case hex digits")]
SubscriptionName = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f\x7f]+$")]


def _webhook_url(value: str) -> str:
    # Syntax only; https (or an allowed private http host) and where the host resolves to are checked
    # by the service when the command arrives and again at every connection (SSRF guard).
    from urllib.parse import urlsplit

    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("a webhook URL may not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {value[:80]!r} ({exc})") from None
    if parts.scheme not in ("https", "http"):
        raise ValueError(f"a webhook URL must be https, not {value[:80]!r}")
    if not parts.hostname:
        raise ValueError(f"webhook URL {value[:80]!r} has no host")
    if "@" in parts.netloc:
        raise ValueError("a webhook URL may not hold a user name or password (user@host)")
    if parts.fragment:
        raise ValueError("a webhook URL may not have a #fragment")
    return value


WebhookUrl = Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL_LENGTH), AfterValidator(_webhook_url)]


class Channel(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    DISABLED = "disabled"
    DELETED = "deleted"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    DELIVERING = "delivering"  # claimed by a worker, attempt under way
    DELIVERED = "delivered"
    PARKED = "parked"  # the retry schedule ran out: `mignet notifier retry` sends it again
    CANCELLED = "cancelled"  # the subscription was deleted or disabled (410) before it went


class Filters(Contract):
    """An event passes when it carries each field set here with that value; an event without the field fails."""

    region: RegionCode | None = None
    country: CountryCode | None = None
    review_id: ReviewId | None = None


# --- Events --------------------------------------------------------------------------------


class SubscriptionEvent(Event):
    service: ClassVar[str] = SERVICE
    aggregate: ClassVar[str] = SUBSCRIPTION
    id_field: ClassVar[str] = "subscription_id"
    #: Operators' data (addresses, URLs): never public.
    public: ClassVar[bool] = False

    subscription_id: SubscriptionId


class _SubscriptionTerms(Contract):
    """What a subscription is: the same in the command that creates it and the event that records it."""

    title: SubscriptionName
    channel: Channel
    url: WebhookUrl | None = None
    # The mark at the field's own level: inside ``X | None`` pydantic keeps no metadata for the runtime to read.
    email: Annotated[SubscriberEmail | None, PERSONAL_LOOKUP] = Field(default=None, repr=False)
    event_types: EventTypes
    filters: Filters = Filters()
    internal: bool = Field(
        default=False, description="The Network's own staff: e-mail only; may get non-public events."
    )


class SubscriptionCreated(_SubscriptionTerms, SubscriptionEvent):
    """A subscription was created (PERSONAL DATA: an e-mail subscription's address)."""

    name: ClassVar[str] = "created"

    secret_version: int = Field(default=0, ge=0, description="1 for a webhook (0: no secret, e-mail).")


class SubscriptionPaused(SubscriptionEvent):
    name: ClassVar[str] = "paused"

    reason: Reason | None = None
    automatic: bool = Field(default=False, description="True when the notifier paused it after failing for long.")


class SubscriptionResumed(SubscriptionEvent):
    name: ClassVar[str] = "resumed"


class SubscriptionDisabled(SubscriptionEvent):
    """The receiver answered 410 Gone: nothing more is sent until it is resumed."""

    name: ClassVar[str] = "disabled"

    reason: Reason


class SubscriptionFiltersUpdated(SubscriptionEvent):
    name: ClassVar[str] = "filters-updated"

    event_types: EventTypes
    filters: Filters = Filters()


class SubscriptionSecretRotated(SubscriptionEvent):
    """A new webhook secret; the previous one still signs (beside it) until ``previous_valid_until``."""

    name: ClassVar[str] = "secret-rotated"

    secret_version: int = Field(ge=2)
    previous_valid_until: datetime


class SubscriptionDeleted(SubscriptionEvent):
    name: ClassVar[str] = "deleted"


class SubscriptionPersonalDataErased(PersonalDataErasure, SubscriptionEvent):
    """An e-mail subscription's address was erased (its keys deleted): the record, without the data.

    The subscription is deleted with it: without its address it can send nothing more.
    """

    name: ClassVar[str] = "personal-data-erased"


# --- Commands ------------------------------------------------------------------------------


class NotifierCommand(Command):
    service: ClassVar[str] = SERVICE


class CreateSubscription(_SubscriptionTerms, NotifierCommand):
    """Subscribe a webhook (``url``) or an e-mail address (``email``) to event types."""

    name: ClassVar[str] = "create-subscription"

    @model_validator(mode="after")
    def _channel_fits(self) -> CreateSubscription:
        if self.channel is Channel.WEBHOOK and (self.url is None or self.email is not None):
            raise ValueError("a webhook subscription needs a url and no email")
        if self.channel is Channel.EMAIL and (self.email is None or self.url is not None):
            raise ValueError("an e-mail subscription needs an email and no url")
        if self.internal and self.channel is not Channel.EMAIL:
            raise ValueError("internal subscriptions are e-mail only: webhooks never get events that are not public")
        if not self.internal:
            check_external_types(self.event_types)
        return self

    @property
    def subscription_id(self) -> str:
        return subscription_id(self.command_id)


def check_external_types(event_types: tuple[str, ...]) -> None:
    private = [t for t in event_types if t in SUBSCRIBABLE and not SUBSCRIBABLE[t]]
    if private:
        raise ValueError(
            f"{', '.join(private)} is not public (x-public: false): only an internal e-mail subscription may have it"
        )


class _OnSubscription(NotifierCommand):
    subscription_id: SubscriptionId


class PauseSubscription(_OnSubscription):
    name: ClassVar[str] = "pause-subscription"

    reason: Reason | None = None
    automatic: bool = Field(default=False, description="Set by the notifier when it pauses a failing subscription.")


class ResumeSubscription(_OnSubscription):
    name: ClassVar[str] = "resume-subscription"


class DisableSubscription(_OnSubscription):
    """Sent by the notifier itself when a receiver answers 410 Gone."""

    name: ClassVar[str] = "disable-subscription"

    reason: Reason


class UpdateSubscriptionFilters(_OnSubscription):
    name: ClassVar[str] = "update-subscription-filters"

    event_types: EventTypes
    filters: Filters = Filters()


class RotateSubscriptionSecret(_OnSubscription):
    """A new secret (in the reply); the previous one keeps signing beside it for ``overlap_hours``."""

    name: ClassVar[str] = "rotate-subscription-secret"

    overlap_hours: int = Field(default=24, ge=0, le=24 * 30)


class DeleteSubscription(_OnSubscription):
    name: ClassVar[str] = "delete-subscription"


class ErasePersonalData(ErasureRequest, _OnSubscription):
    """Erase an e-mail subscription's address (crypto-shredding); the subscription is deleted with it."""

    name: ClassVar[str] = "erase-personal-data"


class RetryDeliveries(NotifierCommand):
    """Parked deliveries go again: one (``delivery_id``) or all of a subscription's (``subscription_id``).

    Not an event-sourced change: it resets the deliveries' schedule in the delivery log.
    """

    name: ClassVar[str] = "retry-deliveries"

    delivery_id: DeliveryId | None = None
    subscription_id: SubscriptionId | None = None

    @model_validator(mode="after")
    def _one_target(self) -> RetryDeliveries:
        if (self.delivery_id is None) == (self.subscription_id is None):
            raise ValueError("give either a delivery_id or a subscription_id")
        return self


# --- Queries -------------------------------------------------------------------------------


class NotifierQuery(Query):
    service: ClassVar[str] = SERVICE


class ListSubscriptions(NotifierQuery):
    name: ClassVar[str] = "list-subscriptions"

    status: SubscriptionStatus | None = None
    channel: Channel | None = None
    limit: int = Field(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class GetSubscription(NotifierQuery):
    name: ClassVar[str] = "get-subscription"

    subscription_id: SubscriptionId


class ListDeliveries(NotifierQuery):
    """The delivery log, newest first: per subscription, or all parked ones (``status: parked``)."""

    name: ClassVar[str] = "list-deliveries"

    subscription_id: SubscriptionId | None = None
    status: DeliveryStatus | None = None
    limit: int = Field(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class DeliveryFigures(NotifierQuery):
    """Deliveries per channel and status."""

    name: ClassVar[str] = "delivery-figures"


# --- The webhook payload (documented; not sent over NATS) -----------------------------------


class WebhookCloudEvent(Contract):
    """The body of every webhook POST: the event in CloudEvents structured JSON mode
    (``content-type: application/cloudevents+json``), signed per Standard Webhooks."""

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(description="The event's own id (ce-id): the same for every subscription.")
    type: str
    source: str
    subject: str
    time: datetime
    dataschema: str
    datacontenttype: Literal["application/json"] = "application/json"
    correlationid: str | None = None
    data: dict


# --- Catalogues ------------------------------------------------------------------------------

NOTIFIER_EVENTS: tuple[type[Event], ...] = (
    SubscriptionCreated,
    SubscriptionPaused,
    SubscriptionResumed,
    SubscriptionDisabled,
    SubscriptionFiltersUpdated,
    SubscriptionSecretRotated,
    SubscriptionDeleted,
    SubscriptionPersonalDataErased,
)
#: Commands on the subscription aggregate (RetryDeliveries acts on the delivery log instead).
SUBSCRIPTION_COMMANDS: tuple[type[Command], ...] = (
    CreateSubscription,
    PauseSubscription,
    ResumeSubscription,
    DisableSubscription,
    UpdateSubscriptionFilters,
    RotateSubscriptionSecret,
    DeleteSubscription,
    ErasePersonalData,
)
NOTIFIER_COMMANDS: tuple[type[Command], ...] = (*SUBSCRIPTION_COMMANDS, RetryDeliveries)
NOTIFIER_QUERIES: tuple[type[Query], ...] = (ListSubscriptions, GetSubscription, ListDeliveries, DeliveryFigures)
