"""The registry's rules: networks and champion countries as pure deciders.

One module per aggregate (:mod:`.network`, :mod:`.champion`); this package routes
each command to its aggregate and decide function and re-exports what callers use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mignet_contracts.envelope import Command, Event
from mignet_contracts.registry import (
    AddNetworkMember,
    AlignTermsOfReference,
    AssignFocalPoint,
    ChangeNetworkDescription,
    ChangeNetworkStatus,
    ConfirmChampion,
    CreateNetwork,
    ErasePersonalData,
    NominateChampion,
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
from mignet_registry.domain.network import (
    NETWORK,
    STATUS_TRANSITIONS,
    WORKING_STATUSES,
    FocalPoint,
    NetworkState,
    StatusChange,
    add_network_member,
    align_terms_of_reference,
    assign_focal_point,
    change_network_description,
    change_network_status,
    create_network,
    describe_network,
    erase_personal_data,
    evolve_network,
    initial_network,
    remove_network_member,
    rename_network,
)
from mignet_runtime.aggregate import AggregateType, named_id

__all__ = [
    "ACTIVE_CHAMPION_STATUSES",
    "CHAMPION",
    "DECIDERS",
    "EXISTING_NETWORK_CRITERION",
    "NETWORK",
    "STATUS_TRANSITIONS",
    "WORKING_STATUSES",
    "ChampionState",
    "FocalPoint",
    "NetworkState",
    "StatusChange",
    "add_network_member",
    "align_terms_of_reference",
    "assign_focal_point",
    "change_network_description",
    "change_network_status",
    "erase_personal_data",
    "confirm_champion",
    "create_network",
    "describe_network",
    "evolve_champion",
    "evolve_network",
    "initial_champion",
    "initial_network",
    "nominate_champion",
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
    ErasePersonalData: (NETWORK, erase_personal_data),
    NominateChampion: (CHAMPION, nominate_champion),
    ConfirmChampion: (CHAMPION, confirm_champion),
    WithdrawChampion: (CHAMPION, withdraw_champion),
}


def target_of(command: Command) -> tuple[AggregateType[Any], str]:
    """The aggregate type and id a command acts on."""
    aggregate, _ = DECIDERS[type(command)]
    if aggregate is CHAMPION:
        return aggregate, champion_id(named_id(command, "country"))
    return aggregate, named_id(command, "network_id")
