"""Support requests to the Network (the FAQ's section 6) as pure deciders.

A request is refused when the FAQ's terms say no: a national network asks only if
the country has one, a member state asks for itself (observers are not member
states), objectives come with support on specific objectives, review settings
with review and reporting. The country's national network, its champion status
and an assigned working group arrive as context, loaded from the event store.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from mignet_contracts import reference
from mignet_contracts.envelope import Event
from mignet_contracts.registry import SERVICE, ChampionStatus, national_network_id
from mignet_contracts.support import (
    SUPPORT_REQUEST,
    AcceptSupport,
    CompleteSupport,
    DeclineSupport,
    Requester,
    RequestSupport,
    StartSupport,
    SupportAccepted,
    SupportCompleted,
    SupportDeclined,
    SupportRequested,
    SupportStarted,
    SupportStatus,
)
from mignet_registry.domain.champion import ChampionState
from mignet_registry.domain.network import EXISTING_STATUSES, NetworkState, describe_network
from mignet_registry.domain.wording import words as _words
from mignet_registry.domain.working_group import WorkingGroupState
from mignet_runtime.aggregate import AggregateType, event_date
from mignet_runtime.errors import NotFound, Rejected

SS = SupportStatus
#: The statuses a request may move to from each status.
SUPPORT_TRANSITIONS: dict[SupportStatus, frozenset[SupportStatus]] = {
    SS.REQUESTED: frozenset({SS.ACCEPTED, SS.DECLINED}),
    SS.ACCEPTED: frozenset({SS.IN_PROGRESS, SS.DECLINED}),
    SS.IN_PROGRESS: frozenset({SS.COMPLETED}),
    SS.COMPLETED: frozenset(),
    SS.DECLINED: frozenset(),
}


@dataclass(frozen=True)
class SupportRequestState:
    id: str
    exists: bool = False
    country: str | None = None
    status: SupportStatus | None = None
    last_on: date | None = None


def initial_support_request(aggregate_id: str) -> SupportRequestState:
    return SupportRequestState(id=aggregate_id)


_STATUS_OF: dict[type[Event], SupportStatus] = {
    SupportRequested: SS.REQUESTED,
    SupportAccepted: SS.ACCEPTED,
    SupportStarted: SS.IN_PROGRESS,
    SupportCompleted: SS.COMPLETED,
    SupportDeclined: SS.DECLINED,
}


def evolve_support_request(state: SupportRequestState, event: Event) -> SupportRequestState:
    status = _STATUS_OF.get(type(event))
    if status is None:
        return state
    if isinstance(event, SupportRequested):
        state = replace(state, exists=True, country=event.country)
    return replace(state, status=status, last_on=event.occurred_on)


SUPPORT_REQUEST_AGGREGATE: AggregateType[SupportRequestState] = AggregateType(
    service=SERVICE, name=SUPPORT_REQUEST, initial=initial_support_request, evolve=evolve_support_request
)


def _check_content(command: RequestSupport) -> None:
    measures = set(command.measures)
    if "specific-objectives" in measures and not command.objectives:
        raise Rejected("support on specific GCM objectives needs the objectives concerned", field="objectives")
    if command.review_settings and "review-and-reporting" not in measures:
        raise Rejected("review settings go with the review-and-reporting measure", field="review_settings")
    if command.uses_review_framework and "gcm-regional-review" not in command.review_settings:
        raise Rejected(
            "the framework for organizing regional reviews applies to review and reporting in a GCM regional review",
            field="uses_review_framework",
        )


def request_support(
    state: SupportRequestState,
    command: RequestSupport,
    today: date,
    *,
    national_network: NetworkState | None = None,
    champion: ChampionState | None = None,
    **context: Any,
) -> list[Event]:
    if state.exists:
        raise Rejected(f"support request {state.id} was already made", field="command_id")
    country = reference.country(command.country)
    if command.requester is Requester.MEMBER_STATE and country.code in reference.OBSERVER_STATES:
        raise Rejected(f"{country.name} is an observer state, not a member state", field="country")
    network_id = None
    if command.requester is Requester.NATIONAL_NETWORK:
        network = national_network
        if network is None or network.id != national_network_id(country.code):
            raise ValueError(f"request-support for {country.code} was given network {network and network.id}")
        if not network.exists:
            raise Rejected(f"{country.name} has no national network to make the request", field="requester")
        if network.status not in EXISTING_STATUSES:
            raise Rejected(
                f"{describe_network(network)} is {_words(network.status) if network.status else 'unknown'}, "
                "not yet an established network that can make the request",
                field="requester",
            )
        network_id = network.id
    _check_content(command)
    on = event_date(command, today)
    is_champion = champion is not None and champion.status is ChampionStatus.CONFIRMED
    return [
        SupportRequested(
            request_id=state.id,
            requester=command.requester,
            country=country.code,
            region=country.primary_region,
            measures=command.measures,
            objectives=command.objectives,
            review_settings=command.review_settings,
            uses_review_framework=command.uses_review_framework,
            description=command.description,
            network_id=network_id,
            champion=is_champion,
            occurred_on=on,
        )
    ]


def _move(state: SupportRequestState, to: SupportStatus, command: Any, today: date) -> date:
    if not state.exists:
        raise NotFound(f"there is no support request {state.id}", field="request_id")
    assert state.status is not None  # SupportRequested sets it
    if to not in SUPPORT_TRANSITIONS[state.status]:
        allowed = " or ".join(sorted(_words(s) for s in SUPPORT_TRANSITIONS[state.status])) or "nothing (final)"
        raise Rejected(
            f"support request {state.id} is {_words(state.status)}; it cannot become {_words(to)} "
            f"(from {_words(state.status)}: {allowed})",
            field="request_id",
        )
    on = event_date(command, today)
    if state.last_on and on < state.last_on:
        raise Rejected(
            f"support request {state.id} last changed on {state.last_on.isoformat()}; "
            f"a change on {on.isoformat()} would be recorded out of order",
            field="occurred_on",
        )
    return on


def accept_support(
    state: SupportRequestState,
    command: AcceptSupport,
    today: date,
    *,
    working_group: WorkingGroupState | None = None,
    **context: Any,
) -> list[Event]:
    on = _move(state, SS.ACCEPTED, command, today)
    if command.working_group is not None and (working_group is None or not working_group.exists):
        raise NotFound(f"there is no working group {command.working_group}", field="working_group")
    if command.lead_entity is not None and command.lead_entity not in reference.UN_ENTITIES:
        raise Rejected(f"{command.lead_entity!r} is not a known UN entity", field="lead_entity")
    return [
        SupportAccepted(
            request_id=state.id, working_group=command.working_group, lead_entity=command.lead_entity, occurred_on=on
        )
    ]


def start_support(state: SupportRequestState, command: StartSupport, today: date, **context: Any) -> list[Event]:
    return [SupportStarted(request_id=state.id, occurred_on=_move(state, SS.IN_PROGRESS, command, today))]


def complete_support(state: SupportRequestState, command: CompleteSupport, today: date, **context: Any) -> list[Event]:
    on = _move(state, SS.COMPLETED, command, today)
    return [SupportCompleted(request_id=state.id, note=command.note, occurred_on=on)]


def decline_support(state: SupportRequestState, command: DeclineSupport, today: date, **context: Any) -> list[Event]:
    if not command.reason.strip():
        raise Rejected("say why the request is declined", field="reason")
    on = _move(state, SS.DECLINED, command, today)
    return [SupportDeclined(request_id=state.id, reason=command.reason, occurred_on=on)]
