"""What the e2e tests call an untranslated interface string, shared by the page modules."""

from __future__ import annotations

import re

from mignet_reviews import catalogs

#: The interface text of the page: everything but what carries another language (contributed text,
#: the language switcher's names of the languages in themselves) and the data isolated in <bdi>
#: (names of organizations, networks and venues as they were recorded; cycles).
INTERFACE_TEXT = """() => {
  const copy = document.body.cloneNode(true);
  const own = document.documentElement.lang;
  copy.querySelectorAll('[lang]').forEach(e => { if (e.lang !== own) e.remove(); });
  copy.querySelectorAll('bdi').forEach(e => e.remove());
  return copy.textContent;
}"""


def words_in(message: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(message)}(?!\w)", text) is not None


def english_messages(language: str) -> list[str]:
    """The English interface strings (plain texts, no placeholders) that cannot appear in this language's pages.

    Those the language translates as themselves, or that its translations contain (Spanish "Media
    Luna Roja" has the English "Media" in it), can appear and are left out.
    """
    catalog = list(catalogs.load(language))
    translations = " | ".join(s for m in catalog for s in ([m.string] if isinstance(m.string, str) else m.string))
    return [
        m.id
        for m in catalog
        if m.id and isinstance(m.id, str) and "%(" not in m.id and not words_in(m.id, translations)
    ]
