"""Subscriptions: who hears about which events, through which channel.

Pure: no I/O and no clock (callers pass ``today`` and ``now``). Each decide function
takes the subscription's state and a command and returns the events to append, or
raises :class:`Rejected` / :class:`NotFound` / :class:`ValidationFailed`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from mignet_contracts import notifier as contracts
from mignet_contracts.envelope import Event
from mignet_contracts.fields import ERASED
from mignet_contracts.notifier import (
    SERVICE,
    Channel,
    CreateSubscription,
    DeleteSubscription,
    DisableSubscription,
    ErasePersonalData,
    Filters,
    PauseSubscription,
    ResumeSubscription,
    RotateSubscriptionSecret,
    SubscriptionCreated,
    SubscriptionDeleted,
    SubscriptionDisabled,
    SubscriptionFiltersUpdated,
    SubscriptionPaused,
    SubscriptionPersonalDataErased,
    SubscriptionResumed,
    SubscriptionSecretRotated,
    SubscriptionStatus,
    UpdateSubscriptionFilters,
)
from mignet_runtime.aggregate import AggregateType
from mignet_runtime.errors import NotFound, Rejected, ValidationFailed

SS = SubscriptionStatus


@dataclass(frozen=True)
class SubscriptionState:
    id: str
    exists: bool = False
    status: SubscriptionStatus | None = None
    title: str = ""
    channel: Channel | None = None
    url: str | None = None
    email: str | None = None
    event_types: tuple[str, ...] = ()
    filters: Filters = Filters()
    internal: bool = False
    secret_version: int = 0
    previous_valid_until: datetime | None = None


def initial_subscription(aggregate_id: str) -> SubscriptionState:
    return SubscriptionState(id=aggregate_id)


def evolve_subscription(state: SubscriptionState, event: Event) -> SubscriptionState:
    match event:
        case SubscriptionCreated():
            return replace(
                state,
                exists=True,
                status=SS.ACTIVE,
                title=event.title,
                channel=event.channel,
                url=event.url,
                email=event.email,
                event_types=event.event_types,
                filters=event.filters,
                internal=event.internal,
                secret_version=event.secret_version,
            )
        case SubscriptionPaused():
            return replace(state, status=SS.PAUSED)
        case SubscriptionDisabled():
            return replace(state, status=SS.DISABLED)
        case SubscriptionResumed():
            return replace(state, status=SS.ACTIVE)
        case SubscriptionFiltersUpdated():
            return replace(state, event_types=event.event_types, filters=event.filters)
        case SubscriptionSecretRotated():
            return replace(state, secret_version=event.secret_version, previous_valid_until=event.previous_valid_until)
        case SubscriptionDeleted():
            return replace(state, status=SS.DELETED)
        case SubscriptionPersonalDataErased():
            # Without its address the subscription can send nothing: it is deleted with the erasure.
            return replace(state, status=SS.DELETED, email=ERASED if state.email else None)
    return state


SUBSCRIPTION: AggregateType[SubscriptionState] = AggregateType(
    service=SERVICE, name=contracts.SUBSCRIPTION, initial=initial_subscription, evolve=evolve_subscription
)


def _existing(state: SubscriptionState) -> SubscriptionState:
    if not state.exists or state.status is SS.DELETED:
        raise NotFound(f"no subscription {state.id}", field="subscription_id")
    return state


def create_subscription(state: SubscriptionState, cmd: CreateSubscription, today: date) -> list[Event]:
    if state.exists:
        raise Rejected(f"subscription {state.id} already exists (send create with a new command id)")
    return [
        SubscriptionCreated(
            subscription_id=state.id,
            occurred_on=today,
            title=cmd.title,
            channel=cmd.channel,
            url=cmd.url,
            email=cmd.email,
            event_types=cmd.event_types,
            filters=cmd.filters,
            internal=cmd.internal,
            secret_version=1 if cmd.channel is Channel.WEBHOOK else 0,
        )
    ]


def pause_subscription(state: SubscriptionState, cmd: PauseSubscription, today: date) -> list[Event]:
    _existing(state)
    if state.status is not SS.ACTIVE:
        raise Rejected(f"subscription {state.id} is {state.status}, not active: only an active one can be paused")
    return [SubscriptionPaused(subscription_id=state.id, occurred_on=today, reason=cmd.reason, automatic=cmd.automatic)]


def resume_subscription(state: SubscriptionState, cmd: ResumeSubscription, today: date) -> list[Event]:
    _existing(state)
    if state.status is SS.ACTIVE:
        raise Rejected(f"subscription {state.id} is already active")
    return [SubscriptionResumed(subscription_id=state.id, occurred_on=today)]


def disable_subscription(state: SubscriptionState, cmd: DisableSubscription, today: date) -> list[Event]:
    _existing(state)
    if state.status is SS.DISABLED:
        return []
    return [SubscriptionDisabled(subscription_id=state.id, occurred_on=today, reason=cmd.reason)]


def update_filters(state: SubscriptionState, cmd: UpdateSubscriptionFilters, today: date) -> list[Event]:
    _existing(state)
    if not state.internal:
        try:
            contracts.check_external_types(cmd.event_types)
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="event_types") from None
    return [
        SubscriptionFiltersUpdated(
            subscription_id=state.id, occurred_on=today, event_types=cmd.event_types, filters=cmd.filters
        )
    ]


def rotate_secret(state: SubscriptionState, cmd: RotateSubscriptionSecret, today: date, now: datetime) -> list[Event]:
    _existing(state)
    if state.channel is not Channel.WEBHOOK:
        raise Rejected(f"subscription {state.id} is an e-mail subscription: it has no signing secret")
    return [
        SubscriptionSecretRotated(
            subscription_id=state.id,
            occurred_on=today,
            secret_version=state.secret_version + 1,
            previous_valid_until=now + timedelta(hours=cmd.overlap_hours),
        )
    ]


def delete_subscription(state: SubscriptionState, cmd: DeleteSubscription, today: date) -> list[Event]:
    _existing(state)
    return [SubscriptionDeleted(subscription_id=state.id, occurred_on=today)]


def erase_personal_data(
    state: SubscriptionState, cmd: ErasePersonalData, today: date, *, data_keys: list[str], **context: Any
) -> list[Event]:
    """Record the erasure of an e-mail subscription's address (``data_keys``: its keys), even once deleted."""
    if not state.exists:
        raise NotFound(f"no subscription {state.id}", field="subscription_id")
    if not data_keys:
        raise Rejected(f"subscription {state.id} holds no personal data: it is a webhook, or erased already")
    return [
        SubscriptionPersonalDataErased(
            subscription_id=state.id, key_ids=data_keys, requested_by=cmd.requested_by, occurred_on=today
        )
    ]
