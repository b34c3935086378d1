"""`mignet admin`: administrative steps, run as the NATS admin user (NATS_USER=admin)."""

from __future__ import annotations

import asyncio

import nats.errors
import typer
from nats.js.errors import APIError

from mignet_cli.common import EXIT_REFUSED, EXIT_UNAVAILABLE, NatsUrl, console, errors
from mignet_runtime.provision import PROVISIONED_SERVICES, ProvisioningRefused, Step, provision_with
from mignet_runtime.settings import Settings, redact_url

app = typer.Typer(
    help="Administration (as the NATS admin user): provisioning streams and lease buckets.", no_args_is_help=True
)

OUTCOME_STYLE = {"created": "green", "updated": "yellow", "unchanged": "dim", "refused": "bold red"}


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
    batches) are fixed; subjects, retention, storage and replicas are refused and
    reported, with exit code 1. Run it before the services start, and after upgrades.
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
