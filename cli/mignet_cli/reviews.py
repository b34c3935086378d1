"""`mignet reviews ...`: regional reviews of the GCM, contributions and their moderation."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

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
from mignet_contracts import reviews as c

app = typer.Typer(
    help="Regional reviews of the GCM: schedule and run them, moderate contributions, compile them.",
    no_args_is_help=True,
)

OccurredOn = typer.Option(
    None,
    "--occurred-on",
    formats=["%Y-%m-%d"],
    help="When it happened, for back-filling history (YYYY-MM-DD); default today.",
)
Day = typer.Option(None, formats=["%Y-%m-%d"])


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _send(model, nats_url: str, as_json: bool, message: str, **fields) -> None:
    cmd = build(model, **fields)
    result = run(nats_url, lambda client: client.command(cmd))
    done(result, as_json, message)


# --- reviews ---------------------------------------------------------------------------


@app.command("schedule")
def schedule(
    region: str = typer.Argument(..., help=f"One of {', '.join(reference.REGIONS)}."),
    cycle: str = typer.Argument(..., help="Two consecutive years, e.g. 2024-2025."),
    commission: str = typer.Option(None, help="The organizing commission; defaults to the region's."),
    meeting_start: datetime = typer.Option(None, "--meeting-start", formats=["%Y-%m-%d"]),
    meeting_end: datetime = typer.Option(None, "--meeting-end", formats=["%Y-%m-%d"]),
    venue: str = typer.Option(None, help="A city, or 'virtual'."),
    partner: list[str] = typer.Option([], "--partner", help="A co-organizer (repeatable)."),
    organizer: list[str] = typer.Option(
        [],
        "--organizer",
        help=f"KIND:NAME, repeatable (GCM para 50); KIND one of {', '.join(c.OrganizerKind)}.",
    ),
    consultation: list[datetime] = typer.Option(
        [], "--consultation", formats=["%Y-%m-%d"], help="A stakeholder consultation date (repeatable)."
    ),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Schedule the regional review of a region for a cycle (one per region and cycle)."""
    cmd = build(
        c.ScheduleReview,
        actor=actor(who),
        region=region,
        cycle=cycle,
        commission=commission,
        meeting_start=_day(meeting_start),
        meeting_end=_day(meeting_end),
        venue=venue,
        partners=partner,
        organizers=[dict(zip(("kind", "name"), o.split(":", 1), strict=False)) for o in organizer],
        stakeholder_consultations=[d.date() for d in consultation],
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )
    result = run(nats_url, lambda client: client.command(cmd))
    done(result, as_json, f"{result.aggregate_id} scheduled")


@app.command("open")
def open_review(
    review_id: str,
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Open a planned review for contributions."""
    _send(
        c.OpenReview,
        nats_url,
        as_json,
        f"{review_id} is open for contributions",
        actor=actor(who),
        review_id=review_id,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("close")
def close_review(
    review_id: str,
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Close a review to contributions."""
    _send(
        c.CloseReview,
        nats_url,
        as_json,
        f"{review_id} is closed",
        actor=actor(who),
        review_id=review_id,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("publish-report")
def publish_report(
    review_id: str,
    report_url: str = typer.Argument(..., help="https link to the report."),
    published_on: datetime = typer.Option(None, "--published-on", formats=["%Y-%m-%d"]),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Record the report of a closed review."""
    _send(
        c.PublishReviewReport,
        nats_url,
        as_json,
        f"report of {review_id} published",
        actor=actor(who),
        review_id=review_id,
        report_url=report_url,
        published_on=_day(published_on),
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


# --- contributions -----------------------------------------------------------------------


def _contributor(
    member_state: str | None, stakeholder: str | None, organization: str | None, country: str | None
) -> dict:
    if bool(member_state) == bool(stakeholder):
        usage_error("give either --member-state COUNTRY or --stakeholder CATEGORY --organization NAME")
    if member_state:
        if organization or country:
            usage_error("--organization and --country go with --stakeholder, not --member-state")
        return {"kind": "member-state", "country": member_state}
    if not organization:
        usage_error("a stakeholder's contribution needs --organization NAME (the organization contributing)")
    contributor = {"kind": "stakeholder", "category": stakeholder, "organization": organization}
    return {**contributor, "country": country} if country else contributor


def _read_body(body: str | None, body_file: Path | None) -> str | None:
    if body and body_file:
        usage_error("give --body or --body-file, not both")
    if body_file is None:
        return body
    if str(body_file) == "-":
        return sys.stdin.read()
    try:
        return body_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        usage_error(f"--body-file {body_file}: no such file")
    except IsADirectoryError:
        usage_error(f"--body-file {body_file}: is a directory, not a file")
    except PermissionError:
        usage_error(f"--body-file {body_file}: permission denied")
    except UnicodeDecodeError as exc:
        usage_error(
            f"--body-file {body_file}: not UTF-8 text (byte {exc.start}); "
            "save it as UTF-8, e.g. iconv -f latin1 -t utf-8"
        )
    except OSError as exc:
        usage_error(f"--body-file {body_file}: cannot be read ({exc.strerror or exc})")


@app.command("submit")
def submit(
    review_id: str,
    member_state: str = typer.Option(None, "--member-state", help="Contributing member state (ISO code)."),
    stakeholder: str = typer.Option(
        None, "--stakeholder", help=f"Stakeholder category: {', '.join(reference.STAKEHOLDER_CATEGORIES)}."
    ),
    organization: str = typer.Option(None, "--organization", help="The stakeholder's organization."),
    country: str = typer.Option(None, "--country", help="The stakeholder's country, if any (ISO code)."),
    level: str = typer.Option(..., help="local, national, regional or global"),
    title: str = typer.Option(...),
    summary: str = typer.Option(...),
    body: str = typer.Option(None),
    body_file: Path = typer.Option(None, "--body-file", help="Read the body from a file ('-': standard input)."),
    objective: list[int] = typer.Option(..., "--objective", help="A GCM objective, 1-23 (repeatable)."),
    principle: list[str] = typer.Option([], "--principle", help="A guiding principle (repeatable)."),
    language: str = typer.Option("en", help="ISO 639-1 code of the contribution's language."),
    link: list[str] = typer.Option([], "--link", help="An http(s) link (repeatable)."),
    contact_name: str = typer.Option(..., "--contact-name", help="Not published."),
    contact_email: str = typer.Option(..., "--contact-email", help="Not published."),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Submit a contribution to an open review, or to the IMRF itself (imrf-2026), and print its id.

    It is published only once moderated.
    """
    cmd = build(
        c.SubmitContribution,
        actor=actor(who),
        **_destination(review_id),
        contributor=_contributor(member_state, stakeholder, organization, country),
        level=level,
        title=title,
        summary=summary,
        body=_read_body(body, body_file),
        objectives=objective,
        guiding_principles=principle,
        language=language,
        links=link,
        contact={"name": contact_name, "email": contact_email},
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )
    created(nats_url, cmd, as_json)


@app.command("publish")
def publish(
    contribution_id: str,
    note: str = typer.Option(None, help="Shown with the contribution."),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Publish a submitted contribution on the regional page."""
    _send(
        c.PublishContribution,
        nats_url,
        as_json,
        f"{contribution_id} published",
        actor=actor(who),
        contribution_id=contribution_id,
        note=note,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("reject")
def reject(
    contribution_id: str,
    reason: str = typer.Option(...),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Reject a submitted contribution (final)."""
    _send(
        c.RejectContribution,
        nats_url,
        as_json,
        f"{contribution_id} rejected",
        actor=actor(who),
        contribution_id=contribution_id,
        reason=reason,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("withdraw")
def withdraw(
    contribution_id: str,
    reason: str = typer.Option(None),
    occurred_on: datetime = OccurredOn,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Withdraw a submitted or published contribution (final; it leaves the public pages)."""
    _send(
        c.WithdrawContribution,
        nats_url,
        as_json,
        f"{contribution_id} withdrawn",
        actor=actor(who),
        contribution_id=contribution_id,
        reason=reason,
        occurred_on=_day(occurred_on),
        command_id=command_id,
    )


@app.command("erase-personal-data")
def erase_personal_data(
    contribution_id: str,
    requested_by: str = typer.Option(..., "--requested-by", help="A reference (request or ticket id), not a name."),
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Erase a contribution's contact (name and e-mail); the contribution stays (docs/privacy.md)."""
    _send(
        c.ErasePersonalData,
        nats_url,
        as_json,
        f"contact of {contribution_id} erased",
        actor=actor(who),
        contribution_id=contribution_id,
        requested_by=requested_by,
        command_id=command_id,
    )


# --- queries -----------------------------------------------------------------------------

REVIEW_COLUMNS = [
    ("review_id", "id"),
    ("region_name", "region"),
    ("commission", "by"),
    ("meeting", "meeting"),
    ("venue", "venue"),
    ("status", "status"),
]
CONTRIBUTION_COLUMNS = [
    ("contribution_id", "id"),
    ("status", "status"),
    ("contributor_name", "contributor"),
    ("contributor_kind", "type"),
    ("level", "level"),
    ("objectives", "objectives"),
    ("title", "title"),
    ("network_status", "UN network"),
    ("champion_status", "champion"),
]


def _meeting(review: dict) -> str:
    start, end = review.get("meeting_start"), review.get("meeting_end")
    return f"{start} to {end}" if start and end and end != start else (start or "-")


@app.command("list")
def list_reviews(
    region: str = typer.Option(None),
    cycle: str = typer.Option(None),
    status: str = typer.Option(None, help="planned, open-for-contributions, closed, report-published"),
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """List regional reviews."""
    query = build(c.ListReviews, region=region, cycle=cycle, status=status)
    found = run(nats_url, lambda client: client.query(query))
    if as_json:
        emit_list(found["items"], found["total"])
        return
    rows = [{**review, "meeting": _meeting(review)} for review in found["items"]]
    table(rows, REVIEW_COLUMNS, title=f"Regional reviews ({found['total']})")


def _destination(review_or_imrf: str) -> dict:
    """A regional review id, or an IMRF (``imrf-2026``) for contributions to the forum itself."""
    key = "imrf" if review_or_imrf.lower().startswith("imrf-") else "review_id"
    return {key: review_or_imrf.lower() if key == "imrf" else review_or_imrf}


@app.command("contributions")
def contributions(
    review_id: str,
    status: str = typer.Option(None, help="submitted, published, rejected or withdrawn"),
    kind: str = typer.Option(None, "--kind", help="member-state or stakeholder"),
    category: str = typer.Option(None, "--category", help="Stakeholder category."),
    level: str = typer.Option(None),
    objective: int = typer.Option(None),
    country: str = typer.Option(None),
    limit: int = typer.Option(50),
    offset: int = typer.Option(0),
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """List a review's (or the IMRF's, imrf-2026) contributions (all statuses unless --status); no contacts."""
    query = build(
        c.ListContributions,
        **_destination(review_id),
        status=status,
        contributor_kind=kind,
        stakeholder_category=category,
        level=level,
        objective=objective,
        country=country,
        limit=limit,
        offset=offset,
    )
    found = run(nats_url, lambda client: client.query(query))
    if as_json:
        emit_list(found["items"], found["total"], offset, limit)
        return
    shown = f"{offset + 1}-{offset + len(found['items'])} of " if found["items"] else ""
    table(found["items"], CONTRIBUTION_COLUMNS, title=f"Contributions to {review_id} ({shown}{found['total']})")


@app.command("review")
def review(review_id: str, nats_url: str = NatsUrl, as_json: bool = AsJson) -> None:
    """Show one regional review: dates, venue, partners, status history and report."""
    doc = run(nats_url, lambda client: client.query(build(c.GetReview, review_id=review_id)))
    if as_json:
        emit_json(doc)
        return
    table([{**doc, "meeting": _meeting(doc)}], REVIEW_COLUMNS)
    facts = [
        ("cycle", doc.get("cycle")),
        ("organized by", doc.get("commission_name")),
        ("partners", ", ".join(doc.get("partners") or []) or None),
        ("stakeholder consultations", ", ".join(doc.get("stakeholder_consultations") or []) or None),
        ("report", doc.get("report_url")),
        ("report published", doc.get("report_published_on")),
    ]
    for label, value in facts:
        if value:
            console.print(f"{label}: {value}", highlight=False, markup=False)
    table(doc.get("status_history") or [], [("on", "on"), ("status", "status")], title="History")


#: What a moderator decided, in the order it can happen.
MODERATION = [
    ("moderator_note", "moderator's note"),
    ("rejection_reason", "rejected because"),
    ("withdrawal_reason", "withdrawn because"),
]


@app.command("contribution")
def contribution(contribution_id: str, nats_url: str = NatsUrl, as_json: bool = AsJson) -> None:
    """Show one contribution with its moderation: history, note, rejection or withdrawal reason."""
    doc = run(nats_url, lambda client: client.query(build(c.GetContribution, contribution_id=contribution_id)))
    if as_json:
        emit_json(doc)
        return
    table([doc], CONTRIBUTION_COLUMNS)
    console.print(doc["summary"], highlight=False, markup=False)
    for key, label in MODERATION:
        if doc.get(key):
            console.print(f"{label}: {doc[key]}", highlight=False, markup=False)
    table(doc["status_history"], [("on", "on"), ("status", "status")], title="History")


def _counts(title: str, counts: dict) -> None:
    table([{"key": k, "count": v} for k, v in counts.items()], [("key", title), ("count", "count")])


@app.command("figures")
def figures(review_id: str, nats_url: str = NatsUrl, as_json: bool = AsJson) -> None:
    """Counts of a review's contributions by status, contributor type, level and objective."""
    result = run(nats_url, lambda client: client.query(build(c.ReviewFigures, review_id=review_id)))
    if as_json:
        emit_json(result)
        return
    console.print(f"[bold]{review_id}[/] ({result['review_status']}): {result['total']} contributions", highlight=False)
    _counts("status", result["by_status"])
    for part, label in (("received", "Received (submitted or published)"), ("published", "Published")):
        numbers = result[part]
        console.print(f"[bold]{label}[/]: {numbers['total']}", highlight=False)
        _counts("contributor type", numbers["by_contributor_kind"])
        _counts("stakeholder category", numbers["by_stakeholder_category"])
        _counts("level", numbers["by_level"])
        table(numbers["by_objective"], [("objective", "#"), ("label", "objective"), ("count", "count")])


async def _everything(client, query: c.Compilation) -> list[dict]:
    """All pages of a compilation (the service answers at most 200 at a time)."""
    items: list[dict] = []
    while True:
        found = await client.query(query)
        items += found["items"]
        if not found["items"] or len(items) >= found["total"]:
            return items
        query = query.model_copy(update={"offset": query.offset + len(found["items"])})


@app.command("compilation")
def compilation(
    imrf: str = typer.Option(
        None, "--imrf", help="Only what informs this IMRF (imrf-2026): contributions to it and its cycle's reviews."
    ),
    cycle: str = typer.Option(None),
    region: str = typer.Option(None),
    objective: int = typer.Option(None),
    kind: str = typer.Option(None, "--kind", help="member-state or stakeholder"),
    category: str = typer.Option(None, "--category", help="Stakeholder category."),
    limit: int = typer.Option(100),
    offset: int = typer.Option(0),
    as_csv: bool = typer.Option(
        False, "--csv", help="Write every matching contribution as CSV to standard output (--limit/--offset ignored)."
    ),
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Published contributions across regions, compiled for the International Migration Review Forum."""
    if as_csv and as_json:
        raise typer.BadParameter("choose one of --csv and --json", param_hint="--csv")
    fields = dict(
        imrf=imrf.lower() if imrf else None,
        cycle=cycle,
        region=region,
        objective=objective,
        contributor_kind=kind,
        stakeholder_category=category,
    )
    if as_csv:
        from mignet_reviews.compilation_export import csv_lines

        every = build(c.Compilation, **fields, limit=c.MAX_PAGE, offset=0)
        items = run(nats_url, lambda client: _everything(client, every))
        sys.stdout.writelines(csv_lines(items))
        return
    query = build(c.Compilation, **fields, limit=limit, offset=offset)
    found = run(nats_url, lambda client: client.query(query))
    if as_json:
        emit_list(found["items"], found["total"], offset, limit, by_region=found["by_region"])
        return
    _counts("region", found["by_region"])
    table(
        found["items"],
        [
            ("cycle", "cycle"),
            ("region", "region"),
            ("imrf", "imrf"),
            ("contribution_id", "id"),
            ("contributor_name", "contributor"),
            ("level", "level"),
            ("objectives", "objectives"),
            ("title", "title"),
        ],
        title=f"Compilation ({found['total']} published)",
    )


@app.command("seed")
def seed(nats_url: str = NatsUrl, who: str = ActorOption) -> None:
    """Schedule the ten regional reviews of 2020-2021 and 2024-2025 with their real dates (idempotent)."""
    from mignet_reviews.seed import ACTOR, load

    summary = run(nats_url, lambda client: load(client, actor(who) if who else ACTOR))
    console.print(
        f"seed: {summary['written']} commands wrote events, {summary['replayed']} were already loaded", highlight=False
    )
    for refused in summary["refused"]:
        console.print(f"  refused {refused['command_id']}: {refused['message']}", highlight=False, markup=False)


if __name__ == "__main__":
    app()
