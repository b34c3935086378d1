"""The public pages of the working groups: a list, and one page per group with its members and outputs.

The FAQ (section 3): core and thematic working groups, "open to all Network
members and to relevant stakeholders", produce tools, data, analysis and
guidance which country networks can pilot. Built from the reviews service's own
mirrors of the registry's events (working_group_mirror.py for the groups, the
directory's mirror for the names of the piloting networks), never from the
registry's database. No person appears: members are UN entities and
stakeholders' organisations, and focal points are not mirrored at all.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mignet_contracts import reference
from mignet_contracts import working_groups as wg
from mignet_reviews.directory_mirror import DIRECTORY_NETWORKS
from mignet_reviews.working_group_mirror import WORKING_GROUPS

Doc = dict[str, Any]
_GROUP_ID: TypeAdapter[str] = TypeAdapter(wg.GroupId)
_HIDDEN = {"_id": 0, "_seq": 0, "_fence": 0}
#: The FAQ's groups in its own order (footnote 5), then any other by name.
_FAQ_ORDER = {code: rank for rank, code in enumerate(reference.WORKING_GROUPS)}


def ordered(groups: list[Doc]) -> list[Doc]:
    """Core groups first, then thematic; within each, the FAQ's order, then the others by name."""
    return sorted(
        groups, key=lambda g: (not g["core"], _FAQ_ORDER.get(g["group_id"], len(_FAQ_ORDER)), g["name"].casefold())
    )


def member_order(member: Doc) -> tuple:
    """UN entities by code, then stakeholders by organisation."""
    return (member["kind"] != "un-entity", member.get("entity") or member["organization"].casefold())


def summary(group: Doc) -> Doc:
    """What the list shows of a group: its leads, and how many members, outputs and piloting networks."""
    return {
        **group,
        "leads": sorted((m for m in group["members"] if m["lead"]), key=member_order),
        "member_count": len(group["members"]),
        "output_count": len(group["outputs"]),
        "published_count": sum(1 for o in group["outputs"] if o["status"] == "published"),
        "pilot_count": len(group["pilot_networks"]),
    }


def current_network(doc: Doc | None, network_id: str) -> Doc:
    """A piloting network as it stands now: its latest name, country or region (its id if not mirrored)."""
    if doc is None:
        return {"network_id": network_id, "name": network_id, "country": None, "region": None}
    name = doc["names"][-1]["name"] if doc["names"] else network_id
    return {"network_id": network_id, "name": name, "country": doc["country"], "region": doc["region"]}


async def _networks(db, ids: list[str]) -> dict[str, Doc]:
    if not ids:
        return {}
    found = {
        d["network_id"]: d
        async for d in db[DIRECTORY_NETWORKS.collection].find({"_id": {"$in": ids}}, {"_id": 0, "_seq": 0})
    }
    return {network_id: current_network(found.get(network_id), network_id) for network_id in ids}


async def show_list(pages: Any, request: Request) -> Response:
    groups = await pages.db[WORKING_GROUPS.collection].find({}, _HIDDEN).to_list(None)
    items = [summary(g) for g in ordered(groups)]
    return pages.render(
        request,
        "working_groups.html",
        core=[g for g in items if g["core"]],
        thematic=[g for g in items if not g["core"]],
    )


async def show_group(pages: Any, request: Request) -> Response:
    try:
        group_id = _GROUP_ID.validate_python(request.path_params["group_id"])
    except ValidationError:
        raise HTTPException(404) from None
    group = await pages.db[WORKING_GROUPS.collection].find_one({"_id": group_id}, _HIDDEN)
    if group is None:
        raise HTTPException(404)
    networks = await _networks(pages.db, group["pilot_networks"])
    for output in group["outputs"]:
        for pilot in output["pilots"]:
            pilot["network"] = networks[pilot["network_id"]]
    members = sorted(group["members"], key=lambda m: (not m["lead"], member_order(m)))
    return pages.render(
        request,
        "working_group.html",
        group=summary(group),
        entities=[m for m in members if m["kind"] == "un-entity"],
        stakeholders=[m for m in members if m["kind"] == "stakeholder"],
    )
