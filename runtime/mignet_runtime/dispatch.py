"""The one command handler every service uses: route a command to its aggregate and decider."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mignet_contracts.envelope import Command, CommandResult
from mignet_runtime.aggregate import AggregateType
from mignet_runtime.commands import CommandExecutor

Deciders = Mapping[type[Command], tuple[AggregateType[Any], Callable[..., list]]]
ContextFor = Callable[[CommandExecutor, Command], Awaitable[dict[str, Any]]]


async def no_context(executor: CommandExecutor, command: Command) -> dict[str, Any]:
    return {}


async def dispatch(
    executor: CommandExecutor,
    command: Command,
    deciders: Deciders,
    target_of: Callable[[Command], tuple[AggregateType[Any], str]],
    context_for: ContextFor = no_context,
) -> CommandResult:
    """Load the target aggregate, let its pure decider decide with ``context``, append."""
    aggregate, aggregate_id = target_of(command)
    _, decide = deciders[type(command)]
    context = await context_for(executor, command)
    today = executor.today()
    return await executor.execute(
        aggregate, aggregate_id, command, lambda state: decide(state, command, today, **context)
    )
