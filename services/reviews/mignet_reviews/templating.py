"""Jinja2 for the public pages: autoescaping always on, labels for the GCM vocabularies.

Everything a contributor wrote is untrusted text. Templates never mark it
safe: autoescaping turns ``<script>`` into text, and links are rendered as
links only when they are http or https (the contracts already refuse other
schemes; this is the second lock).
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

import pycountry
from jinja2 import Environment, PackageLoader, StrictUndefined

from mignet_contracts import reference
from mignet_contracts import registry as r

NETWORK_STATUS_WORDS = {
    str(r.NetworkStatus.UNDER_CONSIDERATION): "under consideration",
    str(r.NetworkStatus.BEING_ESTABLISHED): "being established",
    str(r.NetworkStatus.ESTABLISHED): "established",
    str(r.NetworkStatus.INACTIVE): "inactive",
}
CHAMPION_STATUS_WORDS = {
    str(r.ChampionStatus.NOMINATED): "nominated, not yet confirmed",
    str(r.ChampionStatus.CONFIRMED): "yes",
    str(r.ChampionStatus.WITHDRAWN): "no longer (withdrawn)",
}


def web_url(value: str | None) -> str | None:
    """The link itself if it is http(s) with a host and no user name, else None (render it as text).

    ``https://trusted.example@evil.example/`` reads as trusted.example but leads to
    evil.example: a link with userinfo is never a link here (the contracts refuse it too).
    """
    if not value:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if "@" in parts.netloc:
        return None
    return value if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def in_sentence(region: str) -> str:
    """A region's proper name with its article, for use after "in" or "for"."""
    return reference.region_in_sentence(region)


def long_date(value: str | date | None) -> str:
    if not value:
        return ""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {day:%B %Y}"


def date_range(start: str | None, end: str | None) -> str:
    if not start:
        return "dates to be announced"
    if not end or end == start:
        return long_date(start)
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
    return f"{long_date(first)} – {long_date(last)}"


def language_name(code: str) -> str:
    if code in reference.LANGUAGES:
        return reference.LANGUAGES[code]
    found = pycountry.languages.get(alpha_2=code)
    return found.name if found else code


def objective_label(number: int) -> str:
    objective = reference.GCM_OBJECTIVES.get(number)
    return f"{number}. {objective.label}" if objective else str(number)


def objective_title(number: int) -> str:
    objective = reference.GCM_OBJECTIVES.get(number)
    return objective.title if objective else ""


def principle_label(code: str) -> str:
    return reference.GUIDING_PRINCIPLES.get(code, code)


def words(code: str | None) -> str:
    return (code or "").replace("-", " ")


def build_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("mignet_reviews", "templates"),
        autoescape=True,  # for every template, whatever its name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        web_url=web_url,
        long_date=long_date,
        language_name=language_name,
        objective_label=objective_label,
        objective_title=objective_title,
        principle_label=principle_label,
        words=words,
        network_status=lambda s: NETWORK_STATUS_WORDS.get(s, words(s)),
        champion_status=lambda s: CHAMPION_STATUS_WORDS.get(s, words(s)),
    )
    env.globals.update(date_range=date_range, regions=reference.REGIONS)
    env.filters["in_sentence"] = in_sentence
    return env
