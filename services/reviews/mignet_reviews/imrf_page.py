"""The public page of the contributions to an IMRF itself, outside any regional review.

Resolution 73/326 para 13 asks the Network to compile *all* contributions in
preparation for the International Migration Review Forum, not only those made
to a regional review: a member state or a stakeholder may contribute to the
forum directly (``imrf-2026``). ``/<lang>/imrf/<imrf>`` lists those published;
each opens on the contribution page like any other, and the compilation holds
them with the regional ones (``?imrf=imrf-2026`` selects what informs that
forum: the contributions to it and to the regional reviews of the cycle before).
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mignet_contracts import reviews as c
from mignet_reviews import queries
from mignet_reviews.page_filters import BadFilter, whole_number
from mignet_reviews.projections import CONTRIBUTIONS

PAGE_SIZE = 50


def imrf_or_404(value: str) -> str:
    try:
        return c.check_imrf(value)
    except ValueError:
        raise HTTPException(404) from None


def year(imrf: str) -> str:
    return imrf.removeprefix("imrf-")


async def editions(db) -> list[dict]:
    """Every IMRF the pages know of (those the reviews inform, and those contributed to), newest first,
    with how many contributions to the forum itself are published."""
    reviews = (await queries.list_reviews(db, c.ListReviews()))["items"]
    selector = {"status": queries.PUBLISHED, "to_imrf_itself": True}
    counts = Counter([d["imrf"] async for d in db[CONTRIBUTIONS.collection].find(selector, {"_id": 0, "imrf": 1})])
    known = {c.imrf_for_cycle(r["cycle"]) for r in reviews} | set(counts)
    return [
        {"imrf": imrf, "year": year(imrf), "published": counts.get(imrf, 0)} for imrf in sorted(known, reverse=True)
    ]


async def show(pages: Any, request: Request) -> Response:
    imrf = imrf_or_404(request.path_params["imrf"])
    try:
        page = whole_number(request.query_params.get("page", ""), "page") or 1
    except BadFilter:
        raise HTTPException(404) from None
    query = c.ListContributions(
        imrf=imrf,
        status=queries.PUBLISHED,
        limit=PAGE_SIZE,
        offset=min((page - 1) * PAGE_SIZE, c.MAX_OFFSET),
    )
    found = await queries.list_contributions(pages.db, query)
    pages_count = max(1, -(-found["total"] // PAGE_SIZE))

    def link(number: int) -> str:
        return "?" + urlencode({"page": number}) if number > 1 else "?"

    return pages.render(
        request,
        "imrf.html",
        imrf=imrf,
        year=year(imrf),
        found=found,
        page=page,
        pages=pages_count,
        previous_page=link(page - 1) if page > 1 else None,
        next_page=link(page + 1) if page < pages_count else None,
    )
