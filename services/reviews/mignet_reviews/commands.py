"""Command handling: what a rule needs beyond its own aggregate; the rest is the shared dispatch."""

from __future__ import annotations

from typing import Any

from mignet_contracts import reviews as c
from mignet_contracts.envelope import Command, CommandResult
from mignet_reviews import domain
from mignet_runtime.commands import CommandExecutor
from mignet_runtime.dispatch import dispatch
from mignet_runtime.erasure import data_keys_of, shred


async def context_for(executor: CommandExecutor, command: Command) -> dict[str, Any]:
    """What a rule needs beyond its own aggregate, read from the event store (never a read model)."""
    if isinstance(command, c.SubmitContribution) and command.review_id is not None:
        # The review's status decides whether it takes contributions. A review that closes
        # between this load and the append can still receive this one contribution: the
        # append guards the contribution's version only, and a late arrival is harmless.
        loaded = await executor.load(domain.REVIEW, command.review_id)
        return {"review": loaded.state}
    if isinstance(command, c.ErasePersonalData):
        return await data_keys_of(executor.store, domain.CONTRIBUTION.name, command.contribution_id)
    return {}


async def handle(executor: CommandExecutor, command: Command) -> CommandResult:
    result = await dispatch(executor, command, domain.DECIDERS, domain.target_of, context_for)
    if isinstance(command, c.ErasePersonalData):
        await shred(executor.store, result)  # after the record: a resend replays it and shreds again
    return result
