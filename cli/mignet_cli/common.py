"""What every `mignet` command shares: connection, actor, output, errors and exit codes."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, NoReturn, TypeVar

import nats
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mignet_contracts.envelope import Command, ErrorBody, ErrorDetail, new_id
from mignet_runtime.client import MignetClient, RequestFailed
from mignet_runtime.endpoints import validation_error
from mignet_runtime.settings import nats_credentials_from_env, nats_servers, redact_url

T = TypeVar("T")
console = Console()
errors = Console(stderr=True, soft_wrap=True)  # one line per message: scripts grep it

#: Exit codes (documented in the README): scripts can tell "the service said no" from
#: "what you typed is malformed" from "try again later".
EXIT_OK = 0
EXIT_REFUSED = 1  # rejected by a business rule, or not found
EXIT_USAGE = 2  # malformed command line or input (typer's own usage errors exit 2 too)
EXIT_UNAVAILABLE = 3  # NATS or a service did not answer, a lost race (conflict), or a service fault

_EXIT_CODES = {
    "validation_error": EXIT_USAGE,
    "rejected": EXIT_REFUSED,
    "not_found": EXIT_REFUSED,
    "conflict": EXIT_UNAVAILABLE,
    "unavailable": EXIT_UNAVAILABLE,
    "internal": EXIT_UNAVAILABLE,
}


def exit_code(error_code: str, details: Sequence[ErrorDetail] = ()) -> int:
    # A conflict on command_id is a reused id: retrying it can never succeed, so it is refused.
    if error_code == "conflict" and any(d.field == "command_id" for d in details):
        return EXIT_REFUSED
    return _EXIT_CODES.get(error_code, EXIT_REFUSED)


NatsUrl = typer.Option("nats://127.0.0.1:4222", "--nats-url", envvar="NATS_URL", help="NATS server to talk to.")
AsJson = typer.Option(False, "--json", help="Print JSON for scripts instead of a table.")
ActorOption = typer.Option(None, "--actor", envvar="MIGNET_ACTOR", help="Who is acting (recorded on events).")
CommandId = typer.Option(
    None,
    "--command-id",
    help="Reuse the id of an earlier attempt to retry safely: a command already done is not done again.",
)


def actor(value: str | None) -> str:
    return value or f"cli:{getpass.getuser()}"


@asynccontextmanager
async def connect(url: str):
    seen: list[Exception] = []

    async def remember(exc: Exception) -> None:
        # nats-py reports each server's refusal here and then says only "no servers available".
        seen.append(exc)

    options: dict[str, Any] = {
        "servers": nats_servers(url),  # a cluster's servers, comma-separated: the first that answers
        "connect_timeout": 3,
        # nats-py tries the next server of a cluster's list only when it may reconnect; once each.
        "allow_reconnect": True,
        "name": "mignet-cli",
        "max_reconnect_attempts": 1,
        "reconnect_time_wait": 0,
        "error_cb": remember,
    }
    options.update(nats_credentials_from_env(default_user="operator"))  # NATS_USER/..., inbox _INBOX_operator
    try:
        nc = await nats.connect(**options)
    except Exception as exc:  # nats-py raises several unrelated types for "cannot connect"
        # A refusal says more than what followed it (a reconnect attempt reset by the server that refused).
        refusals = [e for e in seen if "authorization violation" in str(e).lower()]
        cause = refusals[-1] if refusals else seen[-1] if seen else exc
        fail(ErrorBody(code="unavailable", message=f"cannot reach NATS at {redact_url(url)}: {_said(cause)}"))
    try:
        yield MignetClient(nc)
    finally:
        await nc.drain()


def _said(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if "authorization violation" in text.lower():
        return f"{text}: check NATS_USER and NATS_PASSWORD (or NATS_TOKEN, NATS_CREDS, NATS_NKEY_SEED)"
    return text


def run(url: str, action: Callable[[MignetClient], Awaitable[T]]) -> T:
    async def main() -> T:
        async with connect(url) as client:
            return await action(client)

    try:
        return asyncio.run(main())
    except RequestFailed as exc:
        fail(exc.error)
    except ValidationError as exc:
        fail(validation_error(exc))


def build(model: type[T], **fields: Any) -> T:
    """Validate locally first so a typo never leaves the machine; same errors as the service."""
    fields = {k: v for k, v in fields.items() if v is not None}
    if issubclass(model, Command):
        # Services require a command id; one per invocation unless --command-id reuses one.
        fields.setdefault("command_id", new_id())
    try:
        return model(**fields)
    except ValidationError as exc:
        fail(validation_error(exc))


def fail(error: ErrorBody) -> NoReturn:
    """Print an error once (headline, then only the details the headline does not already say) and exit."""
    for line in error_lines(error):
        errors.print(line, highlight=False, markup=False)
    raise typer.Exit(exit_code(error.code, error.details))


def error_lines(error: ErrorBody) -> list[str]:
    # A service's message often repeats its single detail ("field: message"); say each thing once.
    said = [d for d in error.details if d.message in error.message]
    details = [d for d in error.details if d not in said]
    if error.code == "validation_error" and error.details:
        # "invalid request: a: x; b: y" joins (at most five of) the details; list them all, one per line.
        headline, details = "invalid request", error.details
    else:
        fields = ", ".join(dict.fromkeys(d.field for d in said if d.field))
        headline = f"{fields}: {error.message}" if fields else error.message
    lines = [f"error ({error.code}): {headline}"]
    for detail in details:
        lines.append(f"  - {detail.field}: {detail.message}" if detail.field else f"  - {detail.message}")
    return lines


def usage_error(message: str) -> NoReturn:
    fail(ErrorBody(code="validation_error", message=message))


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


def emit_list(items: list, total: int | None = None, offset: int = 0, limit: int | None = None, **extra: Any) -> None:
    """Every list printed with ``--json`` has this one shape (``limit`` is null when the list is not paged)."""
    emit_json(
        {"items": items, "total": len(items) if total is None else total, "offset": offset, "limit": limit, **extra}
    )


def _keeps_whole(key: str, heading: str) -> bool:
    # Ids are copied into the next command and statuses are read at a glance: they never wrap.
    return key.endswith("_id") or key.endswith("status") or key in ("country", "seq") or heading == "id"


#: Below this, a wrapping column is too narrow to read; the table then turns into records.
_READABLE_WIDTH = 10


def table(rows: Iterable[dict], columns: Sequence[tuple[str, str]], title: str | None = None) -> None:
    """``columns`` are (key, heading); nested keys use dots; lists are joined.

    Ids and statuses never wrap (ids are copied into the next command). When the
    terminal is too narrow for that, each row prints as ``heading: value`` lines
    instead, like psql's expanded display.
    """
    cells = [[_cell(_dig(row, key)) for key, _ in columns] for row in rows]
    widths = [max([len(heading), *(len(row[i]) for row in cells)]) for i, (_, heading) in enumerate(columns)]
    whole = [_keeps_whole(key, heading) for key, heading in columns]
    needed = (
        sum(w if keep else min(w, _READABLE_WIDTH) for w, keep in zip(widths, whole, strict=True))
        + 3 * len(columns)
        + 1
    )
    if cells and needed > console.width:
        _records(cells, columns, title)
        return
    grid = Table(title=title, show_lines=False)
    for (_, heading), width, keep in zip(columns, widths, whole, strict=True):
        if keep:
            # no_wrap alone lets rich shrink (and cut) the column; the minimum width keeps it whole.
            grid.add_column(heading, no_wrap=True, min_width=width)
        else:
            grid.add_column(heading, overflow="fold")
    for row in cells:
        grid.add_row(*row)
    console.print(grid)
    if not cells:
        console.print("(none)")


def _records(cells: list[list[str]], columns: Sequence[tuple[str, str]], title: str | None) -> None:
    if title:
        console.print(f"[bold]{escape(title)}[/]", highlight=False)
    label = max(len(heading) for _, heading in columns)
    for index, row in enumerate(cells):
        if index:
            console.print()
        for (_, heading), value in zip(columns, row, strict=True):
            # soft_wrap: a long value runs on rather than being cut; ids stay on their line.
            console.print(f"{heading.rjust(label)}: {value}", highlight=False, soft_wrap=True)


def _dig(row: dict, key: str) -> Any:
    value: Any = row
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return escape(str(value))  # contributed text is not rich markup


def created(nats_url: str, cmd: Any, as_json: bool, **named: str) -> None:
    """Sends ``cmd`` and prints the id of what it made: the aggregate's, or the one ``named`` gives (e.g.
    ``output_id=...``); with ``--json`` the whole result, ``named`` added."""
    result = run(nats_url, lambda client: client.command(cmd))
    if as_json:
        emit_json(result.model_dump(mode="json") | named)
    else:
        print(next(iter(named.values()), result.aggregate_id))


def done(result: Any, as_json: bool, message: str) -> None:
    if as_json:
        emit_json(result.model_dump(mode="json") if hasattr(result, "model_dump") else result)
        return
    replayed = getattr(result, "replayed", False)
    console.print(message + (" (already done earlier: nothing new written)" if replayed else ""), highlight=False)
