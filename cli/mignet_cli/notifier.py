"""`mignet notifier ...`: subscriptions to mignet's events, and their deliveries."""

from __future__ import annotations

from typing import Any

import typer

from mignet_cli.common import (
    ActorOption,
    AsJson,
    CommandId,
    NatsUrl,
    actor,
    build,
    console,
    emit_json,
    emit_list,
    errors,
    run,
    table,
    usage_error,
)
from mignet_contracts import notifier as c
from mignet_runtime.client import MignetClient

app = typer.Typer(
    help="Subscriptions to mignet's events (signed webhooks, e-mail) and their deliveries.", no_args_is_help=True
)

SUBSCRIPTION_COLUMNS = [
    ("subscription_id", "id"),
    ("status", "status"),
    ("channel", "channel"),
    ("title", "title"),
    ("event_types", "event types"),
    ("internal", "internal"),
]
DELIVERY_COLUMNS = [
    ("delivery_id", "delivery"),
    ("status", "status"),
    ("subscription_id", "subscription"),
    ("event_type", "event type"),
    ("attempts", "attempts"),
    ("last_status_code", "code"),
    ("latency_ms", "ms"),
    ("next_at", "next attempt"),
    ("last_error", "last error"),
]


async def _command(client: MignetClient, cmd) -> dict:
    # The reply may hold more than a CommandResult (the webhook secret), so it is read as it is.
    return MignetClient._unwrap(await client.request(cmd.subject(), cmd))


def _send(model, nats_url: str, as_json: bool, message: str, **fields: Any) -> dict:
    cmd = build(model, **fields)
    result = run(nats_url, lambda client: _command(client, cmd))
    if as_json:
        emit_json(result)
    else:
        replayed = " (already done earlier: nothing new written)" if result.get("replayed") else ""
        console.print(message + replayed, highlight=False)
    return result


def _filters(region: str | None, country: str | None, review: str | None) -> dict:
    return {k: v for k, v in {"region": region, "country": country, "review_id": review}.items() if v}


Types = typer.Option(..., "--event-type", "-e", help="A CloudEvents type, or a prefix ending in .* (repeatable).")
Region = typer.Option(None, "--region", help="Only events of this region.")
Country = typer.Option(None, "--country", help="Only events about this country (ISO code).")
Review = typer.Option(None, "--review", help="Only events of this review id.")


@app.command("subscribe")
def subscribe(
    title: str = typer.Argument(..., help="A name for the subscription."),
    event_type: list[str] = Types,
    webhook: str = typer.Option(None, "--webhook", help="https URL to POST signed CloudEvents to."),
    email: str = typer.Option(None, "--email", help="E-mail address (personal data) to notify."),
    internal: bool = typer.Option(
        False, "--internal", help="The Network's own staff (e-mail only): may receive events that are not public."
    ),
    region: str = Region,
    country: str = Country,
    review: str = Review,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Subscribe a webhook or an e-mail address; a webhook's signing secret is printed once, here."""
    if (webhook is None) == (email is None):
        usage_error("give either --webhook URL or --email ADDRESS")
    result = _send(
        c.CreateSubscription,
        nats_url,
        as_json,
        "",
        actor=actor(who),
        title=title,
        channel="webhook" if webhook else "email",
        url=webhook,
        email=email,
        internal=internal,
        event_types=event_type,
        filters=_filters(region, country, review),
        command_id=command_id,
    )
    if not as_json:
        console.print(f"subscription {result['aggregate_id']} is active", highlight=False)
        if result.get("secret"):
            console.print(f"signing secret (shown once; keep it): {result['secret']}", highlight=False, soft_wrap=True)
    withheld = [] if internal else c.not_public_matching(event_type)
    if withheld:  # on stderr, so that --json stays one document
        errors.print(
            f"note: {len(withheld)} of the types these patterns match are not public and are never sent to a"
            f" subscription without --internal: {', '.join(withheld)}",
            highlight=False,
        )


def _on(model, verb: str):
    def command(
        subscription_id: str,
        command_id: str = CommandId,
        who: str = ActorOption,
        nats_url: str = NatsUrl,
        as_json: bool = AsJson,
    ) -> None:
        _send(
            model,
            nats_url,
            as_json,
            f"subscription {subscription_id} {verb}",
            actor=actor(who),
            subscription_id=subscription_id,
            command_id=command_id,
        )

    return command


@app.command("pause")
def pause(
    subscription_id: str,
    reason: str = typer.Option(None, help="Why (shown with the subscription)."),
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Pause a subscription: nothing is sent until it is resumed."""
    _send(
        c.PauseSubscription,
        nats_url,
        as_json,
        f"subscription {subscription_id} paused",
        actor=actor(who),
        subscription_id=subscription_id,
        reason=reason,
        command_id=command_id,
    )


app.command("resume", help="Resume a paused (or disabled) subscription.")(_on(c.ResumeSubscription, "resumed"))
app.command("delete", help="Delete a subscription; its pending deliveries are cancelled.")(
    _on(c.DeleteSubscription, "deleted")
)


@app.command("erase-personal-data")
def erase_personal_data(
    subscription_id: str,
    requested_by: str = typer.Option(..., "--requested-by", help="A reference (request or ticket id), not a name."),
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Erase an e-mail subscription's address (its key); the subscription is deleted (docs/privacy.md)."""
    _send(
        c.ErasePersonalData,
        nats_url,
        as_json,
        f"address of {subscription_id} erased; the subscription is deleted",
        actor=actor(who),
        subscription_id=subscription_id,
        requested_by=requested_by,
        command_id=command_id,
    )


@app.command("update-filters")
def update_filters(
    subscription_id: str,
    event_type: list[str] = Types,
    region: str = Region,
    country: str = Country,
    review: str = Review,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Replace a subscription's event types and filters."""
    _send(
        c.UpdateSubscriptionFilters,
        nats_url,
        as_json,
        f"subscription {subscription_id} updated",
        actor=actor(who),
        subscription_id=subscription_id,
        event_types=event_type,
        filters=_filters(region, country, review),
        command_id=command_id,
    )


@app.command("rotate-secret")
def rotate_secret(
    subscription_id: str,
    overlap_hours: int = typer.Option(24, help="Hours the previous secret keeps signing beside the new one."),
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Give a webhook subscription a new signing secret (printed once)."""
    result = _send(
        c.RotateSubscriptionSecret,
        nats_url,
        as_json,
        f"subscription {subscription_id} has a new secret",
        actor=actor(who),
        subscription_id=subscription_id,
        overlap_hours=overlap_hours,
        command_id=command_id,
    )
    if not as_json:
        console.print(f"signing secret (shown once; keep it): {result['secret']}", highlight=False, soft_wrap=True)


@app.command("list")
def list_subscriptions(
    status: str = typer.Option(None, help="active, paused, disabled or deleted (default: all but deleted)"),
    channel: str = typer.Option(None, help="webhook or email"),
    limit: int = typer.Option(50),
    offset: int = typer.Option(0),
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """List subscriptions."""
    query = build(c.ListSubscriptions, status=status, channel=channel, limit=limit, offset=offset)
    found = run(nats_url, lambda client: client.query(query))
    if as_json:
        emit_list(found["items"], found["total"], offset, limit)
        return
    table(found["items"], SUBSCRIPTION_COLUMNS, title=f"Subscriptions ({found['total']})")


@app.command("show")
def show(subscription_id: str, nats_url: str = NatsUrl, as_json: bool = AsJson) -> None:
    """Show one subscription and its deliveries by status (never its secret)."""
    doc = run(nats_url, lambda client: client.query(build(c.GetSubscription, subscription_id=subscription_id)))
    if as_json:
        emit_json(doc)
        return
    rows = [{"field": k, "value": v} for k, v in doc.items() if k not in ("deliveries",) and v not in (None, {}, [])]
    rows.append({"field": "deliveries", "value": ", ".join(f"{k} {n}" for k, n in doc["deliveries"].items() if n)})
    table(rows, [("field", "field"), ("value", "value")], title=f"Subscription {subscription_id}")


@app.command("deliveries")
def deliveries(
    subscription_id: str = typer.Argument(None, help="One subscription's deliveries (default: all)."),
    status: str = typer.Option(None, help="pending, delivering, delivered, parked or cancelled"),
    limit: int = typer.Option(50),
    offset: int = typer.Option(0),
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """The delivery log, newest first; `--status parked` lists what waits for `retry`."""
    query = build(c.ListDeliveries, subscription_id=subscription_id, status=status, limit=limit, offset=offset)
    found = run(nats_url, lambda client: client.query(query))
    if as_json:
        emit_list(found["items"], found["total"], offset, limit)
        return
    table(found["items"], DELIVERY_COLUMNS, title=f"Deliveries ({found['total']})")


@app.command("retry")
def retry(
    delivery_id: str = typer.Argument(None, help="A parked delivery."),
    subscription: str = typer.Option(None, "--subscription", help="Every parked delivery of this subscription."),
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Send parked deliveries again (with the whole retry schedule)."""
    if (delivery_id is None) == (subscription is None):
        usage_error("give either a delivery id or --subscription ID")
    result = _send(
        c.RetryDeliveries,
        nats_url,
        as_json,
        "",
        actor=actor(who),
        delivery_id=delivery_id,
        subscription_id=subscription,
        command_id=command_id,
    )
    if not as_json:
        console.print(f"{result['retried']} parked deliveries scheduled again", highlight=False)
