"""The Network's public regional pages: read-only HTML over the reviews read models.

The regional pages come from the Network's FAQ itself: contributions to the
regional reviews "will be published on the regional web pages prepared by the
connection hub and knowledge platform". (Resolution 73/326 para 13 asks for
something else: the compilation of all contributions for the IMRF and a
dedicated website for them within the knowledge platform.) Only *published*
contributions appear here; a submitted, rejected or withdrawn one answers 404
like an unknown id, so the pages do not even reveal that it exists. The pages
call the same query functions as the NATS queries, so filters behave the same.

Every page exists in the six UN languages under its language's prefix
(``/ar/reviews/...``); an address without one redirects to the language the
browser prefers (``Accept-Language``), English when it names none of the six.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mignet_contracts import reference
from mignet_contracts import reviews as c
from mignet_reviews import compilation_page, directory_page, i18n, imrf_page, queries, working_groups_page
from mignet_reviews.i18n import N_
from mignet_reviews.page_filters import BadFilter, contributor_filter, whole_number
from mignet_reviews.projections import CONTRIBUTIONS
from mignet_reviews.templating import build_environment
from mignet_runtime.errors import NotFound

log = logging.getLogger(__name__)

PAGE_SIZE = 50
PUBLISHED = queries.PUBLISHED
_CONTRIBUTION_ID_RE = re.compile(c.CONTRIBUTION_ID_PATTERN)

#: No scripts at all, styles only from our own stylesheet, nothing embedded, forms only to ourselves.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
#: The pages use no device or browser feature at all: deny them all, to us and anything we might embed.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), browsing-topics=()"
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"permissions-policy", PERMISSIONS_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the headers to every response, errors included (so it wraps the whole app)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def page_language(request: Request) -> str:
    """The language of the address (``/fr/...``), else the one the browser prefers."""
    return i18n.language_of_path(request.url.path) or i18n.negotiate(request.headers.get("accept-language"))


def path_after_language(request: Request) -> str:
    """The address without its language prefix, with its query: what the language switcher keeps."""
    path = request.url.path
    first = path.split("/", 2)[1]
    rest = path[len(first) + 1 :] if first in i18n.LANGUAGES else path
    query = request.url.query
    return (rest or "/") + (f"?{query}" if query else "")


class Pages:
    def __init__(self, db: AsyncDatabase):
        self.db = db
        self.envs = {language: build_environment(language) for language in i18n.LANGUAGES}
        self.stylesheet = files("mignet_reviews").joinpath("static/site.css").read_bytes()

    def render(
        self,
        request: Request,
        template: str,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        language = page_language(request)
        env = self.envs[language]
        gettext = i18n.translations(language).gettext
        if template == "error.html":  # its title and message are messages marked with N_
            context.update(title=gettext(context["title"]), message=gettext(context["message"]))
        html = env.get_template(template).render(base=f"/{language}", here=path_after_language(request), **context)
        # Revalidate every time: a withdrawn contribution must disappear at once.
        return HTMLResponse(
            html,
            status_code=status_code,
            headers={"cache-control": "no-cache", "content-language": language, **(headers or {})},
        )

    async def without_language(self, request: Request) -> Response:
        """An address without a language prefix: to the same page in the browser's language."""
        path = request.path_params["path"]
        if path in i18n.LANGUAGES:  # /ar: the index, /ar/
            return RedirectResponse(f"/{path}/", status_code=308)
        if path.split("/", 1)[0] in i18n.LANGUAGES:
            raise HTTPException(404)
        language = i18n.negotiate(request.headers.get("accept-language"))
        query = request.url.query
        target = f"/{language}/{path}" + (f"?{query}" if query else "")
        return RedirectResponse(
            target, status_code=307, headers={"vary": "accept-language", "cache-control": "no-cache"}
        )

    async def published_counts(self) -> Counter:
        cursor = self.db[CONTRIBUTIONS.collection].find({"status": PUBLISHED}, {"_id": 0, "review_id": 1})
        return Counter([d["review_id"] async for d in cursor])

    # -- routes -------------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        reviews = (await queries.list_reviews(self.db, c.ListReviews()))["items"]
        counts = await self.published_counts()
        cycles: dict[str, list[dict]] = {}
        for review in sorted(reviews, key=lambda r: (r["cycle"], r["region"]), reverse=True):
            cycles.setdefault(review["cycle"], []).append({**review, "published": counts.get(review["review_id"], 0)})
        for items in cycles.values():
            items.sort(key=lambda r: r["region_name"])
        return self.render(request, "index.html", cycles=cycles, forums=await imrf_page.editions(self.db))

    async def review(self, request: Request) -> Response:
        review_id = request.path_params["review_id"]
        review = await self._review_or_404(review_id)
        params = request.query_params
        try:
            objective = whole_number(params.get("objective", ""), "objective")
            contributor = params.get("contributor", "")
            page = whole_number(params.get("page", ""), "page") or 1
            query = c.ListContributions(
                review_id=review_id,
                status=PUBLISHED,
                objective=objective,
                **contributor_filter(contributor),
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
        except (BadFilter, ValidationError) as exc:
            log.info("public page %s: filter refused: %s", request.url.path, exc)
            return self.render(
                request,
                "error.html",
                status_code=400,
                title=N_("This filter cannot be applied"),
                message=N_("The filters must be chosen from the lists. Go back to the review page and choose again."),
                back=f"/{page_language(request)}/reviews/{review_id}",
            )
        found = await queries.list_contributions(self.db, query)

        def page_link(number: int) -> str:
            kept = {"objective": objective or "", "contributor": contributor, "page": number}
            return "?" + urlencode({k: v for k, v in kept.items() if v})

        pages = max(1, -(-found["total"] // PAGE_SIZE))
        return self.render(
            request,
            "review.html",
            review=review,
            found=found,
            objective=objective,
            contributor=contributor,
            page=page,
            previous_page=page_link(page - 1) if page > 1 else None,
            next_page=page_link(page + 1) if page < pages else None,
            pages=pages,
            objectives=reference.GCM_OBJECTIVES,
            categories=reference.STAKEHOLDER_CATEGORIES,
        )

    async def contribution(self, request: Request) -> Response:
        contribution_id = request.path_params["contribution_id"]
        if not _CONTRIBUTION_ID_RE.match(contribution_id):
            raise HTTPException(404)
        try:
            doc = await queries.get_contribution(self.db, c.GetContribution(contribution_id=contribution_id))
        except NotFound:
            raise HTTPException(404) from None
        if doc["status"] != PUBLISHED:
            raise HTTPException(404)  # exactly as for an unknown id: nothing unpublished is revealed
        if doc["review_id"] is None:  # a contribution to the IMRF itself (resolution 73/326 para 13)
            forum = imrf_page.year(doc["imrf"])
            return self.render(request, "contribution.html", contribution=doc, review=None, imrf_year=forum)
        review = await self._review_or_404(doc["review_id"])
        return self.render(request, "contribution.html", contribution=doc, review=review, imrf_year=None)

    async def directory(self, request: Request) -> Response:
        return await directory_page.show(self, request)

    async def compilation(self, request: Request) -> Response:
        return await compilation_page.show(self, request)

    async def imrf(self, request: Request) -> Response:
        return await imrf_page.show(self, request)

    async def working_groups(self, request: Request) -> Response:
        return await working_groups_page.show_list(self, request)

    async def working_group(self, request: Request) -> Response:
        return await working_groups_page.show_group(self, request)

    async def compilation_csv(self, request: Request) -> Response:
        return await compilation_page.download_csv(self, request)

    async def compilation_json(self, request: Request) -> Response:
        return await compilation_page.download_json(self, request)

    async def stylesheet_route(self, request: Request) -> Response:
        return Response(self.stylesheet, media_type="text/css", headers={"cache-control": "public, max-age=3600"})

    async def healthz(self, request: Request) -> Response:
        try:
            await self.db.client.admin.command("ping")
        except PyMongoError as exc:
            return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def _review_or_404(self, review_id: str) -> dict:
        try:
            c.parse_review_id(review_id)
            return await queries.get_review(self.db, c.GetReview(review_id=review_id))
        except (ValueError, NotFound):
            raise HTTPException(404) from None

    # -- errors ---------------------------------------------------------------------
    async def http_error(self, request: Request, exc: HTTPException) -> Response:
        back = f"/{page_language(request)}/"
        if exc.status_code == 404:
            return self.render(
                request,
                "error.html",
                status_code=404,
                title=N_("Page not found"),
                message=N_("There is no published page at this address."),
                back=back,
            )
        # 405 for anything but GET and HEAD: these pages are read-only.
        return self.render(
            request,
            "error.html",
            status_code=exc.status_code,
            headers=exc.headers,
            title=N_("Request not allowed") if exc.status_code == 405 else N_("Request refused"),
            message=N_("This request cannot be answered here."),
            back=back,
        )

    async def unavailable(self, request: Request, exc: Exception) -> Response:
        log.warning("public page %s failed: %s", request.url.path, exc)
        return self.render(
            request,
            "error.html",
            status_code=503,
            title=N_("Temporarily unavailable"),
            message=N_("The regional pages cannot be shown right now; please try again shortly."),
            back=f"/{page_language(request)}/",
        )

    async def internal_error(self, request: Request, exc: Exception) -> Response:
        # Starlette re-raises after this answer, and uvicorn logs the traceback.
        return self.render(
            request,
            "error.html",
            status_code=500,
            title=N_("Something went wrong"),
            message=N_("The page could not be shown; the service log has the details."),
            back=f"/{page_language(request)}/",
        )


def create_app(db: AsyncDatabase) -> SecurityHeaders:
    pages = Pages(db)
    routes = [Route("/static/site.css", pages.stylesheet_route, name="stylesheet")]
    routes.append(Route("/healthz", pages.healthz, name="healthz"))
    for language in i18n.LANGUAGES:
        routes += [
            Route(f"/{language}/", pages.index),
            Route(f"/{language}/reviews/{{review_id}}", pages.review),
            Route(f"/{language}/contributions/{{contribution_id}}", pages.contribution),
            Route(f"/{language}/directory", pages.directory),
            Route(f"/{language}/working-groups", pages.working_groups),
            Route(f"/{language}/working-groups/{{group_id}}", pages.working_group),
            Route(f"/{language}/imrf/{{imrf}}", pages.imrf),
            Route(f"/{language}/compilation", pages.compilation),
            Route(f"/{language}/compilation.csv", pages.compilation_csv),
            Route(f"/{language}/compilation.json", pages.compilation_json),
        ]
    routes.append(Route("/{path:path}", pages.without_language, name="without_language"))
    app = Starlette(
        routes=routes,
        exception_handlers={
            # Starlette types every handler as taking Exception; it calls this one with HTTPException only.
            HTTPException: pages.http_error,  # type: ignore[dict-item]
            PyMongoError: pages.unavailable,
            Exception: pages.internal_error,
        },
    )
    return SecurityHeaders(app)
