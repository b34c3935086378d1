"""The reviews service: regional reviews of the GCM, contributions, moderation and the public pages.

Run with ``python -m mignet_reviews``; configuration comes from the
environment (see :mod:`mignet_runtime.settings`), the public pages listen on
``MIGNET_HTTP_HOST``:``MIGNET_HTTP_PORT`` (default 127.0.0.1:8080).
"""

from __future__ import annotations

from mignet_contracts import reviews as c
from mignet_reviews import commands, queries
from mignet_reviews.http_server import serve_public_pages
from mignet_reviews.projections import PROJECTIONS
from mignet_reviews.registry_mirror import REGISTRY
from mignet_runtime.codec import EventCodec
from mignet_runtime.service import Router, ServiceSpec, build_app, run

CODEC = EventCodec(c.REVIEWS_EVENTS)


def routes(router: Router) -> None:
    rt = router.runtime

    async def command(cmd):
        return await commands.handle(rt.executor, cmd)

    for model in c.REVIEWS_COMMANDS:
        router.command(model, command)

    router.query(c.ListReviews, lambda q: queries.list_reviews(rt.db, q))
    router.query(c.GetReview, lambda q: queries.get_review(rt.db, q))
    router.query(c.ListContributions, lambda q: queries.list_contributions(rt.db, q))
    router.query(c.GetContribution, lambda q: queries.get_contribution(rt.db, q))
    router.query(c.ReviewFigures, lambda q: queries.review_figures(rt.db, q))
    router.query(c.Compilation, lambda q: queries.compilation(rt.db, q))


SPEC = ServiceSpec(
    name=c.SERVICE,
    codec=CODEC,
    projections=PROJECTIONS,
    foreign=(REGISTRY,),
    routes=routes,
    background=(serve_public_pages,),
)


def build(settings=None):
    return build_app(SPEC, settings)


def main() -> None:
    run(SPEC)
