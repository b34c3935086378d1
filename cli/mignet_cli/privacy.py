"""`mignet privacy ...`: find and erase a person's personal data across the services (docs/privacy.md)."""

from __future__ import annotations

import hashlib

import typer

from mignet_cli.common import (
    ActorOption,
    AsJson,
    CommandId,
    NatsUrl,
    actor,
    build,
    console,
    emit_list,
    errors,
    run,
    table,
)
from mignet_contracts import notifier as notifier_contracts
from mignet_contracts import registry as registry_contracts
from mignet_contracts import reviews as reviews_contracts
from mignet_contracts.envelope import Command, new_id
from mignet_contracts.privacy import FindPersonalData, ForgetActor

app = typer.Typer(help="Personal data: erase a person's data across the services.", no_args_is_help=True)

#: Per service: its erasure command and the aggregate (and the command's field naming it) that holds the data.
ERASERS: dict[str, tuple[type[Command], str, str]] = {
    "registry": (registry_contracts.ErasePersonalData, "network", "network_id"),
    "reviews": (reviews_contracts.ErasePersonalData, "contribution", "contribution_id"),
    "notifier": (notifier_contracts.ErasePersonalData, "subscription", "subscription_id"),
}

RequestedBy = typer.Option(
    ..., "--requested-by", help="Who asked, as a reference (request or ticket id, or data-subject): never a name."
)


def _command_id(base: str, service: str, aggregate_id: str) -> str:
    # One command per aggregate, derived from the invocation's id: a rerun with --command-id replays them.
    return "erase-" + hashlib.sha256(f"{base}:{service}:{aggregate_id}".encode()).hexdigest()[:32]


@app.command("erase")
def erase(
    email: str = typer.Option(..., "--email", help="The person's e-mail address (sent to the services only)."),
    requested_by: str = RequestedBy,
    command_id: str = CommandId,
    who: str = ActorOption,
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Find every record of an e-mail address (through each service's keyed-hash index) and erase it.

    Each service erases the data keys of what it found (a focal point, a contribution's
    contact, an e-mail subscription's address: that subscription is deleted) and records
    the erasure without the data. The address is never printed.
    """
    find = build(FindPersonalData, email=email)
    base = command_id or new_id()
    if not as_json:  # said first: if a service fails half-way, resending with this id is safe
        errors.print(f"erasing with command id {base} (rerun with --command-id {base} if interrupted)")

    async def go(client) -> list[dict]:
        rows = []
        for service, (model, aggregate, field) in ERASERS.items():
            found = await client.admin(service, "privacy.find", find.model_dump(mode="json"))
            for item in found["items"]:
                if item["aggregate"] != aggregate:
                    continue
                cmd = build(
                    model,
                    command_id=_command_id(base, service, item["aggregate_id"]),
                    actor=actor(who),
                    requested_by=requested_by,
                    **{field: item["aggregate_id"]},
                )
                result = await client.command(cmd)
                record = result.events[-1].seq if result.events else None
                rows.append({"service": service, "aggregate": aggregate, "id": item["aggregate_id"], "record": record})
        return rows

    rows = run(nats_url, go)
    if as_json:
        emit_list(rows)
        return
    if not rows:
        console.print("no personal data found for that address (nothing erased)", highlight=False)
        return
    columns = [("service", "service"), ("aggregate", "holds it"), ("id", "id"), ("record", "erasure event #")]
    table(rows, columns, title="Erased")


@app.command("forget-actor")
def forget_actor(
    name: str = typer.Argument(..., help="The actor as recorded by commands, e.g. cli:alice."),
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Erase the link between a person and their pseudonym (ce-actor) in every service."""
    request = build(ForgetActor, actor=name)

    async def go(client) -> list[dict]:
        rows = []
        for service in ERASERS:
            answer = await client.admin(service, "privacy.forget-actor", request.model_dump(mode="json"))
            rows.append({"service": service, "forgotten": answer["forgotten"]})
        return rows

    rows = run(nats_url, go)
    if as_json:
        emit_list(rows)
        return
    table(rows, [("service", "service"), ("forgotten", "link erased")], title="Pseudonym links")
