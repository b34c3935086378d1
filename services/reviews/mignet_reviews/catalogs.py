"""The public pages' message catalogs: what must be translated, and whether it is.

    python -m mignet_reviews.catalogs update   # add new messages to every .po, keep the translations
    python -m mignet_reviews.catalogs check    # list what a catalog lacks; exit 1 if anything

The messages are the interface strings of the templates (``_()``, ``ngettext()``)
and of pages.py (``N_()``), and the names of the published vocabularies that the
pages show: regions, regional commissions (names and abbreviations), GCM
objectives (labels and titles), guiding principles, stakeholder categories,
champion regional groups, workstreams, working groups, the kinds of their
outputs and the statuses.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from mignet_contracts import reference
from mignet_reviews import i18n, templating

PACKAGE = Path(__file__).parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true", "trim_blocks": "true"}


def vocabulary() -> Iterator[str]:
    yield from reference.REGIONS.values()
    for commission in reference.REGIONAL_COMMISSIONS.values():
        yield commission.name
        yield commission.code
    for objective in reference.GCM_OBJECTIVES.values():
        yield objective.label
        yield objective.title
    yield from reference.GUIDING_PRINCIPLES.values()
    yield from reference.STAKEHOLDER_CATEGORIES.values()
    yield from reference.CHAMPION_REGIONAL_GROUPS.values()
    yield from reference.WORKSTREAMS.values()
    yield from (group.name for group in reference.WORKING_GROUPS.values())
    for words in templating.VOCABULARIES:
        yield from words.values()
    yield from (templating.TO_BE_ANNOUNCED, templating.VIRTUAL, templating.OBJECTIVE_LABEL)


def template_catalog() -> Catalog:
    """Every message the pages can ask for, with where it comes from."""
    catalog = Catalog(domain=i18n.DOMAIN, project="mignet public pages")
    sources = sorted((PACKAGE / "templates").glob("*.html"))
    for source in sources:
        found = extract_from_file("jinja2.ext.babel_extract", source, keywords=KEYWORDS, options=JINJA_OPTIONS)
        for line, message, comments, context in found:
            catalog.add(message, None, [(f"templates/{source.name}", line)], auto_comments=comments, context=context)
    pages = ("pages.py", "directory_page.py", "compilation_page.py", "working_groups_page.py")
    for source in (PACKAGE / name for name in pages):
        if source.exists():
            for line, message, comments, context in extract_from_file("python", source, keywords=KEYWORDS):
                catalog.add(message, None, [(source.name, line)], auto_comments=comments, context=context)
    for message in vocabulary():
        if message not in catalog:
            catalog.add(message, None, [("vocabulary", 0)])
    return catalog


def po_file(language: str) -> Path:
    return PACKAGE / "locale" / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


def load(language: str) -> Catalog:
    with po_file(language).open("rb") as po:
        return read_po(po, locale=language, domain=i18n.DOMAIN)


def translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return not message.fuzzy and all(s and s.strip() for s in strings)


def missing(language: str) -> list[str]:
    """The messages the pages need that the language's catalog does not translate (fuzzy counts as not)."""
    catalog = load(language)
    needed = template_catalog()
    lacking = []
    for message in needed:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
        entry = catalog.get(key)
        if entry is None or not translated(entry):
            lacking.append(key)
    return lacking


def update() -> None:
    template = template_catalog()
    for language in i18n.LANGUAGES:
        if language == i18n.SOURCE_LANGUAGE:
            continue
        path = po_file(language)
        catalog = load(language) if path.exists() else Catalog(locale=language, domain=i18n.DOMAIN)
        template.creation_date = catalog.creation_date  # no date churn in the .po files when nothing changed
        catalog.update(template, no_fuzzy_matching=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as po:
            write_po(po, catalog, width=120, omit_header=False, ignore_obsolete=True, include_lineno=False)


def check() -> int:
    status = 0
    for language in i18n.LANGUAGES:
        if language == i18n.SOURCE_LANGUAGE:
            continue
        for message in missing(language):
            print(f"{language}: no translation of {message!r}")
            status = 1
    return status


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "update":
        update()
    elif command == "check":
        sys.exit(check())
    else:
        sys.exit(f"usage: python -m mignet_reviews.catalogs update|check (not {command!r})")
