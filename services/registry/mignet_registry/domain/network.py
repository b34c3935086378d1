"""Networks on migration: their state, lifecycle and the rules for changing them.

Pure: no I/O and no clock (callers pass ``today``). Each decide function takes the
network's current state and a command and returns the events to append
(atomically), or raises :class:`Rejected` / :class:`NotFound`. The rules about
members, their roles and the focal point are in :mod:`.members`, the terms of
reference in :mod:`.terms`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from mignet_contracts import reference
from mignet_contracts.envelope import Event
from mignet_contracts.fields import ERASED
from mignet_contracts.reference import RegionCode
from mignet_contracts.registry import (
    SERVICE,
    ChangeNetworkDescription,
    ChangeNetworkStatus,
    ClassifyNetwork,
    CreateNetwork,
    ErasePersonalData,
    MemberRole,
    NetworkCreated,
    NetworkDescriptionChanged,
    NetworkFocalPointAssigned,
    NetworkKind,
    NetworkKindChanged,
    NetworkMemberJoined,
    NetworkMemberLeft,
    NetworkMemberRoleAdded,
    NetworkMemberRoleRemoved,
    NetworkPersonalDataErased,
    NetworkRenamed,
    NetworkScope,
    NetworkStatus,
    NetworkStatusChanged,
    NetworkTermsOfReferenceAligned,
    RenameNetwork,
)
from mignet_registry.domain.roles import check_role, known_entity
from mignet_registry.domain.wording import country_name as _country_name
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
#: The FAQ says «وجود» (existence): a network being established does not exist yet, so
#: a nomination relying on it names the similar coordination mechanism in a note instead.
EXISTING_STATUSES: frozenset[NetworkStatus] = frozenset({S.ESTABLISHED})


# --- State -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusChange:
    on: date
    from_status: NetworkStatus | None  # None for the status the network was created in
    to_status: NetworkStatus
    reason: str | None = None


@dataclass(frozen=True)
class FocalPoint:
    name: str = field(repr=False)  # personal data: never in a repr or a log line
    entity: str
    email: str = field(repr=False)
    assigned_on: date


@dataclass(frozen=True)
class TorAlignment:
    aligned_on: date
    consulted_executive_committee: bool
    note: str | None = None
    #: None on events from before who agreed and who was consulted were recorded.
    agreed_by: tuple[str, ...] | None = None
    consulted: tuple[str, ...] | None = None
    not_agreed: tuple[str, ...] | None = None
    not_consulted: tuple[str, ...] | None = None

    @property
    def complete(self) -> bool | None:
        """Agreed by every member and the whole Executive Committee consulted (None: not recorded)."""
        if self.not_agreed is None or self.not_consulted is None:
            return None
        return not self.not_agreed and not self.not_consulted


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
    kind: NetworkKind | None = None
    # Each member's roles, the one it joined with first. Never mutated: evolve builds a new dict.
    members: dict[str, tuple[MemberRole, ...]] = field(default_factory=dict)
    tor: TorAlignment | None = None
    focal_point: FocalPoint | None = None
    created_on: date | None = None
    history: tuple[StatusChange, ...] = ()

    @property
    def coordinator(self) -> str | None:
        return self.holder(MemberRole.COORDINATOR)

    def holder(self, role: MemberRole) -> str | None:
        return next((e for e, roles in self.members.items() if role in roles), None)

    @property
    def tor_aligned_on(self) -> date | None:
        return self.tor.aligned_on if self.tor else None


def _tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


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
                kind=event.kind,
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
        case NetworkKindChanged():
            return replace(state, kind=event.kind)
        case NetworkMemberJoined():
            return replace(state, members={**state.members, event.entity: (event.role,)})
        case NetworkMemberRoleAdded():
            # A plain member taking on a role is no longer "just a member".
            kept: tuple[MemberRole, ...] = tuple(
                r for r in state.members.get(event.entity, ()) if r not in (MemberRole.MEMBER, event.role)
            )
            return replace(state, members={**state.members, event.entity: (*kept, event.role)})
        case NetworkMemberRoleRemoved():
            left: tuple[MemberRole, ...] = tuple(r for r in state.members.get(event.entity, ()) if r != event.role)
            return replace(state, members={**state.members, event.entity: left or (MemberRole.MEMBER,)})
        case NetworkMemberLeft():
            members = {e: r for e, r in state.members.items() if e != event.entity}
            focal_point = None if state.focal_point and state.focal_point.entity == event.entity else state.focal_point
            return replace(state, members=members, focal_point=focal_point)
        case NetworkTermsOfReferenceAligned():
            tor = TorAlignment(
                aligned_on=event.aligned_on,
                consulted_executive_committee=not event.not_consulted,
                note=event.note,
                agreed_by=_tuple(event.agreed_by),
                consulted=_tuple(event.consulted),
                not_agreed=_tuple(event.not_agreed),
                not_consulted=_tuple(event.not_consulted),
            )
            return replace(state, tor=tor)
        case NetworkFocalPointAssigned():
            focal_point = FocalPoint(event.focal_point_name, event.entity, event.email, event.occurred_on)
            return replace(state, focal_point=focal_point)
        case NetworkPersonalDataErased():
            erased = state.focal_point and replace(state.focal_point, name=ERASED, email=ERASED)
            return replace(state, focal_point=erased or None)
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


def existing_network(state: NetworkState) -> NetworkState:
    if not state.exists:
        raise NotFound(f"there is no network {state.id}", field="network_id")
    return state


def _existing_status(state: NetworkState) -> NetworkStatus:
    """The status of an existing network (NotFound when there is none)."""
    existing_network(state)
    assert state.status is not None, f"network {state.id} exists without a status"  # NetworkCreated sets one
    return state.status


def not_before_creation(state: NetworkState, on: date, what: str, field_name: str = "occurred_on") -> None:
    if state.created_on and on < state.created_on:
        raise Rejected(
            f"{what} on {on.isoformat()} is before {describe_network(state)} was created "
            f"on {state.created_on.isoformat()}",
            field=field_name,
        )


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
    _check_kind(command.scope, command.kind)
    entities = Counter(m.entity for m in command.members)
    for m in command.members:
        known_entity(m.entity)
    if duplicates := sorted(e for e, n in entities.items() if n > 1):
        raise Rejected(f"listed more than once among the members: {', '.join(duplicates)}", field="members")
    if len(coordinators := [m.entity for m in command.members if m.role == MemberRole.COORDINATOR]) > 1:
        raise Rejected(f"a network has one coordinator, not {' and '.join(coordinators)}", field="members")
    members: dict[str, tuple[MemberRole, ...]] = {}
    for m in command.members:
        if m.role != MemberRole.MEMBER:
            check_role(command.scope, m.entity, m.role, members, field="members")
        members[m.entity] = (m.role,)

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
        kind=command.kind,
        occurred_on=on,
    )
    joined = [
        NetworkMemberJoined(network_id=state.id, entity=m.entity, role=m.role, occurred_on=on) for m in command.members
    ]
    return [created, *joined]


def _check_kind(scope: NetworkScope, kind: NetworkKind | None) -> None:
    if kind is None:
        return
    if scope == NetworkScope.GLOBAL:
        raise Rejected("the global UN Network on Migration is not classified by kind", field="kind")
    if kind == NetworkKind.ISSUE_BASED_COALITION and scope != NetworkScope.REGIONAL:
        # The FAQ: UN issue-based coalitions support the GCM "at regional level".
        raise Rejected("UN issue-based coalitions are regional; a national network cannot be one", field="kind")


def classify_network(state: NetworkState, command: ClassifyNetwork, today: date, **context: Any) -> list[Event]:
    existing_network(state)
    assert state.scope is not None  # NetworkCreated sets it
    _check_kind(state.scope, command.kind)
    if state.kind == command.kind:
        raise Rejected(f"{describe_network(state)} is already recorded as {_words(command.kind)}", field="kind")
    on = event_date(command, today)
    not_before_creation(state, on, "classifying")
    return [NetworkKindChanged(network_id=state.id, from_kind=state.kind, kind=command.kind, occurred_on=on)]


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


def rename_network(state: NetworkState, command: RenameNetwork, today: date, **context: Any) -> list[Event]:
    existing_network(state)
    if command.network_name == state.name:
        raise Rejected(f"{describe_network(state)} is already named {state.name!r}", field="network_name")
    on = event_date(command, today)
    not_before_creation(state, on, "renaming")
    return [
        NetworkRenamed(network_id=state.id, from_name=state.name, network_name=command.network_name, occurred_on=on)
    ]


def change_network_description(
    state: NetworkState, command: ChangeNetworkDescription, today: date, **context: Any
) -> list[Event]:
    existing_network(state)
    if command.description == state.description:
        wording = "has that description already" if state.description else "has no description already"
        raise Rejected(f"{describe_network(state)} {wording}", field="description")
    on = event_date(command, today)
    not_before_creation(state, on, "changing the description")
    return [NetworkDescriptionChanged(network_id=state.id, description=command.description, occurred_on=on)]


def erase_personal_data(
    state: NetworkState, command: ErasePersonalData, today: date, *, data_keys: list[str], **context: Any
) -> list[Event]:
    """Record the erasure of every focal point's data the network holds (``data_keys``: their keys)."""
    existing_network(state)
    if not data_keys:
        raise Rejected(f"{describe_network(state)} holds no personal data: none was recorded, or it is erased already")
    return [
        NetworkPersonalDataErased(
            network_id=state.id, key_ids=data_keys, requested_by=command.requested_by, occurred_on=today
        )
    ]
