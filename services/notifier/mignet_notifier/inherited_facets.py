"""Facets an event takes from its aggregate's first event: a support request's progress names only the request.

``support-request.accepted``, ``started``, ``completed`` and ``declined`` carry the
request id alone; the request's country and region are in its ``requested`` event.
Before matching, :mod:`.expansion` gives such events the facets of that event's outbox
document (same outbox, an earlier sequence: written before them), so a country or region
filter hears of the request's progress too. An event keeps the facets it carries itself.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from mignet_contracts import support as sr

Doc = dict[str, Any]
#: Event type -> the type of its aggregate's event whose facets it takes.
INHERITS: dict[str, str] = {
    e.ce_type(): sr.SupportRequested.ce_type()
    for e in (sr.SupportAccepted, sr.SupportStarted, sr.SupportCompleted, sr.SupportDeclined)
}
#: The outbox field that names an event's aggregate (indexed: one look-up per batch that needs it).
SUBJECT = "cloud_event.subject"


async def inherit(db: AsyncDatabase, collection: str, docs: list[Doc]) -> None:
    """Adds to each of ``docs`` that inherits the facets of its aggregate's origin event (in place)."""
    wanted: dict[str, set[str]] = {}
    for doc in docs:
        if doc["type"] in INHERITS:
            wanted.setdefault(INHERITS[doc["type"]], set()).add(doc["cloud_event"]["subject"])
    if not wanted:
        return
    found: dict[tuple[str, str], dict] = {}
    for origin, subjects in wanted.items():
        cursor = db[collection].find({"type": origin, SUBJECT: {"$in": sorted(subjects)}}, {SUBJECT: 1, "facets": 1})
        found.update({(origin, doc["cloud_event"]["subject"]): doc.get("facets") or {} async for doc in cursor})
    for doc in docs:
        if doc["type"] in INHERITS:
            inherited = found.get((INHERITS[doc["type"]], doc["cloud_event"]["subject"]), {})
            doc["facets"] = {**inherited, **(doc.get("facets") or {})}
