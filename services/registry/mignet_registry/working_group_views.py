"""The working groups' read side: the projection (a pure function of document and event) and its queries.

A pilot shows on both sides: in the group's document under its output, and on the
network through :func:`pilots_of`, which :mod:`mignet_registry.queries` joins with
the networks (this module stays below :mod:`mignet_registry.projections`, which lists it).
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from mignet_contracts import reference
from mignet_contracts import working_groups as wg
from mignet_runtime.codec import RecordedEvent
from mignet_runtime.errors import NotFound
from mignet_runtime.projection import Projection

Doc = dict[str, Any]
_HIDDEN = {"_id": 0, "_seq": 0, "_fence": 0}


def _member_doc(member: wg.UnEntityMember | wg.StakeholderMember, lead: bool, on: str) -> Doc:
    if isinstance(member, wg.UnEntityMember):
        return {"key": member.key, "kind": "un-entity", "entity": member.entity, "lead": lead, "joined_on": on}
    return {
        "key": member.key,
        "kind": "stakeholder",
        "category": member.category,
        "organization": member.organization,
        "lead": lead,
        "joined_on": on,
    }


def _output(doc: Doc, output_id: str) -> Doc | None:
    return next((o for o in doc["outputs"] if o["output_id"] == output_id), None)


def _apply_output_event(doc: Doc, event: Any, on: str) -> None:
    if isinstance(event, wg.OutputAdded):
        doc["outputs"].append(
            {
                "output_id": event.output_id,
                "kind": str(event.kind),
                "title": event.title,
                "description": event.description,
                "status": str(wg.OutputStatus.DRAFT),
                "added_on": on,
                "status_since": on,
                "pilots": [],
            }
        )
        return
    output = _output(doc, event.output_id)
    if output is None:
        return
    if isinstance(event, wg.OutputStatusChanged):
        output["status"], output["status_since"] = str(event.to_status), on
    elif isinstance(event, wg.OutputPilotStarted):
        output["pilots"].append(
            {"network_id": event.network_id, "started_on": event.started_on.isoformat(), "ended_on": None}
        )
    elif isinstance(event, wg.OutputPilotEnded):
        for pilot in output["pilots"]:
            if pilot["network_id"] == event.network_id and pilot["ended_on"] is None:
                pilot["ended_on"], pilot["note"] = event.ended_on.isoformat(), event.note


def apply_working_group(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    on = event.occurred_on.isoformat()
    if isinstance(event, wg.WorkingGroupCreated):
        return {
            "group_id": event.group_id,
            "name": event.group_name,
            "core": event.core,
            "workstream": event.workstream,
            "workstream_name": reference.WORKSTREAMS.get(event.workstream or ""),
            "description": event.description,
            "created_on": on,
            "members": [],
            "member_count": 0,
            "member_entities": [],
            "outputs": [],
            "pilot_networks": [],
            "updated_at": recorded.recorded_at.isoformat(),
        }
    if doc is None:
        return None
    if isinstance(event, wg.WorkingGroupMemberJoined):
        doc["members"] = [m for m in doc["members"] if m["key"] != event.member.key]
        doc["members"].append(_member_doc(event.member, event.lead, on))
    elif isinstance(event, wg.WorkingGroupMemberLeft):
        doc["members"] = [m for m in doc["members"] if m["key"] != event.member.key]
    else:
        _apply_output_event(doc, event, on)
    doc["member_count"] = len(doc["members"])
    doc["member_entities"] = [m["entity"] for m in doc["members"] if m["kind"] == "un-entity"]
    doc["pilot_networks"] = sorted({p["network_id"] for o in doc["outputs"] for p in o["pilots"]})
    doc["updated_at"] = recorded.recorded_at.isoformat()
    return doc


WORKING_GROUPS = Projection(
    name="working-groups",
    collection="working_groups",
    subject_filter=wg.WORKING_GROUP_EVENTS_SUBJECT,
    key=lambda r: r.aggregate_id,
    apply=apply_working_group,
    indexes=(("core",), ("workstream",), ("member_entities",), ("pilot_networks",)),
)


# --- Queries ------------------------------------------------------------------------------------


async def list_working_groups(db: AsyncDatabase, q: wg.ListWorkingGroups) -> dict:
    selector: dict[str, Any] = {}
    if q.core is not None:
        selector["core"] = q.core
    if q.workstream:
        selector["workstream"] = q.workstream
    if q.member:
        selector["member_entities"] = q.member
    items = await db[WORKING_GROUPS.collection].find(selector, _HIDDEN).sort([("core", -1), ("name", 1)]).to_list(None)
    return {"total": len(items), "items": items}


async def get_working_group(db: AsyncDatabase, q: wg.GetWorkingGroup) -> Doc:
    doc = await db[WORKING_GROUPS.collection].find_one({"_id": q.group_id}, _HIDDEN)
    if doc is None:
        raise NotFound(f"there is no working group {q.group_id}", field="group_id")
    return doc


async def pilots_of(db: AsyncDatabase, network_id: str | None = None, group_id: str | None = None) -> list[Doc]:
    """Every pilot, newest first, with its group and output named."""
    selector: dict[str, Any] = {}
    if network_id:
        selector["pilot_networks"] = network_id
    if group_id:
        selector["_id"] = group_id
    pilots = [
        {
            "group_id": group["group_id"],
            "group_name": group["name"],
            "output_id": output["output_id"],
            "output_title": output["title"],
            "output_kind": output["kind"],
            "output_status": output["status"],
            **pilot,
        }
        async for group in db[WORKING_GROUPS.collection].find(selector, _HIDDEN)
        for output in group["outputs"]
        for pilot in output["pilots"]
        if network_id is None or pilot["network_id"] == network_id
    ]
    return sorted(pilots, key=lambda p: (p["started_on"], p["output_id"]), reverse=True)
