"""Command handlers: load the aggregate, let the pure domain decide, append."""

from __future__ import annotations

from typing import Any

from mignet_contracts import reviews as c
from mignet_contracts.envelope import Command, CommandResult
from mignet_runtime.commands import CommandExecutor

from mignet_reviews import domain


async def context_for(executor: CommandExecutor, command: Command) -> dict[str, Any]:
    """What a rule needs beyond its own aggregate, read from the event store (never a read model)."""
    if isinstance(command, c.SubmitContribution):
        # The review's status decides whether it takes contributions. A review that closes
        # between this load and the append can still receive this one contribution: the
        # append guards the contribution's version only, and a late arrival is harmless.
        loaded = await executor.load(domain.REVIEW, command.review_id)
        return {"review": loaded.state}
    return {}


async def handle(executor: CommandExecutor, command: Command) -> CommandResult:
    aggregate, aggregate_id = domain.target_of(command)
    _, decide = domain.DECIDERS[type(command)]
    context = await context_for(executor, command)
    today = executor.today()
    return await executor.execute(
        aggregate, aggregate_id, command, lambda state: decide(state, command, today, **context)
    )
