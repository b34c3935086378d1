"""The public pages in the six UN languages: gettext catalogs, compiled at start, and language choice.

The catalogs are Babel/gettext ``.po`` files under ``locale/<lang>/LC_MESSAGES/``
(the source, committed); they are compiled in memory when the service starts, so
no ``.mo`` file is ever built or committed. English is the source language: its
messages are the msgids themselves.

A message missing from a catalog falls back to English, is logged once as a
WARNING and is recorded in :data:`MISSING` (the browser tests fail on it).
"""

from __future__ import annotations

import gettext
import io
import logging
from functools import cache
from importlib.resources import files

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

log = logging.getLogger(__name__)

#: The six official UN languages, in the order the Network's Hub lists them.
LANGUAGES: tuple[str, ...] = ("ar", "zh", "en", "fr", "ru", "es")
DEFAULT_LANGUAGE = "en"
SOURCE_LANGUAGE = "en"
RIGHT_TO_LEFT = frozenset({"ar"})
#: Each language's name in itself, for the language switcher.
ENDONYMS: dict[str, str] = {
    "ar": "العربية",
    "zh": "中文",
    "en": "English",
    "fr": "Français",
    "ru": "Русский",
    "es": "Español",
}
DOMAIN = "messages"

#: (language, msgid) of every message a page asked for that its catalog lacks.
MISSING: set[tuple[str, str]] = set()


def N_(message: str) -> str:
    """Marks a message for the catalogs (mignet_reviews.catalogs); it is translated when the page is rendered."""
    return message


def language_of_path(path: str) -> str | None:
    """The language prefix of an address (``/fr/reviews/x`` -> ``fr``), None without one."""
    first = path.split("/", 2)[1] if path.startswith("/") else ""
    return first if first in LANGUAGES else None


def direction(language: str) -> str:
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


class _Missing(gettext.NullTranslations):
    """The last fallback of a catalog: English, and a record that a message is missing."""

    def __init__(self, language: str):
        super().__init__()
        self.language = language

    def _missing(self, message: str) -> None:
        if (self.language, message) not in MISSING:
            MISSING.add((self.language, message))
            log.warning("no %s translation of the public pages' message %r", self.language, message)

    def gettext(self, message: str) -> str:
        self._missing(message)
        return message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        self._missing(msgid1)
        return msgid1 if n == 1 else msgid2

    def pgettext(self, context: str, message: str) -> str:
        self._missing(message)
        return message

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        self._missing(msgid1)
        return msgid1 if n == 1 else msgid2


def po_path(language: str):
    return files("mignet_reviews").joinpath(f"locale/{language}/LC_MESSAGES/{DOMAIN}.po")


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The language's catalog, compiled from its .po file (once per process)."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    if language not in LANGUAGES:
        raise ValueError(f"not a language of the public pages: {language!r}")
    with po_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # untranslated and fuzzy entries are left out: they fall back
    compiled.seek(0)
    loaded = Translations(compiled, domain=DOMAIN)
    loaded.add_fallback(_Missing(language))
    return loaded


def negotiate(accept_language: str | None) -> str:
    """The page language for an ``Accept-Language`` header: the most preferred of the six, else English."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for position, part in enumerate((accept_language or "").split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        # Earlier entries win ties: position breaks them.
        if primary in LANGUAGES and quality > 0 and quality - position * 1e-6 > best_q:
            best, best_q = primary, quality - position * 1e-6
    return best
