"""`mignet registry ...`: networks on migration, their members and champion countries."""

from __future__ import annotations

from datetime import date, datetime

import typer

from mignet_cli.common import (
    ActorOption,
    AsJson,
    CommandId,
    NatsUrl,
    actor,
    build,
    console,
    created,
    done,
    emit_json,
    emit_list,
    run,
    table,
    usage_error,
)
from mignet_contracts import reference
from mignet_contracts import registry as c

app = typer.Typer(
    help="Networks on migration (national, regional, global), members, champion countries.", no_args_is_help=True
)

OccurredOn = typer.Option(
    None,
    "--occurred-on",
    formats=["%Y-%m-%d"],
    help="When it happened, for back-filling history (YYYY-MM-DD); default today.",
)


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _members(values: list[str]) -> list[dict]:
    members = []
    for value in values:
        entity, _, role = value.partition(":")
        members.append({"entity": entity, "role": role or "member"})
    return members


@app.command("create-network")
def create_network(
    scope: str = typer.Option(..., help="national, regional or global"),
    name: str = typer.Option(..., "--name", help="The network's name."),
    country: str = typer.Option(None, help="ISO 3166-1 alpha-2 code, for a national network."),
    region: str = typer.Option(None, help=f"For a regional network: {', '.join(reference.REGIONS)}."),
    subregion: str = typer.Option(None),
    description: str = typer.Option(None),
    status: str = typer.Option("under-consideration", help="under-consideration, being-established or established"),
    kind: str = typer.Option(None, help=f"What it is: {', '.join(c.NetworkKind)}."),
    member: list[str] = typer.Option([], "--member", help="ENTITY[:ROLE], repeatable, e.g. IOM:coordinator"),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Create a network and print its id."""
    cmd = build(
        c.CreateNetwork,
        actor=actor(who),
        scope=scope,
        network_name=name,
        country=country,
        region=region,
        subregion=subregion,
        description=description,
        status=status,
        kind=kind,
        members=_members(member),
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )
    created(nats_url, cmd, as_json)


def _network_command(model, nats_url: str, as_json: bool, message: str, **fields) -> None:
    cmd = build(model, **fields)
    result = run(nats_url, lambda client: client.command(cmd))
    done(result, as_json, message)


@app.command("change-status")
def change_status(
    network_id: str,
    status: str,
    reason: str = typer.Option(None),
    occurred_on: datetime = OccurredOn,
    yes: bool = typer.Option(False, "--yes", help="Confirm making the global Network inactive."),
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Move a network along its lifecycle (under-consideration, being-established, established, inactive)."""
    if network_id == c.GLOBAL_NETWORK_ID and status == c.NetworkStatus.INACTIVE and not yes:
        # One typo away from declaring the whole UN Network on Migration inactive: ask for intent.
        usage_error("making the global UN Network on Migration inactive needs --yes")
    _network_command(
        c.ChangeNetworkStatus,
        nats_url,
        as_json,
        f"{network_id} is now {status}",
        actor=actor(who),
        network_id=network_id,
        status=status,
        reason=reason,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("rename-network")
def rename_network(
    network_id: str,
    name: str = typer.Argument(..., help="The network's new name."),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Rename a network (the old name stays in its history)."""
    _network_command(
        c.RenameNetwork,
        nats_url,
        as_json,
        f"{network_id} is now named {name!r}",
        actor=actor(who),
        network_id=network_id,
        network_name=name,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("describe-network")
def describe_network(
    network_id: str,
    description: str = typer.Option(None, "--description", help="The new description."),
    clear: bool = typer.Option(False, "--clear", help="Remove the description."),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Change or remove a network's description."""
    if (description is None) == (not clear):
        usage_error("give either --description TEXT or --clear")
    message = f"description of {network_id} " + ("removed" if clear else "changed")
    _network_command(
        c.ChangeNetworkDescription,
        nats_url,
        as_json,
        message,
        actor=actor(who),
        network_id=network_id,
        description=description,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("add-member")
def add_member(
    network_id: str,
    entity: str,
    role: str = typer.Option("member", help="coordinator, co-lead, member, secretariat"),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """A UN entity joins a network."""
    _network_command(
        c.AddNetworkMember,
        nats_url,
        as_json,
        f"{entity} joined {network_id} as {role}",
        actor=actor(who),
        network_id=network_id,
        entity=entity.upper(),
        role=role,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("add-member-role")
def add_member_role(
    network_id: str,
    entity: str,
    role: str = typer.Argument(..., help=", ".join(r for r in c.MemberRole if r != c.MemberRole.MEMBER)),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """A member takes on a further role (IOM in the global Network: coordinator, committee, secretariat)."""
    _network_command(
        c.AddMemberRole,
        nats_url,
        as_json,
        f"{entity.upper()} is now also {role} of {network_id}",
        actor=actor(who),
        network_id=network_id,
        entity=entity.upper(),
        role=role,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("remove-member-role")
def remove_member_role(
    network_id: str,
    entity: str,
    role: str,
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """A member gives up one of its roles (it stays a member)."""
    _network_command(
        c.RemoveMemberRole,
        nats_url,
        as_json,
        f"{entity.upper()} is no longer {role} of {network_id}",
        actor=actor(who),
        network_id=network_id,
        entity=entity.upper(),
        role=role,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("classify-network")
def classify_network(
    network_id: str,
    kind: str = typer.Argument(..., help=", ".join(c.NetworkKind)),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Record what a network is: a new network, a strengthened platform, an issue-based coalition..."""
    _network_command(
        c.ClassifyNetwork,
        nats_url,
        as_json,
        f"{network_id} is recorded as {kind}",
        actor=actor(who),
        network_id=network_id,
        kind=kind,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("remove-member")
def remove_member(
    network_id: str,
    entity: str,
    reason: str = typer.Option(None),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """A UN entity leaves a network."""
    _network_command(
        c.RemoveNetworkMember,
        nats_url,
        as_json,
        f"{entity} left {network_id}",
        actor=actor(who),
        network_id=network_id,
        entity=entity.upper(),
        reason=reason,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("align-tor")
def align_tor(
    network_id: str,
    aligned_on: datetime = typer.Option(..., formats=["%Y-%m-%d"], help="Date of alignment with the global ToR."),
    agreed_by: list[str] = typer.Option([], "--agreed-by", help="A member entity that agreed (repeatable)."),
    consulted: list[str] = typer.Option(
        [],
        "--consulted",
        help="An Executive Committee member consulted (repeatable; the Network Coordinator is IOM), or 'all'.",
    ),
    consulted_executive_committee: bool = typer.Option(
        False, "--consulted-executive-committee", help="The same as --consulted all."
    ),
    note: str = typer.Option(None),
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Record that a network aligned its terms of reference with the global ones, who agreed and who was consulted.

    The FAQ encourages alignment with the agreement of all entities concerned and in consultation with the
    Executive Committee and the Network Coordinator: what is missing is recorded as a flag, not refused.
    """
    everyone = consulted_executive_committee or "all" in [v.lower() for v in consulted]
    cmd = build(
        c.AlignTermsOfReference,
        actor=actor(who),
        network_id=network_id,
        aligned_on=aligned_on.date(),
        agreed_by=[e.upper() for e in agreed_by],
        consulted=list(reference.EXECUTIVE_COMMITTEE) if everyone else [e.upper() for e in consulted],
        note=note,
        command_id=command_id,
    )
    result = run(nats_url, lambda client: client.command(cmd))
    done(
        result,
        as_json,
        f"{network_id} terms of reference aligned; `mignet registry network {network_id}` shows any flag",
    )


@app.command("focal-point")
def focal_point(
    network_id: str,
    name: str = typer.Option(...),
    entity: str = typer.Option(...),
    email: str = typer.Option(...),
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Assign a network's focal point (a member entity's staff contact)."""
    _network_command(
        c.AssignFocalPoint,
        nats_url,
        as_json,
        f"focal point of {network_id} assigned",
        actor=actor(who),
        network_id=network_id,
        focal_point_name=name,
        entity=entity.upper(),
        email=email,
        command_id=command_id,
    )


@app.command("erase-personal-data")
def erase_personal_data(
    network_id: str,
    requested_by: str = typer.Option(..., "--requested-by", help="A reference (request or ticket id), not a name."),
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Erase the name and e-mail of every focal point the network had (docs/privacy.md)."""
    _network_command(
        c.ErasePersonalData,
        nats_url,
        as_json,
        f"personal data of {network_id} erased",
        actor=actor(who),
        network_id=network_id,
        requested_by=requested_by,
        command_id=command_id,
    )


@app.command("nominate-champion")
def nominate_champion(
    country: str,
    group: str = typer.Option(..., "--group", help=f"Regional group: {', '.join(reference.CHAMPION_REGIONAL_GROUPS)}"),
    met: list[str] = typer.Option([], "--met", help="A criterion met (repeatable), or 'all'."),
    not_assessed: list[str] = typer.Option(
        [], "--not-assessed", help="A criterion not assessed (repeatable), or 'all'. Others count as not met."
    ),
    note: list[str] = typer.Option([], "--note", help="CRITERION=TEXT, repeatable."),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Nominate a member state as a champion country, assessed against the five criteria of a nomination.

    Geographic balance, the sixth, is a property of the whole set: `mignet registry champions` shows it.
    """
    criteria = reference.COUNTRY_CHAMPION_CRITERIA
    met_codes = set(criteria) if "all" in met else set(met)
    unassessed = set(criteria) if "all" in not_assessed else set(not_assessed)
    notes = dict(n.partition("=")[::2] for n in note)
    unknown = (met_codes | unassessed | set(notes)) - set(criteria)
    if unknown:
        raise typer.BadParameter(f"unknown criteria {', '.join(sorted(unknown))}; known: {', '.join(criteria)}")
    if both := met_codes & unassessed:
        raise typer.BadParameter(f"both met and not assessed: {', '.join(sorted(both))}")
    assessment = [
        {
            "criterion": code,
            "met": None if code in unassessed else code in met_codes,
            "note": notes.get(code) or None,
        }
        for code in criteria
    ]
    _network_command(
        c.NominateChampion,
        nats_url,
        as_json,
        f"{country.upper()} nominated as a champion country",
        actor=actor(who),
        country=country,
        regional_group=group,
        assessment=assessment,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("confirm-champion")
def confirm_champion(
    country: str,
    override_reason: str = typer.Option(
        None, "--override-reason", help="Required when the nomination did not meet all six criteria."
    ),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Confirm a nominated champion country."""
    _network_command(
        c.ConfirmChampion,
        nats_url,
        as_json,
        f"{country.upper()} confirmed as a champion country",
        actor=actor(who),
        country=country,
        override_reason=override_reason,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("withdraw-champion")
def withdraw_champion(
    country: str,
    reason: str = typer.Option(...),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Withdraw a champion country."""
    _network_command(
        c.WithdrawChampion,
        nats_url,
        as_json,
        f"{country.upper()} withdrawn as a champion country",
        actor=actor(who),
        country=country,
        reason=reason,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


NETWORK_COLUMNS = [
    ("network_id", "id"),
    ("scope", "scope"),
    ("name", "name"),
    ("country", "country"),
    ("region", "region"),
    ("status", "status"),
    ("kind", "kind"),
    ("member_count", "members"),
]


@app.command("networks")
def networks(
    scope: str = typer.Option(None),
    region: str = typer.Option(None),
    country: str = typer.Option(None),
    status: str = typer.Option(None),
    kind: str = typer.Option(None, help=f"Only networks of this kind: {', '.join(c.NetworkKind)}."),
    member: str = typer.Option(None, help="Only networks this entity belongs to."),
    role: str = typer.Option(None, help="Only networks where a member (with --member: that one) holds this role."),
    search: str = typer.Option(None, "--search", help="Only networks whose name contains this (any case)."),
    limit: int = typer.Option(200),
    offset: int = typer.Option(0),
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """List networks."""
    query = build(
        c.ListNetworks,
        scope=scope,
        region=region,
        country=country,
        status=status,
        kind=kind,
        member=member.upper() if member else None,
        role=role,
        name_contains=search,
        limit=limit,
        offset=offset,
    )
    found = run(nats_url, lambda client: client.query(query))
    if as_json:
        emit_list(found["items"], found["total"], offset, limit)
        return
    table(found["items"], NETWORK_COLUMNS, title=f"Networks ({found['total']})")


@app.command("network")
def network(network_id: str, nats_url: str = NatsUrl, as_json: bool = AsJson) -> None:
    """Show one network with its members."""
    doc = run(nats_url, lambda client: client.query(build(c.GetNetwork, network_id=network_id)))
    if as_json:
        emit_json(doc)
        return
    table([doc], NETWORK_COLUMNS + [("status_since", "since"), ("tor_aligned_on", "ToR aligned")])
    if doc.get("description"):
        console.print(doc["description"], highlight=False, markup=False)
    members = [m | {"roles": ", ".join(m.get("roles", [m["role"]]))} for m in doc["members"]]
    table(members, [("entity", "entity"), ("roles", "roles"), ("joined_on", "joined")], title="Members")
    if doc.get("pilots"):
        columns = [
            ("group_id", "working group"),
            ("output_title", "output"),
            ("started_on", "from"),
            ("ended_on", "to"),
        ]
        table(doc["pilots"], columns, title="Pilots of working-group outputs")
    if tor := doc.get("tor"):
        gaps = [f"{k.replace('_', ' ')}: {', '.join(tor[k])}" for k in ("not_agreed", "not_consulted") if tor.get(k)]
        complete = {True: "complete", False: "flagged", None: "who agreed not recorded"}[tor.get("complete")]
        console.print(
            f"Terms of reference aligned on {tor['aligned_on']} ({complete})"
            + (f"; {'; '.join(gaps)}" if gaps else ""),
            highlight=False,
            markup=False,
        )


@app.command("champions")
def champions(
    group: str = typer.Option(None, "--group"),
    status: str = typer.Option(None),
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """List champion countries, with their national network as it is now."""
    found = run(nats_url, lambda client: client.query(build(c.ListChampions, regional_group=group, status=status)))
    if as_json:
        emit_list(found["items"], found["total"])
        return
    # The national network as it is now (the nomination's snapshot, existing_network_id, may predate it).
    table(
        found["items"],
        [
            ("country", "code"),
            ("country_name", "country"),
            ("regional_group", "group"),
            ("status", "status"),
            ("criteria_met", "criteria met"),
            ("criteria_not_assessed", "not assessed"),
            ("network_id", "network"),
            ("network_status", "network status"),
        ],
        title=f"Champion countries ({found['total']})",
    )
    balance = found["geographic_balance"]
    console.print(
        "Geographic balance (active champions by group): "
        + ", ".join(f"{g} {n}" for g, n in balance["by_regional_group"].items()),
        highlight=False,
    )


@app.command("entities")
def entities(as_json: bool = AsJson) -> None:
    """The UN entity catalogue: which the FAQ names (confirmed) and which are assumed members."""
    rows = [
        {
            "code": e.code,
            "name": e.name,
            "source": "confirmed by the FAQ" if e.confirmed else "assumed",
            "committee": "member" if e.executive_committee else "invited" if e.invited_to_executive_committee else "",
        }
        for e in reference.UN_ENTITIES.values()
    ]
    if as_json:
        emit_list(rows)
        return
    columns = [("code", "code"), ("name", "name"), ("source", "source"), ("committee", "Executive Committee")]
    table(rows, columns, title=f"UN entities ({len(rows)}; the FAQ counts 39 members in October 2020)")


@app.command("directory")
def directory(
    as_of: datetime = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="The directory as it stood on this date (not in the future)."
    ),
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Summary of networks by status and region, and champions by group."""
    summary = run(nats_url, lambda client: client.query(build(c.DirectorySummary, as_of=_day(as_of))))
    if as_json:
        emit_json(summary)
        return
    nets = summary["networks"]
    console.print(f"[bold]Directory {'as of ' + summary['as_of'] if summary['as_of'] else 'today'}[/]")
    console.print(f"Networks: {nets['total']} ({nets['national']} national, {nets['regional']} regional)")
    table(
        [{"status": k, "count": v} for k, v in nets["by_status"].items()], [("status", "status"), ("count", "networks")]
    )
    table(
        [
            {"region": r, "counts": ", ".join(f"{k}: {v}" for k, v in cnt.items())}
            for r, cnt in nets["by_region"].items()
        ],
        [("region", "region"), ("counts", "networks")],
    )
    ch = summary["champions"]
    table(
        ch["countries"],
        [("country_name", "country"), ("regional_group", "group"), ("status", "status")],
        title=f"Champion countries ({ch['total']})",
    )


@app.command("seed")
def seed(nats_url: str = NatsUrl, who: str = ActorOption) -> None:
    """Load the October 2020 situation from the FAQ through the normal command path (idempotent)."""
    from mignet_registry.seed import load

    summary = run(nats_url, lambda client: load(client, actor(who)))
    console.print(
        f"seed: {summary['written']} commands wrote events, {summary['replayed']} were already loaded", highlight=False
    )
    if summary["kept"]:
        # An earlier seed recorded these with other content; its events stand (events are immutable).
        console.print(
            f"seed: {len(summary['kept'])} commands kept as an earlier seed recorded them: {', '.join(summary['kept'])}",
            highlight=False,
        )
