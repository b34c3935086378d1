"""The October 2020 situation from the Network's FAQ, as commands.

Loaded through the normal command path, so it becomes ordinary events. Each
command has a fixed id: loading twice writes nothing new. The FAQ's annex of
national and regional networks is not in the source we have, so no national
networks are invented here; the champions' "existing UN network" criterion
therefore carries a note instead of a registry reference.
"""

from __future__ import annotations

from datetime import date

from mignet_contracts import reference
from mignet_contracts import registry as c
from mignet_contracts.envelope import Command
from mignet_runtime.client import MignetClient

AS_OF = date(2020, 10, 31)
#: The Secretary-General established the Network in May 2018.
NETWORK_ESTABLISHED = date(2018, 5, 1)
SOURCE = "FAQ of the UN Network on Migration at country and regional level, October 2020"

#: The FAQ's list of champion countries, by its own regional grouping.
CHAMPIONS_2020: dict[str, tuple[str, ...]] = {
    "asia-pacific": ("BD", "ID", "TH", "PH", "NP"),
    "east-africa": ("ET",),
    "latin-america-caribbean": ("SV", "MX"),
    "middle-east-north-africa": ("MA",),
    "west-africa": ("GH", "GW", "SN"),
    "western-european-and-others": ("CA", "PT"),
}


def _global_network(actor: str) -> Command:
    members = [{"entity": "IOM", "role": "coordinator"}]
    members += [
        {"entity": code, "role": "executive-committee"} for code in reference.EXECUTIVE_COMMITTEE if code != "IOM"
    ]
    return c.CreateNetwork(
        command_id="seed-2020-global-network",
        actor=actor,
        scope="global",
        network_name="United Nations Network on Migration",
        description="Established by the Secretary-General in May 2018; coordinated by IOM, also its secretariat.",
        status="established",
        members=members,
        occurred_on=NETWORK_ESTABLISHED,
    )


def _champion_commands(actor: str) -> list[Command]:
    commands: list[Command] = []
    for group, countries in CHAMPIONS_2020.items():
        for code in countries:
            assessment = [
                {
                    "criterion": criterion,
                    "met": True,
                    "note": f"Listed as a champion in the {SOURCE}; the coordination mechanism is not named there"
                    if criterion == "existing-un-network"
                    else None,
                }
                for criterion in reference.CHAMPION_CRITERIA
            ]
            commands.append(
                c.NominateChampion(
                    command_id=f"seed-2020-nominate-{code.lower()}",
                    actor=actor,
                    country=code,
                    regional_group=group,
                    assessment=assessment,
                    occurred_on=AS_OF,
                )
            )
            commands.append(
                c.ConfirmChampion(
                    command_id=f"seed-2020-confirm-{code.lower()}", actor=actor, country=code, occurred_on=AS_OF
                )
            )
    return commands


def _who_invited(actor: str) -> Command:
    # The FAQ: WHO has been invited to the Executive Committee's meetings since COVID-19; it gives
    # no date, so the invitation is dated to the FAQ itself.
    return c.AddNetworkMember(
        command_id="seed-2020-who-invited",
        actor=actor,
        network_id=c.GLOBAL_NETWORK_ID,
        entity="WHO",
        role="executive-committee-invitee",
        occurred_on=AS_OF,
    )


def seed_commands(actor: str = "seed:faq-2020") -> list[Command]:
    return [_global_network(actor), _who_invited(actor), *_champion_commands(actor)]


async def load(client: MignetClient, actor: str = "seed:faq-2020") -> dict:
    written = replayed = 0
    for command in seed_commands(actor):
        result = await client.command(command)
        if result.replayed:
            replayed += 1
        else:
            written += 1
    return {"written": written, "replayed": replayed}
