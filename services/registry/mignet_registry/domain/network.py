"""Networks on migration: their state, lifecycle and the rules for changing them.

Pure: no I/O and no clock (callers pass ``today``). Each decide function takes the
network's current state and a command and returns the events to append
(atomically), or raises :class:`Rejected` / :class:`NotFound`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from mignet_contracts import reference
from mignet_contracts.envelope import Event
from mignet_contracts.reference import RegionCode
from mignet_contracts.registry import (
    SERVICE,
    AddNetworkMember,
    AlignTermsOfReference,
    AssignFocalPoint,
    ChangeNetworkDescription,
    ChangeNetworkStatus,
    CreateNetwork,
    MemberRole,
    NetworkCreated,
    NetworkDescriptionChanged,
    NetworkFocalPointAssigned,
    NetworkMemberJoined,
    NetworkMemberLeft,
    NetworkRenamed,
    NetworkScope,
    NetworkStatus,
    NetworkStatusChanged,
    NetworkTermsOfReferenceAligned,
    RemoveNetworkMember,
    RenameNetwork,
    TorConsultee,
)
from mignet_registry.domain.wording import country_name as _country_name
from mignet_registry.domain.wording import entity_name as _entity_name
from mignet_registry.domain.wording import words as _words
from mignet_runtime.aggregate import AggregateType, event_date
from mignet_runtime.errors import NotFound, Rejected

S = NetworkStatus

#: The statuses a network may move to from each status.
STATUS_TRANSITIONS: dict[NetworkStatus, frozenset[NetworkStatus]] = {
    S.UNDER_CONSIDERATION: frozenset({S.BEING_ESTABLISHED, S.ESTABLISHED, S.INACTIVE}),
    S.BEING_ESTABLISHED: frozenset({S.ESTABLISHED, S.INACTIVE}),
    S.ESTABLISHED: frozenset({S.INACTIVE}),
    S.INACTIVE: frozenset({S.BEING_ESTABLISHED}),
}

#: Statuses in which a network counts as "an existing UN network on migration" for champions.
WORKING_STATUSES: frozenset[NetworkStatus] = frozenset({S.BEING_ESTABLISHED, S.ESTABLISHED})


# --- State -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusChange:
    on: date
    from_status: NetworkStatus | None  # None for the status the network was created in
    to_status: NetworkStatus
    reason: str | None = None


@dataclass(frozen=True)
class FocalPoint:
    name: str
    entity: str
    email: str
    assigned_on: date


@dataclass(frozen=True)
class NetworkState:
    id: str
    exists: bool = False
    scope: NetworkScope | None = None
    country: str | None = None
    region: RegionCode | None = None
    name: str | None = None
    subregion: str | None = None
    description: str | None = None
    status: NetworkStatus | None = None
    # Never mutated: evolve builds a new dict for every change.
    members: dict[str, MemberRole] = field(default_factory=dict)
    tor_aligned_on: date | None = None
    focal_point: FocalPoint | None = None
    created_on: date | None = None
    history: tuple[StatusChange, ...] = ()

    @property
    def coordinator(self) -> str | None:
        return next((e for e, role in self.members.items() if role == MemberRole.COORDINATOR), None)


def initial_network(network_id: str) -> NetworkState:
    return NetworkState(id=network_id)


def evolve_network(state: NetworkState, event: Event) -> NetworkState:
    match event:
        case NetworkCreated():
            return replace(
                state,
                exists=True,
                scope=event.scope,
                country=event.country,
                region=event.region,
                name=event.network_name,
                subregion=event.subregion,
                description=event.description,
                status=event.status,
                created_on=event.occurred_on,
                history=(StatusChange(event.occurred_on, None, event.status),),
            )
        case NetworkStatusChanged():
            change = StatusChange(event.occurred_on, event.from_status, event.to_status, event.reason)
            return replace(state, status=event.to_status, history=(*state.history, change))
        case NetworkRenamed():
            return replace(state, name=event.network_name)
        case NetworkDescriptionChanged():
            return replace(state, description=event.description)
        case NetworkMemberJoined():
            return replace(state, members={**state.members, event.entity: event.role})
        case NetworkMemberLeft():
            members = {e: r for e, r in state.members.items() if e != event.entity}
            focal_point = None if state.focal_point and state.focal_point.entity == event.entity else state.focal_point
            return replace(state, members=members, focal_point=focal_point)
        case NetworkTermsOfReferenceAligned():
            return replace(state, tor_aligned_on=event.aligned_on)
        case NetworkFocalPointAssigned():
            focal_point = FocalPoint(event.focal_point_name, event.entity, event.email, event.occurred_on)
            return replace(state, focal_point=focal_point)
    # Unknown events (a newer version, another aggregate's) leave the state as it is.
    return state


NETWORK: AggregateType[NetworkState] = AggregateType(
    service=SERVICE, name="network", initial=initial_network, evolve=evolve_network
)


# --- Wording for operators ---------------------------------------------------------------


def describe_network(state: NetworkState) -> str:
    if state.scope == NetworkScope.GLOBAL:
        return f"the global UN Network on Migration ({state.id})"
    if state.scope == NetworkScope.NATIONAL and state.country:
        return f"the national network for {_country_name(state.country)} ({state.id})"
    if state.scope == NetworkScope.REGIONAL and state.region:
        return f"the regional network {state.name!r} in {reference.region_in_sentence(state.region)} ({state.id})"
    return f"network {state.id}"


# --- Shared checks -------------------------------------------------------------------------


def _existing_network(state: NetworkState) -> NetworkState:
    if not state.exists:
        raise NotFound(f"there is no network {state.id}", field="network_id")
    return state


def _existing_status(state: NetworkState) -> NetworkStatus:
    """The status of an existing network (NotFound when there is none)."""
    _existing_network(state)
    assert state.status is not None, f"network {state.id} exists without a status"  # NetworkCreated sets one
    return state.status


def _not_before_creation(state: NetworkState, on: date, what: str, field_name: str = "occurred_on") -> None:
    if state.created_on and on < state.created_on:
        raise Rejected(
            f"{what} on {on.isoformat()} is before {describe_network(state)} was created "
            f"on {state.created_on.isoformat()}",
            field=field_name,
        )


def _known_entity(code: str) -> None:
    if code not in reference.UN_ENTITIES:
        raise Rejected(f"{code!r} is not a known UN entity", field="entity")


# --- Network deciders ----------------------------------------------------------------------


def create_network(state: NetworkState, command: CreateNetwork, today: date, **context: Any) -> list[Event]:
    if command.scope == NetworkScope.NATIONAL and (command.country is None or command.region is not None):
        raise Rejected("a national network needs a country and no region", field="country")
    if command.scope == NetworkScope.REGIONAL and (command.region is None or command.country is not None):
        raise Rejected("a regional network needs a region and no country", field="region")
    if command.scope == NetworkScope.GLOBAL and (command.region is not None or command.country is not None):
        raise Rejected("the global network has neither a country nor a region", field="scope")
    if state.id != command.network_id:
        # The handler loaded the wrong aggregate; one network per country would no longer hold.
        raise ValueError(f"create-network for {command.network_id} was decided against aggregate {state.id}")
    if state.exists:
        if state.scope == NetworkScope.NATIONAL and state.country:
            raise Rejected(
                f"a national network for {_country_name(state.country)} already exists: {state.id}", field="country"
            )
        raise Rejected(f"{describe_network(state)} already exists")
    if command.status == S.INACTIVE:
        raise Rejected("a network cannot be created inactive; create it, then change its status", field="status")
    entities = Counter(m.entity for m in command.members)
    for m in command.members:
        _known_entity(m.entity)
    if duplicates := sorted(e for e, n in entities.items() if n > 1):
        raise Rejected(f"listed more than once among the members: {', '.join(duplicates)}", field="members")
    if len(coordinators := [m.entity for m in command.members if m.role == MemberRole.COORDINATOR]) > 1:
        raise Rejected(f"a network has one coordinator, not {' and '.join(coordinators)}", field="members")

    on = event_date(command, today)
    created = NetworkCreated(
        network_id=state.id,
        scope=command.scope,
        country=command.country,
        region=command.region,
        network_name=command.network_name,
        status=command.status,
        subregion=command.subregion,
        description=command.description,
        occurred_on=on,
    )
    joined = [
        NetworkMemberJoined(network_id=state.id, entity=m.entity, role=m.role, occurred_on=on) for m in command.members
    ]
    return [created, *joined]


def change_network_status(
    state: NetworkState, command: ChangeNetworkStatus, today: date, **context: Any
) -> list[Event]:
    current, wanted = _existing_status(state), command.status
    if wanted == current:
        raise Rejected(f"{describe_network(state)} is already {_words(current)}", field="status")
    if wanted not in STATUS_TRANSITIONS[current]:
        allowed = " or ".join(sorted(_words(s) for s in STATUS_TRANSITIONS[current]))
        raise Rejected(
            f"{describe_network(state)} cannot go from {_words(current)} to {_words(wanted)}; "
            f"from {_words(current)} it can only become {allowed}",
            field="status",
        )
    on = event_date(command, today)
    last = state.history[-1].on if state.history else None
    if last and on < last:
        # Point-in-time queries replay changes by date; out-of-order history would contradict itself.
        raise Rejected(
            f"{describe_network(state)} last changed status on {last.isoformat()}; "
            f"a status change on {on.isoformat()} would be recorded out of order",
            field="occurred_on",
        )
    return [
        NetworkStatusChanged(
            network_id=state.id, from_status=current, to_status=wanted, reason=command.reason, occurred_on=on
        )
    ]


def add_network_member(state: NetworkState, command: AddNetworkMember, today: date, **context: Any) -> list[Event]:
    _existing_network(state)
    _known_entity(command.entity)
    if (role := state.members.get(command.entity)) is not None:
        raise Rejected(
            f"{_entity_name(command.entity)} is already a member of {describe_network(state)}, as {role.value}",
            field="entity",
        )
    if command.role == MemberRole.COORDINATOR and (coordinator := state.coordinator):
        raise Rejected(
            f"{describe_network(state)} already has a coordinator: {_entity_name(coordinator)}", field="role"
        )
    on = event_date(command, today)
    _not_before_creation(state, on, f"{_entity_name(command.entity)} joining")
    return [NetworkMemberJoined(network_id=state.id, entity=command.entity, role=command.role, occurred_on=on)]


def remove_network_member(
    state: NetworkState, command: RemoveNetworkMember, today: date, **context: Any
) -> list[Event]:
    _existing_network(state)
    _known_entity(command.entity)
    if command.entity not in state.members:
        raise Rejected(f"{_entity_name(command.entity)} is not a member of {describe_network(state)}", field="entity")
    on = event_date(command, today)
    _not_before_creation(state, on, f"{_entity_name(command.entity)} leaving")
    return [NetworkMemberLeft(network_id=state.id, entity=command.entity, reason=command.reason, occurred_on=on)]


def align_terms_of_reference(
    state: NetworkState, command: AlignTermsOfReference, today: date, **context: Any
) -> list[Event]:
    _existing_network(state)
    aligned_on = command.aligned_on
    if aligned_on > today:
        raise Rejected(
            f"terms of reference cannot be aligned on {aligned_on.isoformat()}, a date in the future "
            f"(today is {today.isoformat()})",
            field="aligned_on",
        )
    # A forum that aligned before it was registered should be back-dated at creation instead.
    _not_before_creation(state, aligned_on, "aligning the terms of reference", "aligned_on")
    if state.tor_aligned_on and aligned_on <= state.tor_aligned_on:
        raise Rejected(
            f"{describe_network(state)} already aligned its terms of reference on {state.tor_aligned_on.isoformat()}; "
            "only a later re-alignment can be recorded",
            field="aligned_on",
        )
    on = event_date(command, today, default=aligned_on)
    return [
        NetworkTermsOfReferenceAligned(
            network_id=state.id,
            aligned_on=aligned_on,
            consulted=[
                who
                for who, asked in (
                    (TorConsultee.EXECUTIVE_COMMITTEE, command.consulted_executive_committee),
                    (TorConsultee.NETWORK_COORDINATOR, command.consulted_network_coordinator),
                )
                if asked
            ],
            note=command.note,
            occurred_on=on,
        )
    ]


def rename_network(state: NetworkState, command: RenameNetwork, today: date, **context: Any) -> list[Event]:
    _existing_network(state)
    if command.network_name == state.name:
        raise Rejected(f"{describe_network(state)} is already named {state.name!r}", field="network_name")
    on = event_date(command, today)
    _not_before_creation(state, on, "renaming")
    return [
        NetworkRenamed(network_id=state.id, from_name=state.name, network_name=command.network_name, occurred_on=on)
    ]


def change_network_description(
    state: NetworkState, command: ChangeNetworkDescription, today: date, **context: Any
) -> list[Event]:
    _existing_network(state)
    if command.description == state.description:
        wording = "has that description already" if state.description else "has no description already"
        raise Rejected(f"{describe_network(state)} {wording}", field="description")
    on = event_date(command, today)
    _not_before_creation(state, on, "changing the description")
    return [NetworkDescriptionChanged(network_id=state.id, description=command.description, occurred_on=on)]


def assign_focal_point(state: NetworkState, command: AssignFocalPoint, today: date, **context: Any) -> list[Event]:
    _existing_network(state)
    _known_entity(command.entity)
    if command.entity not in state.members:
        raise Rejected(
            f"the focal point must come from a member entity; {_entity_name(command.entity)} "
            f"is not a member of {describe_network(state)}",
            field="entity",
        )
    current = state.focal_point
    if current and (current.name, current.entity, current.email) == (
        command.focal_point_name,
        command.entity,
        command.email,
    ):
        raise Rejected(f"{command.focal_point_name} is already the focal point of {describe_network(state)}")
    on = event_date(command, today)
    _not_before_creation(state, on, "assigning a focal point")
    return [
        NetworkFocalPointAssigned(
            network_id=state.id,
            focal_point_name=command.focal_point_name,
            entity=command.entity,
            email=command.email,
            occurred_on=on,
        )
    ]
