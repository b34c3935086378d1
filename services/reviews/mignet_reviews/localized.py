"""The public pages' filters that depend on the page's language.

Our vocabularies (regions, commissions, objectives, principles, stakeholder
categories, champion groups, statuses) come from the language's catalog (see
catalogs.py); country and language names and dates from CLDR through Babel.
English keeps the wording of templating.py's plain functions.
"""

from __future__ import annotations

from datetime import date

from babel import Locale
from babel.dates import format_date, format_interval
from markupsafe import Markup

from mignet_contracts import reference
from mignet_reviews import i18n
from mignet_reviews.templating import (
    OBJECTIVE_LABEL,
    TO_BE_ANNOUNCED,
    VIRTUAL,
    bdi,
    country_name,
    date_range,
    in_sentence,
    language_name,
    long_date,
    words,
)


class Localized:
    """The filters that depend on the page's language: its catalog for our vocabularies, CLDR for the rest."""

    def __init__(self, language: str):
        self.language = language
        self.english = language == i18n.SOURCE_LANGUAGE
        self.locale = Locale.parse(language)
        self.gettext = i18n.translations(language).gettext

    def label(self, english: str) -> str:
        return english if self.english else self.gettext(english)

    def long_date(self, value: str | date | None) -> str:
        if self.english or not value:
            return long_date(value)
        day = date.fromisoformat(value) if isinstance(value, str) else value
        return format_date(day, "long", locale=self.locale)

    def date_range(self, start: str | None, end: str | None) -> str:
        if self.english:
            return date_range(start, end)
        if not start:
            return self.gettext(TO_BE_ANNOUNCED)
        if not end or end == start:
            return self.long_date(start)
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        return format_interval(first, last, "yMMMMd", locale=self.locale)

    def language_name(self, code: str) -> str:
        if self.english:
            return language_name(code)
        return self.locale.languages.get(code) or language_name(code)

    def country_name(self, code: str | None) -> str:
        if self.english or not code:
            return country_name(code)
        return self.locale.territories.get(code.upper()) or country_name(code)

    def by_country_name(self, items: list[dict], key: str = "country") -> list[dict]:
        """Items sorted by their country's name in the page's language (CLDR collation aside)."""
        return sorted(items, key=lambda item: self.country_name(item[key]).casefold())

    def region_name(self, code: str) -> str:
        return self.label(reference.REGIONS[reference.RegionCode(code)])

    def in_sentence(self, code: str) -> str:
        return in_sentence(code) if self.english else self.region_name(code)

    def commission_name(self, code: str) -> str:
        return self.label(reference.REGIONAL_COMMISSIONS[code].name)

    def commission_abbreviation(self, code: str) -> str:
        return self.label(code)

    def objective_label(self, number: int) -> str:
        objective = reference.GCM_OBJECTIVES.get(number)
        if objective is None:
            return str(number)
        return self.label(OBJECTIVE_LABEL) % {"number": number, "label": self.label(objective.label)}

    def venue(self, value: str) -> str | Markup:
        """A city as it was entered, or "virtual" in the page's language."""
        return self.label(VIRTUAL) if value.strip().lower() == VIRTUAL else bdi(value)

    def objective_title(self, number: int) -> str:
        objective = reference.GCM_OBJECTIVES.get(number)
        return self.label(objective.title) if objective else ""

    def principle_label(self, code: str) -> str:
        return self.label(reference.GUIDING_PRINCIPLES[code]) if code in reference.GUIDING_PRINCIPLES else code

    def category_label(self, code: str | None) -> str:
        return self.label(reference.STAKEHOLDER_CATEGORIES[code]) if code in reference.STAKEHOLDER_CATEGORIES else ""

    def group_name(self, code: str) -> str:
        return (
            self.label(reference.CHAMPION_REGIONAL_GROUPS[code]) if code in reference.CHAMPION_REGIONAL_GROUPS else code
        )

    def workstream_name(self, code: str) -> str | Markup:
        """A workstream's name; the core ones with their number as the FAQ gives it (2.1, 2.2)."""
        if code not in reference.WORKSTREAMS:
            return bdi(code)
        name = self.label(reference.WORKSTREAMS[code])
        return bdi(code) + " " + name if code in reference.CORE_WORKSTREAMS else name

    def working_group_name(self, group: dict, isolate: bool = True) -> str | Markup:
        """One of the FAQ's groups under its recorded name: translated; any other name as it was recorded."""
        known = reference.WORKING_GROUPS.get(group["group_id"])
        if known is not None and known.name == group["name"]:
            return self.label(known.name)
        return bdi(group["name"]) if isolate else group["name"]

    def vocabulary(self, words_by_code: dict[str, str]):
        return lambda code: self.label(words_by_code[code]) if code in words_by_code else words(code)
