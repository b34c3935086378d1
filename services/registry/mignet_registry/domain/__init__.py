"""The registry's rules: networks and champion countries as pure deciders.

One module per aggregate (:mod:`.network`, with its members in :mod:`.members`
and terms of reference in :mod:`.terms`; :mod:`.champion`); this package routes
each command to its aggregate and decide function and re-exports what callers use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mignet_contracts import support as sr
from mignet_contracts import working_groups as wg
from mignet_contracts.envelope import Command, Event
from mignet_contracts.registry import (
    AddMemberRole,
    AddNetworkMember,
    AlignTermsOfReference,
    AssignFocalPoint,
    ChangeNetworkDescription,
    ChangeNetworkStatus,
    ClassifyNetwork,
    ConfirmChampion,
    CreateNetwork,
    ErasePersonalData,
    NominateChampion,
    RemoveMemberRole,
    RemoveNetworkMember,
    RenameNetwork,
    WithdrawChampion,
    champion_id,
)
from mignet_registry.domain.champion import (
    ACTIVE_CHAMPION_STATUSES,
    CHAMPION,
    EXISTING_NETWORK_CRITERION,
    ChampionState,
    confirm_champion,
    evolve_champion,
    initial_champion,
    nominate_champion,
    withdraw_champion,
)
from mignet_registry.domain.members import (
    add_member_role,
    add_network_member,
    assign_focal_point,
    remove_member_role,
    remove_network_member,
)
from mignet_registry.domain.network import (
    EXISTING_STATUSES,
    NETWORK,
    STATUS_TRANSITIONS,
    FocalPoint,
    NetworkState,
    StatusChange,
    TorAlignment,
    change_network_description,
    change_network_status,
    classify_network,
    create_network,
    describe_network,
    erase_personal_data,
    evolve_network,
    initial_network,
    rename_network,
)
from mignet_registry.domain.support_request import (
    SUPPORT_REQUEST_AGGREGATE,
    SupportRequestState,
    accept_support,
    complete_support,
    decline_support,
    request_support,
    start_support,
)
from mignet_registry.domain.terms import align_terms_of_reference
from mignet_registry.domain.working_group import (
    WORKING_GROUP_AGGREGATE,
    WorkingGroupState,
    add_output,
    change_output_status,
    create_working_group,
    end_pilot,
    join_working_group,
    leave_working_group,
    pilot_output,
)
from mignet_runtime.aggregate import AggregateType, named_id

__all__ = [
    "ACTIVE_CHAMPION_STATUSES",
    "CHAMPION",
    "DECIDERS",
    "EXISTING_NETWORK_CRITERION",
    "EXISTING_STATUSES",
    "NETWORK",
    "STATUS_TRANSITIONS",
    "ChampionState",
    "FocalPoint",
    "NetworkState",
    "StatusChange",
    "SUPPORT_REQUEST_AGGREGATE",
    "SupportRequestState",
    "TorAlignment",
    "WORKING_GROUP_AGGREGATE",
    "WorkingGroupState",
    "add_member_role",
    "add_network_member",
    "align_terms_of_reference",
    "assign_focal_point",
    "change_network_description",
    "change_network_status",
    "classify_network",
    "erase_personal_data",
    "confirm_champion",
    "create_network",
    "describe_network",
    "evolve_champion",
    "evolve_network",
    "initial_champion",
    "initial_network",
    "nominate_champion",
    "remove_member_role",
    "remove_network_member",
    "rename_network",
    "target_of",
    "withdraw_champion",
]

# --- Routing ---------------------------------------------------------------------------------

Decide = Callable[..., list[Event]]

#: Each command's decide function and aggregate type.
DECIDERS: dict[type[Command], tuple[AggregateType[Any], Decide]] = {
    CreateNetwork: (NETWORK, create_network),
    ChangeNetworkStatus: (NETWORK, change_network_status),
    RenameNetwork: (NETWORK, rename_network),
    ChangeNetworkDescription: (NETWORK, change_network_description),
    AddNetworkMember: (NETWORK, add_network_member),
    RemoveNetworkMember: (NETWORK, remove_network_member),
    AlignTermsOfReference: (NETWORK, align_terms_of_reference),
    AssignFocalPoint: (NETWORK, assign_focal_point),
    AddMemberRole: (NETWORK, add_member_role),
    RemoveMemberRole: (NETWORK, remove_member_role),
    ClassifyNetwork: (NETWORK, classify_network),
    ErasePersonalData: (NETWORK, erase_personal_data),
    NominateChampion: (CHAMPION, nominate_champion),
    ConfirmChampion: (CHAMPION, confirm_champion),
    WithdrawChampion: (CHAMPION, withdraw_champion),
    wg.CreateWorkingGroup: (WORKING_GROUP_AGGREGATE, create_working_group),
    wg.JoinWorkingGroup: (WORKING_GROUP_AGGREGATE, join_working_group),
    wg.LeaveWorkingGroup: (WORKING_GROUP_AGGREGATE, leave_working_group),
    wg.AddOutput: (WORKING_GROUP_AGGREGATE, add_output),
    wg.ChangeOutputStatus: (WORKING_GROUP_AGGREGATE, change_output_status),
    wg.PilotOutput: (WORKING_GROUP_AGGREGATE, pilot_output),
    wg.EndPilot: (WORKING_GROUP_AGGREGATE, end_pilot),
    sr.RequestSupport: (SUPPORT_REQUEST_AGGREGATE, request_support),
    sr.AcceptSupport: (SUPPORT_REQUEST_AGGREGATE, accept_support),
    sr.StartSupport: (SUPPORT_REQUEST_AGGREGATE, start_support),
    sr.CompleteSupport: (SUPPORT_REQUEST_AGGREGATE, complete_support),
    sr.DeclineSupport: (SUPPORT_REQUEST_AGGREGATE, decline_support),
}


def target_of(command: Command) -> tuple[AggregateType[Any], str]:
    """The aggregate type and id a command acts on."""
    aggregate, _ = DECIDERS[type(command)]
    if aggregate is CHAMPION:
        return aggregate, champion_id(named_id(command, "country"))
    if aggregate is WORKING_GROUP_AGGREGATE:
        return aggregate, named_id(command, "group_id")
    if aggregate is SUPPORT_REQUEST_AGGREGATE:
        return aggregate, named_id(command, "request_id")
    return aggregate, named_id(command, "network_id")
