"""The October 2020 situation from the Network's FAQ, as commands.

Loaded through the normal command path, so it becomes ordinary events. Each
command has a fixed id: loading twice writes nothing new. The FAQ's annex of
national and regional networks is not in the source we have, so no national
networks are invented here.

The FAQ lists the 14 champion countries without assessing them against the
criteria, so their nominations say "not assessed in the source" and their
confirmations give that as the reason. A stream seeded by an earlier version
(criteria all met) keeps its events: events are immutable, and the seed reports
those commands as kept rather than failing.
"""

from __future__ import annotations

from datetime import date

from mignet_contracts import reference
from mignet_contracts import registry as c
from mignet_contracts import working_groups as wg
from mignet_contracts.envelope import Command
from mignet_runtime.client import MignetClient, RequestFailed

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
    # Unchanged since the first seed, so re-seeding an older stream stays a replay; IOM's further
    # roles (the FAQ: coordinator, Executive Committee member and secretariat) follow as their own commands.
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


def _iom_roles(actor: str) -> list[Command]:
    return [
        c.AddMemberRole(
            command_id=f"seed-2020-iom-{role}",
            actor=actor,
            network_id=c.GLOBAL_NETWORK_ID,
            entity="IOM",
            role=role,
            occurred_on=NETWORK_ESTABLISHED,
        )
        for role in (c.MemberRole.EXECUTIVE_COMMITTEE, c.MemberRole.SECRETARIAT)
    ]


NOT_ASSESSED = f"Not assessed in the source: the {SOURCE} lists the country as a champion without assessing it"


def _champion_commands(actor: str) -> list[Command]:
    commands: list[Command] = []
    for group, countries in CHAMPIONS_2020.items():
        for code in countries:
            assessment = [
                {"criterion": criterion, "met": None, "note": NOT_ASSESSED}
                for criterion in reference.COUNTRY_CHAMPION_CRITERIA
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
                    command_id=f"seed-2020-confirm-{code.lower()}",
                    actor=actor,
                    country=code,
                    override_reason=f"Listed as a champion country in the {SOURCE}",
                    occurred_on=AS_OF,
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


def _working_groups(actor: str) -> list[Command]:
    # FAQ footnote 5: the core and thematic working groups; it names neither their leads nor members.
    return [
        wg.CreateWorkingGroup(
            command_id=f"seed-2020-wg-{group.code}",
            actor=actor,
            group_id=group.code,
            group_name=group.name,
            core=group.core,
            workstream=group.workstream,
            occurred_on=AS_OF,
        )
        for group in reference.WORKING_GROUPS.values()
    ]


def seed_commands(actor: str = "seed:faq-2020") -> list[Command]:
    return [
        _global_network(actor),
        *_iom_roles(actor),
        _who_invited(actor),
        *_champion_commands(actor),
        *_working_groups(actor),
    ]


async def load(client: MignetClient, actor: str = "seed:faq-2020") -> dict:
    written = replayed = 0
    kept: list[str] = []
    for command in seed_commands(actor):
        try:
            result = await client.command(command)
        except RequestFailed as failure:
            if failure.error.code != "conflict":
                raise
            kept.append(command.command_id)  # an earlier seed recorded this id with another payload
            continue
        if result.replayed:
            replayed += 1
        else:
            written += 1
    return {"written": written, "replayed": replayed, "kept": kept}
