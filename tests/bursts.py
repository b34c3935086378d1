"""A burst of registry commands, and a client that resends each through outages with the same id.

Shared by the crash-recovery and node-loss tests: whatever dies, a well-behaved client
keeps each command's id, so a resend is a replay, never a second write.
"""

from __future__ import annotations

import asyncio
import time

from mignet_contracts import reference
from mignet_contracts import registry as c
from mignet_runtime.client import MignetClient, RequestFailed

COUNTRIES = sorted(reference.COUNTRIES)[:60]
ENTITIES = ["IOM", "UNICEF", "UNHCR", "ILO", "UNDP"]


def burst() -> list[c.RegistryCommand]:
    commands: list[c.RegistryCommand] = []
    for code in COUNTRIES:
        network_id = c.national_network_id(code)
        commands.append(
            c.CreateNetwork(
                command_id=f"create-{code}",
                actor="burst",
                scope="national",
                country=code,
                network_name=f"UN Network on Migration in {reference.country(code).name}",
            )
        )
        for entity in ENTITIES:
            commands.append(
                c.AddNetworkMember(
                    command_id=f"join-{code}-{entity}", actor="burst", network_id=network_id, entity=entity
                )
            )
        commands.append(
            c.ChangeNetworkStatus(
                command_id=f"status-{code}", actor="burst", network_id=network_id, status="being-established"
            )
        )
    return commands


async def send_until_done(client: MignetClient, commands, refused_at: list[float] | None = None) -> dict[str, str]:
    """Sends each network's commands in order, resending through outages with the same id.

    Returns each command's outcome (written, or replayed: an earlier attempt had written it);
    ``refused_at`` collects the monotonic time of every 'unavailable' answer."""
    outcomes: dict[str, str] = {}

    async def one_network(batch):
        for command in batch:
            for _ in range(600):
                try:
                    result = await client.command(command)
                    outcomes[command.command_id] = "replayed" if result.replayed else "written"
                    break
                except RequestFailed as exc:
                    if exc.error.code != "unavailable":
                        raise
                    if refused_at is not None:
                        refused_at.append(time.monotonic())
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"{command.command_id} never got through")

    by_network: dict[str, list] = {}
    for command in commands:
        key = command.network_id
        by_network.setdefault(key, []).append(command)
    await asyncio.gather(*[one_network(batch) for batch in by_network.values()])
    return outcomes
