"""The IMRF compilation as files to hand over: CSV and JSON, the same from the public pages and the CLI.

Resolution 73/326 para 13 asks the Network to compile the contributions in
preparation for the International Migration Review Forum. One row (or object)
per published contribution, in compilation order (cycle, region, member states
then stakeholders by name). Codes, not labels, so the files read the same
whatever the page language: the README's reference data names them.

The text is what contributors wrote, so a CSV cell that a spreadsheet would take
for a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) is prefixed with an apostrophe: opening the file never runs anything.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

Doc = dict[str, Any]

COLUMNS: tuple[str, ...] = (
    "contribution_id",
    "cycle",
    "region",
    "review_id",
    "imrf",
    "published_on",
    "contributor_kind",
    "stakeholder_category",
    "organization",
    "country",
    "level",
    "language",
    "objectives",
    "guiding_principles",
    "title",
    "summary",
    "body",
    "links",
    "moderator_note",
    "country_has_network",
    "country_is_champion",
)
#: Lists in a CSV cell: objectives "1;5", links one per line.
_SEPARATORS = {"objectives": ";", "guiding_principles": ";", "links": "\n"}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def public_item(doc: Doc) -> Doc:
    """A published contribution as the compilation publishes it: no contact, no moderation history."""
    contributor = doc["contributor"]
    return {
        "contribution_id": doc["contribution_id"],
        "cycle": doc["cycle"],
        "region": doc["region"],
        "review_id": doc["review_id"],
        # The IMRF it informs; a contribution to the forum itself has no cycle, region or review.
        "imrf": doc.get("imrf"),
        "published_on": doc["published_on"],
        "contributor_kind": contributor["kind"],
        "stakeholder_category": contributor["category"],
        "organization": contributor["organization"],
        "country": contributor["country"],
        "level": doc["level"],
        "language": doc["language"],
        "objectives": list(doc["objectives"]),
        "guiding_principles": list(doc["guiding_principles"]),
        "title": doc["title"],
        "summary": doc["summary"],
        "body": doc["body"],
        "links": list(doc["links"]),
        "moderator_note": doc["moderator_note"],
        "country_has_network": doc.get("country_has_network"),
        "country_is_champion": doc.get("country_is_champion"),
    }


def cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return _SEPARATORS[column].join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_lines(docs: Iterable[Doc]) -> Iterator[str]:
    """The header, then one CSV record per contribution (RFC 4180: CRLF, quotes where needed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield buffer.getvalue()
    for doc in docs:
        buffer.seek(0)
        buffer.truncate()
        item = public_item(doc)
        writer.writerow([cell(column, item[column]) for column in COLUMNS])
        yield buffer.getvalue()


def document(docs: Iterable[Doc], filters: Doc) -> Doc:
    """The JSON download: the filters applied, the count, and the contributions."""
    items = [public_item(doc) for doc in docs]
    return {"compilation": "IMRF", "filters": filters, "total": len(items), "items": items}
