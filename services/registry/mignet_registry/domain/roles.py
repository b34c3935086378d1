"""Which UN entity may hold which role in which network: the FAQ's section 2.

Shared by creating a network (its initial members) and by changing members later.
"""

from __future__ import annotations

from collections.abc import Mapping

from mignet_contracts import reference
from mignet_contracts.registry import MemberRole, NetworkScope
from mignet_registry.domain.wording import entity_name as _entity_name
from mignet_runtime.errors import Rejected

R = MemberRole

#: Roles that exist only in the global Network, and the entities the FAQ gives them.
GLOBAL_ONLY_ROLES: dict[MemberRole, tuple[str, ...]] = {
    R.EXECUTIVE_COMMITTEE: reference.EXECUTIVE_COMMITTEE,
    R.EXECUTIVE_COMMITTEE_INVITEE: reference.EXECUTIVE_COMMITTEE_INVITEES,
}
#: In the global Network, the FAQ names who coordinates and who is the secretariat.
GLOBAL_HOLDERS: dict[MemberRole, str] = {
    R.COORDINATOR: reference.NETWORK_COORDINATOR,
    R.SECRETARIAT: reference.NETWORK_SECRETARIAT,
}
#: Roles one network has at most one holder of.
SINGLE_HOLDER_ROLES: frozenset[MemberRole] = frozenset({R.COORDINATOR, R.SECRETARIAT})


def known_entity(code: str) -> None:
    if code not in reference.UN_ENTITIES:
        raise Rejected(f"{code!r} is not a known UN entity", field="entity")


def check_role(
    scope: NetworkScope | None,
    entity: str,
    role: MemberRole,
    members: Mapping[str, tuple[MemberRole, ...]],
    field: str = "role",
) -> None:
    """Rejects ``entity`` taking on ``role`` in a network of ``scope`` whose members are ``members``."""
    name = _entity_name(entity)
    if role in GLOBAL_ONLY_ROLES:
        if scope != NetworkScope.GLOBAL:
            raise Rejected(f"the role {role.value} exists only in the global UN Network on Migration", field=field)
        if entity not in GLOBAL_ONLY_ROLES[role]:
            allowed = ", ".join(GLOBAL_ONLY_ROLES[role])
            raise Rejected(f"the FAQ gives the role {role.value} to {allowed} only, not to {name}", field=field)
    if scope == NetworkScope.GLOBAL and role in GLOBAL_HOLDERS and entity != GLOBAL_HOLDERS[role]:
        holder = GLOBAL_HOLDERS[role]
        raise Rejected(f"the FAQ names {holder} as the global Network's {role.value}, not {name}", field=field)
    held = members.get(entity, ())
    if role in held:
        raise Rejected(f"{name} already holds the role {role.value}", field=field)
    if role in SINGLE_HOLDER_ROLES and (other := next((e for e, rs in members.items() if role in rs), None)):
        raise Rejected(f"the network already has a {role.value}: {_entity_name(other)}", field=field)
    committee = {R.EXECUTIVE_COMMITTEE, R.EXECUTIVE_COMMITTEE_INVITEE}
    if role in committee and committee & set(held):
        raise Rejected(f"{name} cannot be both on the Executive Committee and invited to it", field=field)
