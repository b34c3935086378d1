"""A network's members, their roles and its focal point (part of the network aggregate).

Pure like :mod:`.network`: the rules about who may hold which role are in :mod:`.roles`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from mignet_contracts.envelope import Event
from mignet_contracts.registry import (
    AddMemberRole,
    AddNetworkMember,
    AssignFocalPoint,
    MemberRole,
    NetworkFocalPointAssigned,
    NetworkMemberJoined,
    NetworkMemberLeft,
    NetworkMemberRoleAdded,
    NetworkMemberRoleRemoved,
    RemoveMemberRole,
    RemoveNetworkMember,
)
from mignet_registry.domain.network import NetworkState, describe_network, existing_network, not_before_creation
from mignet_registry.domain.roles import check_role, known_entity
from mignet_registry.domain.wording import entity_name as _entity_name
from mignet_runtime.aggregate import event_date
from mignet_runtime.errors import Rejected


def _roles_in_words(roles: tuple[MemberRole, ...]) -> str:
    return " and ".join(r.value for r in roles)


def _member(state: NetworkState, entity: str) -> tuple[MemberRole, ...]:
    existing_network(state)
    known_entity(entity)
    if entity not in state.members:
        raise Rejected(f"{_entity_name(entity)} is not a member of {describe_network(state)}", field="entity")
    return state.members[entity]


def add_network_member(state: NetworkState, command: AddNetworkMember, today: date, **context: Any) -> list[Event]:
    existing_network(state)
    known_entity(command.entity)
    if (roles := state.members.get(command.entity)) is not None:
        raise Rejected(
            f"{_entity_name(command.entity)} is already a member of {describe_network(state)}, "
            f"as {_roles_in_words(roles)}; add a role with add-member-role",
            field="entity",
        )
    if command.role == MemberRole.COORDINATOR and (coordinator := state.coordinator):
        raise Rejected(
            f"{describe_network(state)} already has a coordinator: {_entity_name(coordinator)}", field="role"
        )
    if command.role != MemberRole.MEMBER:
        check_role(state.scope, command.entity, command.role, state.members)
    on = event_date(command, today)
    not_before_creation(state, on, f"{_entity_name(command.entity)} joining")
    return [NetworkMemberJoined(network_id=state.id, entity=command.entity, role=command.role, occurred_on=on)]


def remove_network_member(
    state: NetworkState, command: RemoveNetworkMember, today: date, **context: Any
) -> list[Event]:
    _member(state, command.entity)
    on = event_date(command, today)
    not_before_creation(state, on, f"{_entity_name(command.entity)} leaving")
    return [NetworkMemberLeft(network_id=state.id, entity=command.entity, reason=command.reason, occurred_on=on)]


def add_member_role(state: NetworkState, command: AddMemberRole, today: date, **context: Any) -> list[Event]:
    _member(state, command.entity)
    if command.role == MemberRole.MEMBER:
        raise Rejected(f"{_entity_name(command.entity)} is a member already; name another role", field="role")
    check_role(state.scope, command.entity, command.role, state.members)
    on = event_date(command, today)
    not_before_creation(state, on, f"{_entity_name(command.entity)} taking on a role")
    return [NetworkMemberRoleAdded(network_id=state.id, entity=command.entity, role=command.role, occurred_on=on)]


def remove_member_role(state: NetworkState, command: RemoveMemberRole, today: date, **context: Any) -> list[Event]:
    held = _member(state, command.entity)
    if command.role == MemberRole.MEMBER:
        raise Rejected("to end a membership, use remove-member", field="role")
    if command.role not in held:
        raise Rejected(
            f"{_entity_name(command.entity)} does not hold the role {command.role.value} "
            f"in {describe_network(state)} (it is {_roles_in_words(held)})",
            field="role",
        )
    on = event_date(command, today)
    not_before_creation(state, on, f"{_entity_name(command.entity)} giving up a role")
    return [NetworkMemberRoleRemoved(network_id=state.id, entity=command.entity, role=command.role, occurred_on=on)]


def assign_focal_point(state: NetworkState, command: AssignFocalPoint, today: date, **context: Any) -> list[Event]:
    existing_network(state)
    known_entity(command.entity)
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
        # Never the name itself: a refusal is logged and shown, and the name is personal data.
        raise Rejected(f"this person is already the focal point of {describe_network(state)}")
    on = event_date(command, today)
    not_before_creation(state, on, "assigning a focal point")
    return [
        NetworkFocalPointAssigned(
            network_id=state.id,
            focal_point_name=command.focal_point_name,
            entity=command.entity,
            email=command.email,
            occurred_on=on,
        )
    ]
