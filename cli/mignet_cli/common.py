"""What every `mignet` command shares: connection, actor, output, errors and exit codes."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import nats
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mignet_contracts.envelope import ErrorBody
from mignet_runtime.client import MignetClient, RequestFailed
from mignet_runtime.endpoints import validation_error
from mignet_runtime.settings import nats_credentials_from_env

T = TypeVar("T")
console = Console()
errors = Console(stderr=True)

#: Exit codes: scripts can tell "you asked for something wrong" from "try again later".
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3

NatsUrl = typer.Option("nats://127.0.0.1:4222", "--nats-url", envvar="NATS_URL", help="NATS server to talk to.")
AsJson = typer.Option(False, "--json", help="Print JSON for scripts instead of a table.")
ActorOption = typer.Option(None, "--actor", envvar="MIGNET_ACTOR", help="Who is acting (recorded on events).")


def actor(value: str | None) -> str:
    return value or f"cli:{getpass.getuser()}"


@asynccontextmanager
async def connect(url: str):
    options: dict[str, Any] = {"servers": [url], "connect_timeout": 3, "allow_reconnect": False, "name": "mignet-cli",
                               "max_reconnect_attempts": 1, "reconnect_time_wait": 0, "error_cb": _quiet}
    options.update(nats_credentials_from_env(default_user="operator"))  # NATS_USER/..., inbox _INBOX_operator
    try:
        nc = await nats.connect(**options)
    except Exception as exc:  # nats-py raises several unrelated types for "cannot connect"
        fail(ErrorBody(code="unavailable", message=f"cannot reach NATS at {url}: {exc or type(exc).__name__}"))
    try:
        yield MignetClient(nc)
    finally:
        await nc.drain()


async def _quiet(_: Exception) -> None:
    # nats-py logs connection errors itself; `fail` reports them once, plainly.
    return None


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
    try:
        return model(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        fail(validation_error(exc))


def fail(error: ErrorBody) -> None:
    errors.print(f"[bold red]error[/] ({error.code}): {escape(error.message)}", highlight=False)
    for detail in error.details:
        where = f"{detail.field}: " if detail.field else ""
        errors.print(f"  - {escape(where + detail.message)}", highlight=False)
    raise typer.Exit(EXIT_UNAVAILABLE if error.code in ("unavailable", "internal") else EXIT_REFUSED)


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


def table(rows: Iterable[dict], columns: Sequence[tuple[str, str]], title: str | None = None) -> None:
    """``columns`` are (key, heading); nested keys use dots; lists are joined."""
    grid = Table(title=title, show_lines=False)
    for _, heading in columns:
        grid.add_column(heading, overflow="fold")
    count = 0
    for row in rows:
        count += 1
        grid.add_row(*[_cell(_dig(row, key)) for key, _ in columns])
    console.print(grid)
    if count == 0:
        console.print("(none)")


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


def done(result: Any, as_json: bool, message: str) -> None:
    if as_json:
        emit_json(result.model_dump(mode="json") if hasattr(result, "model_dump") else result)
        return
    replayed = getattr(result, "replayed", False)
    console.print(message + (" (already done earlier: nothing new written)" if replayed else ""), highlight=False)
