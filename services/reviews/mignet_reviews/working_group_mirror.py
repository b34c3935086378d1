"""The public pages' mirror of the registry's working groups: groups, members, outputs and their pilots.

The FAQ (section 3): working groups are "open to all Network members and to
relevant stakeholders", and produce tools, data, analysis and guidance which
country networks can pilot. The public pages show them from this projection,
fed by the reviews service's own durable consumer on the REGISTRY stream
(``reviews-registry-working-groups``), never from the registry's database.

Only what the pages show is kept: the group's name, kind, workstream and
description; its members (a UN entity's code, or a stakeholder's category and
organisation: no person); its outputs with their status and pilots (network and
dates). A pilot's closing note is not kept: it is an internal remark, and the
pages have no use for it.
"""

from __future__ import annotations

from typing import Any

from mignet_contracts import working_groups as wg
from mignet_runtime.codec import RecordedEvent
from mignet_runtime.projection import Projection

Doc = dict[str, Any]


def _member(member: wg.UnEntityMember | wg.StakeholderMember, lead: bool) -> Doc:
    if isinstance(member, wg.UnEntityMember):
        return {"key": member.key, "kind": "un-entity", "entity": member.entity, "lead": lead}
    return {
        "key": member.key,
        "kind": "stakeholder",
        "category": member.category,
        "organization": member.organization,
        "lead": lead,
    }


def _apply_output_event(doc: Doc, event: Any, on: str) -> Doc | None:
    if isinstance(event, wg.OutputAdded):
        doc["outputs"].append(
            {
                "output_id": event.output_id,
                "kind": str(event.kind),
                "title": event.title,
                "description": event.description,
                "status": str(wg.OutputStatus.DRAFT),
                "status_since": on,
                "added_on": on,
                "pilots": [],
            }
        )
        return doc
    output = next((o for o in doc["outputs"] if o["output_id"] == getattr(event, "output_id", None)), None)
    if output is None:
        return None
    if isinstance(event, wg.OutputStatusChanged):
        output["status"], output["status_since"] = str(event.to_status), on
    elif isinstance(event, wg.OutputPilotStarted):
        output["pilots"].append(
            {"network_id": event.network_id, "started_on": event.started_on.isoformat(), "ended_on": None}
        )
    elif isinstance(event, wg.OutputPilotEnded):
        for pilot in output["pilots"]:
            if pilot["network_id"] == event.network_id and pilot["ended_on"] is None:
                pilot["ended_on"] = event.ended_on.isoformat()
    else:
        return None
    return doc


def apply_working_group(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    on = event.occurred_on.isoformat()
    if isinstance(event, wg.WorkingGroupCreated):
        return {
            "group_id": event.group_id,
            "name": event.group_name,
            "core": event.core,
            "workstream": event.workstream,
            "description": event.description,
            "created_on": on,
            "members": [],
            "outputs": [],
            "pilot_networks": [],
        }
    if doc is None:
        return None
    if isinstance(event, wg.WorkingGroupMemberJoined):
        doc["members"] = [m for m in doc["members"] if m["key"] != event.member.key]
        doc["members"].append(_member(event.member, event.lead))
    elif isinstance(event, wg.WorkingGroupMemberLeft):
        doc["members"] = [m for m in doc["members"] if m["key"] != event.member.key]
    elif _apply_output_event(doc, event, on) is None:
        return None
    doc["pilot_networks"] = sorted({p["network_id"] for o in doc["outputs"] for p in o["pilots"]})
    return doc


WORKING_GROUPS = Projection(
    name="registry-working-groups",
    collection="registry_working_groups",
    subject_filter=wg.WORKING_GROUP_EVENTS_SUBJECT,
    key=lambda recorded: recorded.aggregate_id,
    apply=apply_working_group,
    indexes=(("pilot_networks",),),
)
