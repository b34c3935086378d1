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
from markupsafe import Markup

from mignet_contracts import reference
from mignet_contracts import registry as r
from mignet_contracts import reviews as c
from mignet_contracts import working_groups as wg
from mignet_reviews import i18n

NETWORK_STATUS_WORDS = {
    str(r.NetworkStatus.UNDER_CONSIDERATION): "under consideration",
    str(r.NetworkStatus.BEING_ESTABLISHED): "being established",
    str(r.NetworkStatus.ESTABLISHED): "established",
    str(r.NetworkStatus.INACTIVE): "inactive",
}
CHAMPION_STATUS_WORDS = {
    str(r.ChampionStatus.NOMINATED): "Nominated, not yet confirmed",
    str(r.ChampionStatus.CONFIRMED): "Yes",
    str(r.ChampionStatus.WITHDRAWN): "No longer (withdrawn)",
}
REVIEW_STATUS_WORDS = {
    str(c.ReviewStatus.PLANNED): "planned",
    str(c.ReviewStatus.OPEN): "open for contributions",
    str(c.ReviewStatus.CLOSED): "closed",
    str(c.ReviewStatus.REPORT_PUBLISHED): "report published",
}
LEVEL_WORDS = {
    str(c.Level.LOCAL): "Local",
    str(c.Level.NATIONAL): "National",
    str(c.Level.REGIONAL): "Regional",
    str(c.Level.GLOBAL): "Global",
}
OUTPUT_KIND_WORDS = {
    str(wg.OutputKind.TOOL): "Tool",
    str(wg.OutputKind.DATA): "Data",
    str(wg.OutputKind.ANALYSIS): "Analysis",
    str(wg.OutputKind.GUIDANCE): "Guidance",
}
OUTPUT_STATUS_WORDS = {
    str(wg.OutputStatus.DRAFT): "draft",
    str(wg.OutputStatus.IN_REVIEW): "in review",
    str(wg.OutputStatus.PUBLISHED): "published",
}
#: Every word list above, for the catalogs (mignet_reviews.catalogs).
VOCABULARIES = (
    NETWORK_STATUS_WORDS,
    CHAMPION_STATUS_WORDS,
    REVIEW_STATUS_WORDS,
    LEVEL_WORDS,
    OUTPUT_KIND_WORDS,
    OUTPUT_STATUS_WORDS,
)


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


TO_BE_ANNOUNCED = "dates to be announced"
VIRTUAL = "virtual"
OBJECTIVE_LABEL = "%(number)d. %(label)s"


def date_range(start: str | None, end: str | None) -> str:
    if not start:
        return TO_BE_ANNOUNCED
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


def bdi(value: object) -> Markup:
    """Text isolated from the text around it (``<bdi>``, escaped), so that numbers and names embedded in a
    right-to-left sentence keep their order: "2024-2025" would otherwise read "2025-2024" in Arabic."""
    return Markup("<bdi>%s</bdi>") % value


def country_name(code: str | None) -> str:
    if not code:
        return ""
    try:
        return reference.country(code).name
    except KeyError:
        return code


def build_environment(language: str = i18n.DEFAULT_LANGUAGE) -> Environment:
    """The templates for one page language (one environment per language, built once)."""
    from mignet_reviews.localized import Localized  # it builds on this module's English functions

    env = Environment(
        loader=PackageLoader("mignet_reviews", "templates"),
        autoescape=True,  # for every template, whatever its name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # newstyle: _("... %(name)s", name=value) escapes the value and fails loudly on a missing one.
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    here = Localized(language)
    env.filters.update(
        web_url=web_url,
        long_date=here.long_date,
        language_name=here.language_name,
        country_name=here.country_name,
        region_name=here.region_name,
        in_sentence=here.in_sentence,
        commission_name=here.commission_name,
        commission_abbreviation=here.commission_abbreviation,
        objective_label=here.objective_label,
        objective_title=here.objective_title,
        principle_label=here.principle_label,
        category_label=here.category_label,
        group_name=here.group_name,
        workstream_name=here.workstream_name,
        working_group_name=here.working_group_name,
        words=words,
        bdi=bdi,
        venue=here.venue,
        by_country_name=here.by_country_name,
        network_status=here.vocabulary(NETWORK_STATUS_WORDS),
        champion_status=here.vocabulary(CHAMPION_STATUS_WORDS),
        review_status=here.vocabulary(REVIEW_STATUS_WORDS),
        level=here.vocabulary(LEVEL_WORDS),
        output_kind=here.vocabulary(OUTPUT_KIND_WORDS),
        output_status=here.vocabulary(OUTPUT_STATUS_WORDS),
    )
    env.globals.update(
        date_range=here.date_range,
        regions=reference.REGIONS,
        lang=language,
        dir=i18n.direction(language),
        languages=i18n.LANGUAGES,
        endonyms=i18n.ENDONYMS,
    )
    return env
