"""`mignet admin`: administrative steps, run as the NATS admin user (NATS_USER=admin)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import nats
import nats.errors
import typer
from nats.js.errors import APIError, NotFoundError

from mignet_cli.common import EXIT_REFUSED, EXIT_UNAVAILABLE, EXIT_USAGE, NatsUrl, console, errors
from mignet_runtime import backup as backups
from mignet_runtime.eventstore import stream_name
from mignet_runtime.provision import PROVISIONED_SERVICES, ProvisioningRefused, Step, provision_with
from mignet_runtime.settings import Settings, redact_url

app = typer.Typer(
    help="Administration (as the NATS admin user): provisioning, backing up and restoring the streams.",
    no_args_is_help=True,
)

T = TypeVar("T")

OUTCOME_STYLE = {
    "created": "green",
    "updated": "yellow",
    "unchanged": "dim",
    "skipped": "yellow",
    "refused": "bold red",
}


def _print(steps: list[Step]) -> None:
    for step in steps:
        style = OUTCOME_STYLE.get(step.outcome, "")
        console.print(
            f"[{style}]{step.outcome:>9}[/] {step.target}" + (f"  {step.detail}" if step.detail else ""),
            highlight=False,
        )


@app.command()
def provision(nats_url: str = NatsUrl) -> None:
    """Create each service's stream and lease bucket, or bring them back to the expected configuration.

    Safe differences (limits, duplicate window, deny delete/purge, Direct Get, atomic
    batches, the replica count MIGNET_STREAM_REPLICAS on a cluster) are fixed; subjects,
    retention and storage are refused and reported, with exit code 1. Run it before the
    services start, and after upgrades.
    """
    settings = Settings.from_env(nats_url=nats_url)
    try:
        steps = asyncio.run(provision_with(settings, PROVISIONED_SERVICES))
    except ProvisioningRefused as exc:
        _print(exc.steps)
        errors.print("[bold red]error[/] (rejected): some configuration was refused; see above", highlight=False)
        raise typer.Exit(EXIT_REFUSED) from None
    except (TimeoutError, nats.errors.TimeoutError):
        errors.print(
            "[bold red]error[/] (unavailable): JetStream did not answer; is this the NATS admin user "
            "(NATS_USER=admin)? Other users may not create or update streams.",
            highlight=False,
        )
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    except APIError as exc:
        errors.print(f"[bold red]error[/] (rejected): JetStream refused: {exc.description}", highlight=False)
        raise typer.Exit(EXIT_REFUSED) from None
    except (OSError, nats.errors.Error) as exc:
        errors.print(
            f"[bold red]error[/] (unavailable): cannot provision at {redact_url(nats_url)}: "
            f"{exc or type(exc).__name__}",
            highlight=False,
        )
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    _print(steps)


Service = typer.Argument(..., help=f"whose stream: {', '.join(PROVISIONED_SERVICES)}")


@app.command()
def backup(
    service: str = Service,
    file: Path = typer.Argument(..., help="where to write the backup (JSON lines); written whole or not at all"),
    nats_url: str = NatsUrl,
) -> None:
    """Back up a service's stream, the event store, to a file (MongoDB is rebuilt from it, not backed up)."""
    stream = _stream_of(service)
    if file.is_dir():
        _refuse(f"{file} is a directory: give the backup file's name")
    summary = _run_admin(nats_url, lambda nc: backups.backup(nc, stream, file))
    console.print(f"backed up {summary.messages} events of {stream} (last sequence {summary.last_seq}) to {file}")


@app.command()
def restore(
    service: str = Service,
    file: Path = typer.Argument(..., help="a backup written by `mignet admin backup`"),
    nats_url: str = NatsUrl,
) -> None:
    """Restore a service's stream from a backup, into the empty stream `mignet admin provision` just created.

    Each event lands on its original sequence (checked). Then rebuild the read models:
    `mignet projections rebuild <service>`.
    """
    stream = _stream_of(service)
    if not file.is_file():
        _refuse(f"{file} is not a readable backup file")
    summary = _run_admin(nats_url, lambda nc: backups.restore(nc, stream, file))
    console.print(f"restored {summary.messages} events into {stream} (last sequence {summary.last_seq})")
    console.print(f"next: mignet projections rebuild {service}")


def _stream_of(service: str) -> str:
    if service not in PROVISIONED_SERVICES:
        errors.print(
            f"[bold red]error[/] (validation_error): service: {service!r} has no stream; one of "
            f"{', '.join(PROVISIONED_SERVICES)}",
            highlight=False,
        )
        raise typer.Exit(EXIT_USAGE)
    return stream_name(service)


def _refuse(message: str) -> NoReturn:
    errors.print(f"[bold red]error[/] (rejected): {message}", highlight=False, markup=False)
    raise typer.Exit(EXIT_REFUSED)


def _run_admin(nats_url: str, action: Callable[[Any], Awaitable[T]]) -> T:
    settings = Settings.from_env(nats_url=nats_url)

    async def main() -> T:
        nc = await nats.connect(**settings.nats_connect_options(settings.nats_user or "admin"), connect_timeout=5)
        try:
            return await action(nc)
        finally:
            await nc.close()

    try:
        return asyncio.run(main())
    except backups.RestoreRefused as exc:
        _refuse(str(exc))
    except NotFoundError:
        _refuse("the stream does not exist: run `mignet admin provision` first")
    except OSError as exc:
        _refuse(f"cannot use the file: {exc.strerror or exc}")
    except (TimeoutError, nats.errors.Error) as exc:
        errors.print(
            f"[bold red]error[/] (unavailable): NATS at {redact_url(nats_url)} did not answer as the admin user: "
            f"{exc or type(exc).__name__}",
            highlight=False,
            markup=False,
        )
        raise typer.Exit(EXIT_UNAVAILABLE) from None
