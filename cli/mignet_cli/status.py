"""`mignet status`: is everything ready, how big are the streams, how far behind is each projection.

It asks each service's admin requests (``<service>.admin.ready`` and
``<service>.admin.projections.status``, answered by the service) and JetStream
itself (stream and consumer info, as the read-only ``operator`` user); it
never reads a service's database. Exit 0 when every service is ready, 3 when
one is not (or does not answer).
"""

from __future__ import annotations

import asyncio
from typing import Any

import nats.errors
import typer
from nats.js.errors import NotFoundError

from mignet_cli.common import EXIT_UNAVAILABLE, AsJson, NatsUrl, console, emit_json, run, table
from mignet_cli.operations import ServicesArgument, chosen_services
from mignet_runtime.client import MignetClient, RequestFailed
from mignet_runtime.eventstore import stream_name

#: How long each question may take: a service that does not answer within it is not ready.
ASK_SECONDS = 5


async def _service_status(client: MignetClient, name: str) -> dict[str, Any]:
    row: dict[str, Any] = {"service": name, "ready": False, "problems": [], "checks": None}
    try:
        report = await client.admin(name, "ready")
    except RequestFailed as exc:
        row["problems"].append(f"does not answer: {exc.error.message}")
    else:
        row["ready"] = bool(report["ready"])
        row["checks"] = report["checks"]
        row["problems"] += [f"{check}: {c['detail']}" for check, c in report["checks"].items() if not c["ok"]]
    return row


async def _stream_status(client: MignetClient, name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    js = client.nc.jetstream(timeout=ASK_SECONDS)
    stream = stream_name(name)
    row: dict[str, Any] = {"stream": stream, "service": name, "messages": None, "bytes": None, "last_seq": None}
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        row["problem"] = "does not exist: run `mignet admin provision`"
        return row, []
    except (nats.errors.Error, TimeoutError) as exc:
        row["problem"] = f"no answer: {exc or type(exc).__name__}"
        return row, []
    row.update(messages=info.state.messages, bytes=info.state.bytes, last_seq=info.state.last_seq, problem=None)
    consumers = [
        {
            "stream": stream,
            "consumer": c.name,
            "pending": c.num_pending,
            "ack_pending": c.num_ack_pending,
            "redelivered": c.num_redelivered,
            "waiting": c.num_waiting,
        }
        for c in await js.consumers_info(stream)
    ]
    return row, sorted(consumers, key=lambda c: c["consumer"])


async def _projections(client: MignetClient, name: str) -> list[dict[str, Any]]:
    try:
        rows = await client.admin(name, "projections.status")
    except RequestFailed:
        return []  # not running projections, or not answering: the readiness row says which
    return [{"service": name, **row} for row in rows]


async def collect(client: MignetClient, services: list[str]) -> dict[str, Any]:
    client.timeout = ASK_SECONDS
    readiness, streams, projections = await asyncio.gather(
        asyncio.gather(*(_service_status(client, name) for name in services)),
        asyncio.gather(*(_stream_status(client, name) for name in services)),
        asyncio.gather(*(_projections(client, name) for name in services)),
    )
    return {
        "ready": all(row["ready"] for row in readiness),
        "services": list(readiness),
        "streams": [row for row, _ in streams],
        "consumers": [c for _, consumers in streams for c in consumers],
        "projections": [p for rows in projections for p in rows],
    }


def status(service: list[str] = ServicesArgument, nats_url: str = NatsUrl, as_json: bool = AsJson) -> None:
    """Readiness of each service, stream sizes, projection lag, parked events and consumers; exit 3 if not ready."""
    services = chosen_services(service)
    report = run(nats_url, lambda client: collect(client, services))
    if as_json:
        emit_json(report)
    else:
        _print(report)
    if not report["ready"]:
        raise typer.Exit(EXIT_UNAVAILABLE)


def _print(report: dict[str, Any]) -> None:
    services = [{**row, "state": "ready" if row["ready"] else "NOT READY"} for row in report["services"]]
    table(services, [("service", "service"), ("state", "state"), ("problems", "problems")], title="Services")
    table(
        report["streams"],
        [
            ("stream", "stream"),
            ("messages", "events"),
            ("bytes", "bytes"),
            ("last_seq", "last seq"),
            ("problem", "problem"),
        ],
        title="Streams",
    )
    table(
        report["projections"],
        [
            ("service", "service"),
            ("projection", "projection"),
            ("stream", "stream"),
            ("applied_seq", "applied up to"),
            ("pending", "lag (events)"),
            ("lag_seconds", "lag (s)"),
            ("parked", "parked"),
        ],
        title="Projections",
    )
    table(
        report["consumers"],
        [
            ("stream", "stream"),
            ("consumer", "consumer"),
            ("pending", "pending"),
            ("ack_pending", "unacked"),
            ("redelivered", "redelivered"),
            ("waiting", "pulls waiting"),
        ],
        title="Consumers",
    )
    if not report["ready"]:
        console.print("NOT READY: see the problems above", highlight=False)
