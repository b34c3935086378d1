"""The public directory page: UN networks on migration by region and status, champion countries by group.

Published "as of" a date like the FAQ's annex ("UN networks on migration as of
October 2020"): ``/<lang>/directory?as_of=2020-10-31``, today by default. Built
from the reviews service's own dated mirror of the registry's events
(directory_mirror.py), never from the registry's database; focal points are
not even mirrored, so their e-mails cannot appear.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mignet_reviews import directory, i18n
from mignet_reviews.i18n import N_

#: The Network was established in May 2018: the directory has nothing before.
EARLIEST = date(2018, 5, 1)


class BadDate(ValueError):
    pass


def chosen_day(value: str, today: date) -> date:
    if not value:
        return today
    try:
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        day = None
    if day is None or not EARLIEST <= day <= today:
        raise BadDate(value)
    return day


async def show(pages: Any, request: Request) -> Response:
    language = i18n.language_of_path(request.url.path) or i18n.DEFAULT_LANGUAGE
    today = datetime.now(UTC).date()
    raw = request.query_params.get("as_of", "")
    try:
        day = chosen_day(raw, today)
    except BadDate:
        return pages.render(
            request,
            "error.html",
            status_code=400,
            title=N_("This date cannot be shown"),
            message=N_(
                "The directory can be shown as it stood on any day from May 2018, when the Network was "
                "established, to today. Go back and choose a date in that range."
            ),
            back=f"/{language}/directory",
        )
    networks, champions, groups = await directory.load(pages.db)
    return pages.render(
        request,
        "directory.html",
        directory=directory.directory(networks, champions, day, groups),
        as_of=day.isoformat(),
        today=today.isoformat(),
        earliest=EARLIEST.isoformat(),
        chosen=bool(raw),
    )
