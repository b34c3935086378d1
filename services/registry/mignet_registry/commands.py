"""Command handlers: load the aggregate, let the pure domain decide, append."""

from __future__ import annotations

from typing import Any

from mignet_contracts import registry as c
from mignet_contracts.envelope import Command, CommandResult
from mignet_runtime.commands import CommandExecutor

from mignet_registry import domain


async def context_for(executor: CommandExecutor, command: Command) -> dict[str, Any]:
    """What a rule needs beyond its own aggregate, read from the event store (never a read model)."""
    if isinstance(command, c.NominateChampion):
        loaded = await executor.load(domain.NETWORK, c.national_network_id(command.country))
        return {"national_network": loaded.state}
    return {}


async def handle(executor: CommandExecutor, command: Command) -> CommandResult:
    aggregate, aggregate_id = domain.target_of(command)
    _, decide = domain.DECIDERS[type(command)]
    context = await context_for(executor, command)
    today = executor.today()
    return await executor.execute(aggregate, aggregate_id, command, lambda state: decide(state, command, today, **context))
