"""The `mignet` console script."""

from __future__ import annotations

import typer

from mignet_cli import admin, operations, registry

app = typer.Typer(
    help="Operate mignet: the UN Network on Migration's registry, regional GCM reviews and notifications.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(registry.app, name="registry")
app.add_typer(operations.events, name="events")
app.add_typer(operations.projections, name="projections")
app.add_typer(admin.app, name="admin")

try:  # the reviews commands ship with the reviews service
    from mignet_cli import reviews
except ImportError:  # pragma: no cover - only while the reviews service is being built
    reviews = None
if reviews is not None:
    app.add_typer(reviews.app, name="reviews")


if __name__ == "__main__":
    app()
