"""Support requests' read side: the projection (a pure function of document and event), queries, figures."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from mignet_contracts import reference
from mignet_contracts import support as sr
from mignet_runtime.codec import RecordedEvent
from mignet_runtime.errors import NotFound
from mignet_runtime.projection import Projection

Doc = dict[str, Any]
_HIDDEN = {"_id": 0, "_seq": 0, "_fence": 0}
OPEN_STATUSES = ("requested", "accepted", "in-progress")


def apply_support_request(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    on = event.occurred_on.isoformat()
    if isinstance(event, sr.SupportRequested):
        return {
            "request_id": event.request_id,
            "requester": str(event.requester),
            "country": event.country,
            "country_name": reference.country(event.country).name,
            "region": str(event.region),
            "network_id": event.network_id,
            "champion": event.champion,
            "measures": list(event.measures),
            "objectives": list(event.objectives),
            "review_settings": list(event.review_settings),
            "uses_review_framework": event.uses_review_framework,
            "description": event.description,
            "status": str(sr.SupportStatus.REQUESTED),
            "requested_on": on,
            "status_since": on,
            "status_history": [{"status": str(sr.SupportStatus.REQUESTED), "on": on}],
            "working_group": None,
            "lead_entity": None,
            "note": None,
            "decline_reason": None,
            "updated_at": recorded.recorded_at.isoformat(),
        }
    if doc is None:
        return None
    status = {
        sr.SupportAccepted: sr.SupportStatus.ACCEPTED,
        sr.SupportStarted: sr.SupportStatus.IN_PROGRESS,
        sr.SupportCompleted: sr.SupportStatus.COMPLETED,
        sr.SupportDeclined: sr.SupportStatus.DECLINED,
    }.get(type(event))
    if status is None:
        return doc
    doc["status"], doc["status_since"] = str(status), on
    doc["status_history"].append({"status": str(status), "on": on})
    if isinstance(event, sr.SupportAccepted):
        doc["working_group"], doc["lead_entity"] = event.working_group, event.lead_entity
    elif isinstance(event, sr.SupportCompleted):
        doc["note"] = event.note
    elif isinstance(event, sr.SupportDeclined):
        doc["decline_reason"] = event.reason
    doc["updated_at"] = recorded.recorded_at.isoformat()
    return doc


SUPPORT_REQUESTS = Projection(
    name="support-requests",
    collection="support_requests",
    subject_filter=sr.SUPPORT_REQUEST_EVENTS_SUBJECT,
    key=lambda r: r.aggregate_id,
    apply=apply_support_request,
    indexes=(("country",), ("region",), ("status",), ("measures",), ("champion",), ("requested_on",)),
)


async def list_support_requests(db: AsyncDatabase, q: sr.ListSupportRequests) -> dict:
    selector: dict[str, Any] = {}
    for key, value in (("country", q.country), ("measures", q.measure), ("champion", q.champion)):
        if value is not None:
            selector[key] = value
    for key, enum_value in (("status", q.status), ("region", q.region), ("requester", q.requester)):
        if enum_value is not None:
            selector[key] = str(enum_value)
    collection = db[SUPPORT_REQUESTS.collection]
    total = await collection.count_documents(selector)
    order = [("requested_on", -1), ("request_id", 1)]
    items = await collection.find(selector, _HIDDEN).sort(order).skip(q.offset).limit(q.limit).to_list(None)
    return {"total": total, "items": items}


async def get_support_request(db: AsyncDatabase, q: sr.GetSupportRequest) -> Doc:
    doc = await db[SUPPORT_REQUESTS.collection].find_one({"_id": q.request_id}, _HIDDEN)
    if doc is None:
        raise NotFound(f"there is no support request {q.request_id}", field="request_id")
    return doc


def figures(requests: list[Doc]) -> dict:
    measures = Counter(m for r in requests for m in r["measures"])
    return {
        "total": len(requests),
        "open": sum(1 for r in requests if r["status"] in OPEN_STATUSES),
        "by_status": dict(sorted(Counter(r["status"] for r in requests).items())),
        "by_measure": {m: measures[m] for m in reference.SUPPORT_MEASURES if measures[m]},
        "by_region": dict(sorted(Counter(r["region"] for r in requests).items())),
        "by_requester": dict(sorted(Counter(r["requester"] for r in requests).items())),
        "from_champions": sum(1 for r in requests if r["champion"]),
        "countries": len({r["country"] for r in requests}),
    }


async def support_figures(db: AsyncDatabase, q: sr.SupportFigures) -> dict:
    selector = {"requested_on": {"$gte": q.since.isoformat()}} if q.since else {}
    fields = {"_id": 0, "measures": 1, "status": 1, "region": 1, "requester": 1, "champion": 1, "country": 1}
    requests = await db[SUPPORT_REQUESTS.collection].find(selector, fields).to_list(None)
    return {"since": q.since.isoformat() if q.since else None, **figures(requests)}
