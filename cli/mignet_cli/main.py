"""The `mignet` console script."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import typer

from mignet_cli import admin, operations, privacy, registry
from mignet_cli import support as _support  # noqa: F401 - adds its commands to `mignet registry`
from mignet_cli import working_groups as _working_groups  # noqa: F401 - adds its commands to `mignet registry`
from mignet_cli.status import status

HELP = """Operate mignet: the UN Network on Migration's registry, regional GCM reviews and notifications.

Every command talks to the services over NATS: the server is --nats-url, or NATS_URL
(default nats://127.0.0.1:4222, what `make run` starts); NATS_USER and NATS_PASSWORD
(or NATS_TOKEN, NATS_CREDS, NATS_NKEY_SEED) give the operator's NATS user when the
server asks for one (`make run` writes them to var/operator.env). Who acts is --actor or
MIGNET_ACTOR (default cli:$USER), recorded on every event.

Exit codes: 0 done, 1 refused (a business rule, or not found), 2 usage (malformed
command line or input), 3 unavailable (NATS or a service did not answer; retry).
"""

app = typer.Typer(help=HELP, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None)
app.add_typer(registry.app, name="registry")
app.add_typer(operations.events, name="events")
app.add_typer(operations.projections, name="projections")
app.command("health")(operations.health)
app.command("status")(status)
app.add_typer(admin.app, name="admin")
app.add_typer(privacy.app, name="privacy")

try:  # the reviews commands ship with the reviews service
    from mignet_cli import reviews
except ImportError:  # pragma: no cover - only while the reviews service is being built
    pass
else:
    app.add_typer(reviews.app, name="reviews")

try:  # the notifier commands ship with the notifier service
    from mignet_cli import notifier
except ImportError:  # pragma: no cover
    pass
else:
    app.add_typer(notifier.app, name="notifier")


def installed_version() -> str:
    try:
        return version("mignet")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        print(f"mignet {installed_version()}")
        raise typer.Exit()


@app.callback()
def main(
    _version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    pass


if __name__ == "__main__":
    app()
