"""`mignet registry support-requests|request-support|accept-support|...`: the Network's support to countries."""

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
)
from mignet_cli.registry import OccurredOn, _day, app
from mignet_cli.registry import _network_command as _send
from mignet_contracts import reference
from mignet_contracts import support as sr


@app.command("support-measures")
def support_measures(as_json: bool = AsJson) -> None:
    """The FAQ's seven support measures, and where review-and-reporting support applies."""
    rows = [{"code": m.code, "name": m.name, "detail": m.detail} for m in reference.SUPPORT_MEASURES.values()]
    if as_json:
        emit_json({"measures": rows, "review_settings": reference.REVIEW_SETTINGS})
        return
    table(rows, [("code", "code"), ("name", "measure"), ("detail", "what the FAQ says")], title="Support measures")
    settings = [{"code": k, "name": v} for k, v in reference.REVIEW_SETTINGS.items()]
    table(settings, [("code", "code"), ("name", "review setting")])


@app.command("request-support")
def request_support(
    country: str,
    requester: str = typer.Option(..., "--by", help=", ".join(sr.Requester)),
    measure: list[str] = typer.Option(..., "--measure", help="A support measure (repeatable); see support-measures."),
    objective: list[int] = typer.Option([], "--objective", help="A GCM objective concerned, 1-23 (repeatable)."),
    setting: list[str] = typer.Option(
        [], "--setting", help=f"For review-and-reporting: {', '.join(reference.REVIEW_SETTINGS)}."
    ),
    framework: bool = typer.Option(False, "--framework", help="Ask for the framework for organizing regional reviews."),
    description: str = typer.Option(None),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """A member state, UN country team or national network asks for the Network's support; prints the request id."""
    cmd = build(
        sr.RequestSupport,
        actor=actor(who),
        country=country,
        requester=requester,
        measures=measure,
        objectives=objective,
        review_settings=setting,
        uses_review_framework=framework,
        description=description,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )
    created(nats_url, cmd, as_json)


@app.command("accept-support")
def accept_support(
    request_id: str,
    working_group: str = typer.Option(None, "--working-group", help="Assign it to this working group."),
    lead: str = typer.Option(None, "--lead", help="Or to this lead UN entity."),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Accept a support request, assigned to a working group or a lead entity."""
    _send(
        sr.AcceptSupport,
        nats_url,
        as_json,
        f"{request_id} accepted, assigned to {working_group or (lead or '').upper()}",
        actor=actor(who),
        request_id=request_id,
        working_group=working_group,
        lead_entity=lead.upper() if lead else None,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


def _step(model, verb: str):
    def step(
        request_id: str,
        occurred_on: datetime = OccurredOn,
        command_id: str = CommandId,
        who: str = ActorOption,
        nats_url: str = NatsUrl,
        as_json: bool = AsJson,
    ) -> None:
        _send(
            model,
            nats_url,
            as_json,
            f"{request_id} {verb}",
            actor=actor(who),
            request_id=request_id,
            occurred_on=_day(occurred_on),
            command_id=command_id,
        )

    return step


app.command("start-support", help="Mark an accepted support request as in progress.")(
    _step(sr.StartSupport, "in progress")
)


@app.command("complete-support")
def complete_support(
    request_id: str,
    note: str = typer.Option(None),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Mark a support request in progress as completed."""
    _send(
        sr.CompleteSupport,
        nats_url,
        as_json,
        f"{request_id} completed",
        actor=actor(who),
        request_id=request_id,
        note=note,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("decline-support")
def decline_support(
    request_id: str,
    reason: str = typer.Option(..., "--reason"),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Decline a support request, saying why."""
    _send(
        sr.DeclineSupport,
        nats_url,
        as_json,
        f"{request_id} declined",
        actor=actor(who),
        request_id=request_id,
        reason=reason,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


COLUMNS = [
    ("request_id", "id"),
    ("country_name", "country"),
    ("requester", "by"),
    ("measures", "measures"),
    ("status", "status"),
    ("champion_flag", "champion"),
    ("requested_on", "requested"),
]


@app.command("support-requests")
def support_requests(
    country: str = typer.Option(None),
    measure: str = typer.Option(None, help="Only requests for this support measure."),
    status: str = typer.Option(None),
    region: str = typer.Option(None),
    requester: str = typer.Option(None, "--by"),
    champion: bool = typer.Option(None, "--champion/--not-champion", help="Only champion countries' (or others')."),
    limit: int = typer.Option(50),
    offset: int = typer.Option(0),
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """List support requests; champion countries' requests are flagged."""
    query = build(
        sr.ListSupportRequests,
        country=country,
        measure=measure,
        status=status,
        region=region,
        requester=requester,
        champion=champion,
        limit=limit,
        offset=offset,
    )
    found = run(nats_url, lambda client: client.query(query))
    if as_json:
        emit_list(found["items"], found["total"], offset, limit)
        return
    rows = [r | {"champion_flag": "champion" if r["champion"] else ""} for r in found["items"]]
    table(rows, COLUMNS, title=f"Support requests ({found['total']})")


@app.command("support-request")
def support_request(request_id: str, nats_url: str = NatsUrl, as_json: bool = AsJson) -> None:
    """Show one support request with its history."""
    doc = run(nats_url, lambda client: client.query(build(sr.GetSupportRequest, request_id=request_id)))
    if as_json:
        emit_json(doc)
        return
    table([doc | {"champion_flag": "champion" if doc["champion"] else ""}], COLUMNS)
    assigned = doc["working_group"] or doc["lead_entity"]
    console.print(
        f"objectives: {doc['objectives'] or '-'}; assigned to: {assigned or '-'}", highlight=False, markup=False
    )
    table(doc["status_history"], [("status", "status"), ("on", "on")], title="History")


@app.command("support-figures")
def support_figures(
    since: datetime = typer.Option(None, "--since", formats=["%Y-%m-%d"]),
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Figures: requests by status, measure, region and requester; champions' requests."""
    found = run(nats_url, lambda client: client.query(build(sr.SupportFigures, since=_day(since))))
    if as_json:
        emit_json(found)
        return
    console.print(
        f"Support requests: {found['total']} from {found['countries']} countries, {found['open']} open, "
        f"{found['from_champions']} from champion countries",
        highlight=False,
    )
    for key in ("by_status", "by_measure", "by_region", "by_requester"):
        rows = [{"what": k, "count": v} for k, v in found[key].items()]
        table(rows, [("what", key.removeprefix("by_")), ("count", "requests")])
