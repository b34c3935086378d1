"""`mignet events ...` and `mignet projections ...`: following streams and rebuilding read models."""

from __future__ import annotations

import asyncio
import json
import re

import nats.errors
import typer
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import APIError, NotFoundError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from mignet_cli.common import EXIT_UNAVAILABLE, AsJson, NatsUrl, console, emit_list, fail, run, table, usage_error
from mignet_contracts import cloudevents
from mignet_contracts.envelope import ErrorBody
from mignet_runtime.client import RequestFailed
from mignet_runtime.eventstore import stream_name

events = typer.Typer(help="Follow and inspect the event streams.", no_args_is_help=True)
projections = typer.Typer(help="Read-model status and rebuilds.", no_args_is_help=True)

SERVICES = ("registry", "reviews", "notifier")
#: Tokens of a NATS subject: no whitespace, '*' and '>' as whole tokens ('>' last).
_SUBJECT_RE = re.compile(r"^([^\s.*>]+|\*)(\.([^\s.*>]+|\*))*(\.>)?$")
#: `mignet health` and `mignet status` ask every service unless told otherwise.
BUILT_SERVICES = SERVICES


def _service(value: str) -> str:
    if value not in SERVICES:
        raise typer.BadParameter(f"one of {', '.join(SERVICES)}")
    return value


#: `mignet health` and `mignet status`: the services to ask.
ServicesArgument = typer.Argument(None, help=f"Services to ask (default: {', '.join(BUILT_SERVICES)}).")


def chosen_services(service: list[str] | None) -> list[str]:
    services = service or list(BUILT_SERVICES)
    for name in services:
        _service(name)
    return services


@events.command("tail")
def tail(
    service: str = typer.Argument(..., callback=_service),
    subject: str = typer.Option(None, help="Subject filter, e.g. 'registry.events.champion.>'."),
    from_start: bool = typer.Option(False, "--from-start", help="Replay from the first event, not only new ones."),
    count: int = typer.Option(0, help="Stop after this many events (0: follow until Ctrl-C)."),
    nats_url: str = NatsUrl,
) -> None:
    """Print events as they are appended (JSON lines with CloudEvents attributes), until Ctrl-C or --count."""

    prefix = f"{service}.events."
    if subject is not None and (not subject.startswith(prefix) or not _SUBJECT_RE.match(subject)):
        usage_error(
            f"--subject {subject!r}: expected a subject of the {service} stream, such as "
            f"'{prefix}>' or '{prefix}network.*.created' (no spaces)"
        )

    async def follow(client) -> None:
        js = client.nc.jetstream()
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.ALL if from_start else DeliverPolicy.NEW,
            ack_policy=AckPolicy.NONE,
            filter_subject=subject or f"{service}.events.>",
            inactive_threshold=30,
        )
        try:
            sub = await js.subscribe(
                config.filter_subject, stream=stream_name(service), ordered_consumer=True, config=config
            )
        except NotFoundError:
            fail(
                ErrorBody(
                    code="not_found",
                    message=f"there is no stream {stream_name(service)}: the {service} "
                    "service creates it when it first starts; is it running?",
                )
            )
        except nats.errors.TimeoutError:  # a denied JetStream request goes unanswered
            fail(
                ErrorBody(
                    code="unavailable",
                    message=f"JetStream did not answer about stream {stream_name(service)}: is this NATS user "
                    "allowed to read it? (integrators read stream PUBLIC: docs/integrating.md)",
                )
            )
        except APIError as exc:  # the server refused the consumer: say why, without a traceback
            fail(
                ErrorBody(code="unavailable", message=f"cannot follow {stream_name(service)}: {exc.description or exc}")
            )
        seen = 0
        try:
            async for msg in sub.messages:
                decoded = cloudevents.decode_headers(msg.headers)
                headers = {k: v for k, v in decoded.items() if k.startswith(cloudevents.PREFIX)}
                line = {
                    "seq": msg.metadata.sequence.stream,
                    "subject": msg.subject,
                    **headers,
                    "data": json.loads(msg.data),
                }
                print(json.dumps(line, ensure_ascii=False), flush=True)
                seen += 1
                if count and seen >= count:
                    return
        finally:
            await sub.unsubscribe()

    try:
        run(nats_url, follow)
    except KeyboardInterrupt:
        pass


@projections.command("status")
def status(service: str = typer.Argument(..., callback=_service), nats_url: str = NatsUrl, as_json: bool = AsJson):
    """Each projection's applied sequence, the stream's last sequence and parked events."""
    rows = run(nats_url, lambda client: client.admin(service, "projections.status"))
    if as_json:
        emit_list(rows)
        return
    table(
        rows,
        [
            ("projection", "projection"),
            ("subjects", "subjects"),
            ("applied_seq", "applied up to"),
            ("stream_last_seq", "stream last"),
            ("pending", "pending"),
            ("parked", "parked"),
        ],
    )


@projections.command("rebuild")
def rebuild(
    service: str = typer.Argument(..., callback=_service),
    projection: list[str] = typer.Option([], "--projection", help="Only these (repeatable); default all."),
    nats_url: str = NatsUrl,
    as_json: bool = AsJson,
) -> None:
    """Recompute read models from the start of the stream, in the running service, with a progress bar."""

    async def go(client):
        progress_subject = f"{service}.admin.progress.{client.nc.new_inbox().rpartition('.')[2]}"  # a unique token
        sub = await client.nc.subscribe(progress_subject)
        client.timeout = 3600  # a rebuild takes as long as the stream is long
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=as_json,
        ) as bar:
            tasks: dict[str, TaskID] = {}

            async def show() -> None:
                async for msg in sub.messages:
                    update = json.loads(msg.data)
                    name = update["projection"]
                    if name not in tasks:
                        tasks[name] = bar.add_task(name, total=update["total"] or 1)
                    bar.update(tasks[name], completed=update["done"], total=update["total"] or 1)

            watcher = asyncio.create_task(show())
            try:
                return await client.admin(
                    service, "projections.rebuild", {"projections": projection, "progress_subject": progress_subject}
                )
            finally:
                await asyncio.sleep(0.1)
                watcher.cancel()
                await sub.unsubscribe()

    results = run(nats_url, go)
    if as_json:
        emit_list(results)
        return
    table(results, [("projection", "projection"), ("documents", "documents"), ("seconds", "seconds")], title="Rebuilt")


def health(service: list[str] = ServicesArgument, nats_url: str = NatsUrl, as_json: bool = AsJson) -> None:
    """Ask each service's <service>.admin.health and print a table; exit 3 if one does not answer."""
    services = chosen_services(service)

    async def ask_all(client) -> list[dict]:
        client.timeout = 3

        async def ask(name: str) -> dict:
            try:
                answer = await client.admin(name, "health")
            except RequestFailed as exc:
                return {
                    "service": name,
                    "healthy": False,
                    "stream": None,
                    "last_seq": None,
                    "problem": exc.error.message,
                }
            return {
                "service": name,
                "healthy": True,
                "stream": answer.get("stream"),
                "last_seq": answer.get("last_seq"),
                "problem": None,
            }

        return list(await asyncio.gather(*(ask(name) for name in services)))

    rows = run(nats_url, ask_all)
    if as_json:
        emit_list(rows)
    else:
        table(
            [{**row, "state": "ok" if row["healthy"] else "NOT ANSWERING"} for row in rows],
            [
                ("service", "service"),
                ("state", "state"),
                ("stream", "stream"),
                ("last_seq", "last event"),
                ("problem", "problem"),
            ],
            title="Health",
        )
    if not all(row["healthy"] for row in rows):
        raise typer.Exit(EXIT_UNAVAILABLE)
