"""Command handling: what a rule needs beyond its own aggregate; the rest is the shared dispatch."""

from __future__ import annotations

from typing import Any

from mignet_contracts import registry as c
from mignet_contracts import support as sr
from mignet_contracts import working_groups as wg
from mignet_contracts.envelope import Command, CommandResult
from mignet_registry import domain
from mignet_runtime.commands import CommandExecutor
from mignet_runtime.dispatch import dispatch
from mignet_runtime.erasure import data_keys_of, shred


async def context_for(executor: CommandExecutor, command: Command) -> dict[str, Any]:
    """What a rule needs beyond its own aggregate, read from the event store (never a read model)."""
    if isinstance(command, c.NominateChampion):
        loaded = await executor.load(domain.NETWORK, c.national_network_id(command.country))
        return {"national_network": loaded.state}
    if isinstance(command, sr.RequestSupport):
        network = await executor.load(domain.NETWORK, c.national_network_id(command.country))
        champion = await executor.load(domain.CHAMPION, c.champion_id(command.country))
        return {"national_network": network.state, "champion": champion.state}
    if isinstance(command, sr.AcceptSupport) and command.working_group:
        group = await executor.load(domain.WORKING_GROUP_AGGREGATE, command.working_group)
        return {"working_group": group.state}
    if isinstance(command, wg.PilotOutput):
        loaded = await executor.load(domain.NETWORK, command.network_id)
        return {"network": loaded.state}
    if isinstance(command, c.ErasePersonalData):
        return await data_keys_of(executor.store, domain.NETWORK.name, command.network_id)
    return {}


async def handle(executor: CommandExecutor, command: Command) -> CommandResult:
    result = await dispatch(executor, command, domain.DECIDERS, domain.target_of, context_for)
    if isinstance(command, c.ErasePersonalData):
        await shred(executor.store, result)  # after the record: a resend replays it and shreds again
    return result
