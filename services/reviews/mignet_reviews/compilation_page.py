"""The IMRF compilation on the public pages: a printable view, and CSV and JSON downloads.

``/<lang>/compilation`` shows the published contributions across reviews, and
those made to the IMRF itself, with filters by IMRF, region, cycle, objective and
contributor type, laid out to print;
``/<lang>/compilation.csv`` and ``.json`` download the same selection, whole
(not one page of it), in the files that the CLI writes too
(compilation_export.py). Everything goes through the same query as the NATS
``compilation`` query, so the filters behave the same everywhere.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from mignet_contracts import reference
from mignet_contracts import reviews as c
from mignet_reviews import compilation_export, i18n, imrf_page, queries
from mignet_reviews.i18n import N_
from mignet_reviews.page_filters import BadFilter, contributor_filter, whole_number

#: Contributions on one printable page; the downloads hold them all.
PRINT_PAGE = 200
FILTERS = ("imrf", "region", "cycle", "objective", "contributor")


def query_of(request: Request, limit: int = PRINT_PAGE) -> tuple[c.Compilation, dict[str, str], int]:
    """The compilation query of the address's filters, the filters as given, and the page number."""
    params = request.query_params
    given = {name: params.get(name, "") for name in FILTERS}
    page = whole_number(params.get("page", ""), "page") or 1
    fields: dict[str, Any] = {k: given[k] for k in ("imrf", "region", "cycle") if given[k]}
    query = c.Compilation(
        **fields,
        objective=whole_number(given["objective"], "objective"),
        **contributor_filter(given["contributor"]),
        limit=limit,
        offset=min((page - 1) * limit, c.MAX_OFFSET),
    )
    return query, {k: v for k, v in given.items() if v}, page


def refused(pages: Any, request: Request, language: str) -> Response:
    return pages.render(
        request,
        "error.html",
        status_code=400,
        title=N_("This filter cannot be applied"),
        message=N_("The filters must be chosen from the lists. Go back to the compilation and choose again."),
        back=f"/{language}/compilation",
    )


async def show(pages: Any, request: Request) -> Response:
    language = i18n.language_of_path(request.url.path) or i18n.DEFAULT_LANGUAGE
    try:
        query, given, page = query_of(request)
    except (BadFilter, ValidationError):
        return refused(pages, request, language)
    found = await queries.compilation(pages.db, query)
    reviews = (await queries.list_reviews(pages.db, c.ListReviews()))["items"]
    pages_count = max(1, -(-found["total"] // PRINT_PAGE))

    def link(number: int) -> str:
        return "?" + urlencode({**given, **({"page": number} if number > 1 else {})})

    download = ("?" + urlencode(given)) if given else ""
    return pages.render(
        request,
        "compilation.html",
        found=found,
        given=given,
        chosen={name: given.get(name, "") for name in FILTERS},
        page=page,
        pages=pages_count,
        previous_page=link(page - 1) if page > 1 else None,
        next_page=link(page + 1) if page < pages_count else None,
        csv_url=f"/{language}/compilation.csv{download}",
        json_url=f"/{language}/compilation.json{download}",
        cycles=sorted({r["cycle"] for r in reviews}, reverse=True),
        forums=await imrf_page.editions(pages.db),
        region_codes=[str(region) for region in reference.REGIONS],
        objectives=reference.GCM_OBJECTIVES,
        categories=reference.STAKEHOLDER_CATEGORIES,
    )


def _attachment(name: str) -> dict[str, str]:
    return {"content-disposition": f'attachment; filename="{name}"', "cache-control": "no-cache"}


async def download_csv(pages: Any, request: Request) -> Response:
    language = i18n.language_of_path(request.url.path) or i18n.DEFAULT_LANGUAGE
    try:
        query, _, _ = query_of(request)
    except (BadFilter, ValidationError):
        return refused(pages, request, language)

    async def body():
        # The byte order mark lets spreadsheets read the UTF-8 (Arabic, Chinese, Russian) as UTF-8.
        yield "\ufeff".encode()
        docs = [doc async for doc in queries.all_compiled(pages.db, query)]
        for line in compilation_export.csv_lines(docs):
            yield line.encode()

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers=_attachment("imrf-compilation.csv"))


async def download_json(pages: Any, request: Request) -> Response:
    language = i18n.language_of_path(request.url.path) or i18n.DEFAULT_LANGUAGE
    try:
        query, given, _ = query_of(request)
    except (BadFilter, ValidationError):
        return refused(pages, request, language)
    docs = [doc async for doc in queries.all_compiled(pages.db, query)]
    text = json.dumps(compilation_export.document(docs, given), ensure_ascii=False, indent=1)
    return Response(
        text.encode(), media_type="application/json; charset=utf-8", headers=_attachment("imrf-compilation.json")
    )
