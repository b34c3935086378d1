"""`mignet registry working-groups|working-group|create-working-group|...`: working groups, outputs, pilots."""

from __future__ import annotations

from datetime import datetime

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
    emit_json,
    emit_list,
    run,
    table,
    usage_error,
)
from mignet_cli.registry import OccurredOn, _day, app
from mignet_cli.registry import _network_command as _send
from mignet_contracts import reference
from mignet_contracts import working_groups as wg

Day = typer.Option(None, formats=["%Y-%m-%d"])
Entity = typer.Option(None, "--entity", help="A UN entity, e.g. IOM.")
Stakeholder = typer.Option(
    None, "--stakeholder", help=f"A stakeholder category: {', '.join(reference.STAKEHOLDER_CATEGORIES)}."
)
Organization = typer.Option(None, "--organization", help="The stakeholder's organisation.")


def _member(entity: str | None, stakeholder: str | None, organization: str | None) -> dict:
    if entity and not (stakeholder or organization):
        return {"kind": "un-entity", "entity": entity.upper()}
    if stakeholder and organization and not entity:
        return {"kind": "stakeholder", "category": stakeholder, "organization": organization}
    usage_error("give either --entity ENTITY, or --stakeholder CATEGORY with --organization NAME")


@app.command("create-working-group")
def create_working_group(
    group_id: str,
    name: str = typer.Option(..., "--name"),
    core: bool = typer.Option(False, "--core/--thematic", help="A core or a thematic working group."),
    workstream: str = typer.Option(None, help=f"The workstream it serves: {', '.join(reference.WORKSTREAMS)}."),
    description: str = typer.Option(None),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Create a working group (the FAQ's nine come with `mignet registry seed`)."""
    _send(
        wg.CreateWorkingGroup,
        nats_url,
        as_json,
        f"working group {group_id} created",
        actor=actor(who),
        group_id=group_id,
        group_name=name,
        core=core,
        workstream=workstream,
        description=description,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("join-working-group")
def join_working_group(
    group_id: str,
    entity: str = Entity,
    stakeholder: str = Stakeholder,
    organization: str = Organization,
    lead: bool = typer.Option(False, "--lead", help="The member leads (or co-leads) the group."),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """A UN entity or a stakeholder joins a working group (open to all Network members and stakeholders)."""
    member = _member(entity, stakeholder, organization)
    _send(
        wg.JoinWorkingGroup,
        nats_url,
        as_json,
        f"{entity.upper() if entity else organization} joined {group_id}" + (" as a lead" if lead else ""),
        actor=actor(who),
        group_id=group_id,
        member=member,
        lead=lead,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("leave-working-group")
def leave_working_group(
    group_id: str,
    entity: str = Entity,
    stakeholder: str = Stakeholder,
    organization: str = Organization,
    reason: str = typer.Option(None),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """A member leaves a working group."""
    _send(
        wg.LeaveWorkingGroup,
        nats_url,
        as_json,
        f"{entity.upper() if entity else organization} left {group_id}",
        actor=actor(who),
        group_id=group_id,
        member=_member(entity, stakeholder, organization),
        reason=reason,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("add-output")
def add_output(
    group_id: str,
    kind: str = typer.Option(..., "--kind", help=", ".join(wg.OutputKind)),
    title: str = typer.Option(..., "--title"),
    description: str = typer.Option(None),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Add an output (tool, data, analysis, guidance) to a working group, as a draft; prints its id."""
    cmd = build(
        wg.AddOutput,
        actor=actor(who),
        group_id=group_id,
        kind=kind,
        title=title,
        description=description,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )
    created(nats_url, cmd, as_json, output_id=cmd.output_id)


@app.command("output-status")
def output_status(
    group_id: str,
    output_id: str,
    status: str = typer.Argument(..., help=", ".join(wg.OutputStatus)),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Move an output from draft to in-review to published (published is final)."""
    _send(
        wg.ChangeOutputStatus,
        nats_url,
        as_json,
        f"{output_id} is now {status}",
        actor=actor(who),
        group_id=group_id,
        output_id=output_id,
        status=status,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("pilot-output")
def pilot_output(
    group_id: str,
    output_id: str,
    network_id: str,
    started_on: datetime = typer.Option(None, "--started-on", formats=["%Y-%m-%d"], help="Default today."),
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """A country or regional network starts piloting a working group's output."""
    _send(
        wg.PilotOutput,
        nats_url,
        as_json,
        f"{network_id} pilots {output_id}",
        actor=actor(who),
        group_id=group_id,
        output_id=output_id,
        network_id=network_id,
        started_on=_day(started_on),
        command_id=command_id,
    )


@app.command("end-pilot")
def end_pilot(
    group_id: str,
    output_id: str,
    network_id: str,
    ended_on: datetime = typer.Option(None, "--ended-on", formats=["%Y-%m-%d"], help="Default today."),
    note: str = typer.Option(None),
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """End a network's pilot of an output."""
    _send(
        wg.EndPilot,
        nats_url,
        as_json,
        f"{network_id} ended its pilot of {output_id}",
        actor=actor(who),
        group_id=group_id,
        output_id=output_id,
        network_id=network_id,
        ended_on=_day(ended_on),
        note=note,
        command_id=command_id,
    )


@app.command("working-groups")
def working_groups(
    core: bool = typer.Option(None, "--core/--thematic", help="Only core, or only thematic, groups."),
    workstream: str = typer.Option(None),
    member: str = typer.Option(None, help="Only groups this UN entity belongs to."),
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """List working groups."""
    query = build(wg.ListWorkingGroups, core=core, workstream=workstream, member=member.upper() if member else None)
    found = run(nats_url, lambda client: client.query(query))
    if as_json:
        emit_list(found["items"], found["total"])
        return
    rows = [
        g | {"kind": "core" if g["core"] else "thematic", "output_count": len(g["outputs"])} for g in found["items"]
    ]
    columns = [("group_id", "id"), ("name", "name"), ("kind", "kind"), ("workstream", "workstream")]
    table(
        rows,
        [*columns, ("member_count", "members"), ("output_count", "outputs")],
        title=f"Working groups ({found['total']})",
    )


def _member_label(m: dict) -> str:
    return m["entity"] if m["kind"] == "un-entity" else f"{m['organization']} ({m['category']})"


@app.command("working-group")
def working_group(group_id: str, nats_url: str = NatsUrl, as_json: bool = AsJson) -> None:
    """Show one working group: members, outputs and their pilots."""
    doc = run(nats_url, lambda client: client.query(build(wg.GetWorkingGroup, group_id=group_id)))
    if as_json:
        emit_json(doc)
        return
    kind = "core" if doc["core"] else "thematic"
    console.print(
        f"{doc['name']} ({doc['group_id']}, {kind}; workstream: {doc['workstream'] or '-'})",
        highlight=False,
        markup=False,
    )
    members = [
        {"member": _member_label(m), "lead": "lead" if m["lead"] else "", "joined_on": m["joined_on"]}
        for m in doc["members"]
    ]
    table(members, [("member", "member"), ("lead", "lead"), ("joined_on", "joined")], title="Members")
    table(
        doc["outputs"],
        [("output_id", "id"), ("kind", "kind"), ("title", "title"), ("status", "status")],
        title="Outputs",
    )
    pilots = [p | {"output_id": o["output_id"]} for o in doc["outputs"] for p in o["pilots"]]
    table(
        pilots,
        [("output_id", "output"), ("network_id", "network"), ("started_on", "from"), ("ended_on", "to")],
        title="Pilots",
    )


@app.command("pilots")
def pilots(
    network: str = typer.Option(None, "--network", help="Only this network's pilots."),
    group: str = typer.Option(None, "--group", help="Only this working group's outputs."),
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Pilots of working-group outputs by country and regional networks."""
    found = run(nats_url, lambda client: client.query(build(wg.ListPilots, network_id=network, group_id=group)))
    if as_json:
        emit_list(found["items"], found["total"])
        return
    columns = [("network_id", "network"), ("group_id", "group"), ("output_id", "output"), ("output_title", "title")]
    table(found["items"], [*columns, ("started_on", "from"), ("ended_on", "to")], title=f"Pilots ({found['total']})")
