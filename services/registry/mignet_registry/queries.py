"""Registry queries: answered from the MongoDB read models, or for a past date
by replaying the stream through the very same projection code."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from mignet_contracts import reference
from mignet_contracts import registry as c
from mignet_contracts import working_groups as wg
from mignet_registry.domain import NETWORK
from mignet_registry.projections import CHAMPIONS, NETWORKS
from mignet_registry.working_group_views import pilots_of
from mignet_runtime.commands import CommandExecutor
from mignet_runtime.errors import NotFound, Rejected, ValidationFailed
from mignet_runtime.eventstore import EventStore
from mignet_runtime.projection import fold_stream

Doc = dict[str, Any]
_HIDDEN = {"_id": 0, "_seq": 0, "_fence": 0}  # the runner's internal fields


async def list_networks(db: AsyncDatabase, q: c.ListNetworks) -> dict:
    selector: dict[str, Any] = {}
    if q.scope:
        selector["scope"] = str(q.scope)
    if q.region:
        selector["regions"] = str(q.region)
    if q.country:
        selector["country"] = q.country
    if q.status:
        selector["status"] = str(q.status)
    if q.kind:
        selector["kind"] = str(q.kind)
    if q.member and q.role:
        selector["members"] = {"$elemMatch": {"entity": q.member, "roles": str(q.role)}}
    elif q.member:
        selector["members.entity"] = q.member
    elif q.role:
        selector["members.roles"] = str(q.role)
    if q.name_contains:
        # Escaped: the search text is a user's words, not a regular expression.
        selector["name"] = {"$regex": re.escape(q.name_contains), "$options": "i"}
    total = await db[NETWORKS.collection].count_documents(selector)
    cursor = (
        db[NETWORKS.collection].find(selector, _HIDDEN).sort([("scope", 1), ("name", 1)]).skip(q.offset).limit(q.limit)
    )
    return {"total": total, "items": await cursor.to_list(None)}


async def get_network(db: AsyncDatabase, executor: CommandExecutor, q: c.GetNetwork) -> Doc:
    doc = await db[NETWORKS.collection].find_one({"_id": q.network_id}, _HIDDEN)
    if doc is None:
        raise NotFound(f"there is no network {q.network_id}", field="network_id")
    doc["pilots"] = await pilots_of(db, network_id=q.network_id)
    if doc.get("focal_point"):
        # The focal point's name and e-mail are personal data: kept only (encrypted) in the event
        # store, read through the aggregate; "(erased)" once erased. The read model has the entity.
        current = (await executor.load(NETWORK, q.network_id)).state.focal_point
        if current is not None:
            doc["focal_point"] = {
                "name": current.name,
                "entity": current.entity,
                "email": current.email,
                "assigned_on": current.assigned_on.isoformat(),
            }
    return doc


async def list_pilots(db: AsyncDatabase, q: wg.ListPilots) -> dict:
    """Pilots of working-group outputs, each with its network's name."""
    pilots = await pilots_of(db, q.network_id, q.group_id)
    ids = sorted({p["network_id"] for p in pilots})
    names = {
        n["network_id"]: n["name"]
        async for n in db[NETWORKS.collection].find({"_id": {"$in": ids}}, {"network_id": 1, "name": 1})
    }
    for pilot in pilots:
        pilot["network_name"] = names.get(pilot["network_id"])
    return {"total": len(pilots), "items": pilots[q.offset : q.offset + q.limit]}


async def list_champions(db: AsyncDatabase, q: c.ListChampions) -> dict:
    selector: dict[str, Any] = {}
    if q.regional_group:
        selector["regional_group"] = q.regional_group
    if q.status:
        selector["status"] = str(q.status)
    items = (
        await db[CHAMPIONS.collection]
        .find(selector, _HIDDEN)
        .sort([("regional_group", 1), ("country_name", 1)])
        .to_list(None)
    )
    await _with_national_networks(db, items)
    everyone = items if q.regional_group is None and q.status is None else None
    if everyone is None:
        everyone = await db[CHAMPIONS.collection].find({}, {"regional_group": 1, "status": 1}).to_list(None)
    return {"total": len(items), "items": items, "geographic_balance": geographic_balance(everyone)}


def geographic_balance(champions: Iterable[Doc]) -> dict:
    """The FAQ's first criterion, over the whole set: active champions per regional group."""
    active = Counter(ch["regional_group"] for ch in champions if ch["status"] != "withdrawn")
    groups = {g: active.get(g, 0) for g in reference.CHAMPION_REGIONAL_GROUPS}
    total = sum(active.values())
    return {
        "by_regional_group": groups,
        "groups_without_champions": [g for g, n in groups.items() if n == 0],
        "largest_group_share": round(max(groups.values()) / total, 2) if total else None,
    }


async def _with_national_networks(db: AsyncDatabase, champions: list[Doc]) -> None:
    """Adds each champion's national network as it is now (``network_id``, ``network_status``).

    ``existing_network_id`` is what the nomination found; a network created or closed
    since then is a current fact the two read models only show together.
    """
    ids = [c.national_network_id(ch["country"]) for ch in champions]
    found = {
        doc["network_id"]: doc
        async for doc in db[NETWORKS.collection].find({"_id": {"$in": ids}}, {"network_id": 1, "status": 1})
    }
    for champion, network_id in zip(champions, ids, strict=True):
        network = found.get(network_id)
        champion["network_id"] = network_id if network else None
        champion["network_status"] = network["status"] if network else None


async def get_champion(db: AsyncDatabase, q: c.GetChampion) -> Doc:
    doc = await db[CHAMPIONS.collection].find_one({"_id": q.country.lower()}, _HIDDEN)
    if doc is None:
        name = reference.country(q.country).name
        raise NotFound(f"{name} has not been nominated as a champion country", field="country")
    await _with_national_networks(db, [doc])
    return doc


def summarize(networks: Iterable[Doc], champions: Iterable[Doc], as_of: date | None) -> dict:
    """The directory: networks by status and region, champions by group and status."""
    networks, champions = list(networks), list(champions)
    by_status = Counter(n["status"] for n in networks)
    by_region: dict[str, Counter] = {}
    for n in networks:
        if n["scope"] == "global":
            continue
        by_region.setdefault(n["region"], Counter())[f"{n['scope']}/{n['status']}"] += 1
    groups: dict[str, Counter] = {}
    for ch in champions:
        groups.setdefault(ch["regional_group"], Counter())[ch["status"]] += 1
    active = [ch for ch in champions if ch["status"] != "withdrawn"]
    return {
        "as_of": as_of.isoformat() if as_of else None,
        "networks": {
            "total": len(networks),
            "national": sum(1 for n in networks if n["scope"] == "national"),
            "regional": sum(1 for n in networks if n["scope"] == "regional"),
            "by_status": dict(sorted(by_status.items())),
            "by_kind": dict(sorted(Counter(n.get("kind") or "not-recorded" for n in networks).items())),
            "by_region": {region: dict(sorted(counts.items())) for region, counts in sorted(by_region.items())},
        },
        "champions": {
            "total": len(active),
            "by_status": dict(sorted(Counter(ch["status"] for ch in champions).items())),
            "by_regional_group": {g: dict(sorted(cnt.items())) for g, cnt in sorted(groups.items())},
            "geographic_balance": geographic_balance(champions),
            "countries": sorted(
                (
                    {
                        "country": ch["country"],
                        "country_name": ch["country_name"],
                        "regional_group": ch["regional_group"],
                        "status": ch["status"],
                    }
                    for ch in active
                ),
                key=lambda ch: (ch["regional_group"], ch["country_name"]),
            ),
        },
    }


async def directory_summary(db: AsyncDatabase, store: EventStore, q: c.DirectorySummary, today: date) -> dict:
    if q.as_of is not None and q.as_of > today:
        # Answering with today's directory would silently drop the date the user asked for.
        raise ValidationFailed(
            f"{q.as_of.isoformat()} is in the future (today is {today.isoformat()}): "
            "the directory can only be shown as it stood on a past date or today",
            field="as_of",
        )
    if q.as_of is None or q.as_of == today:
        networks = await db[NETWORKS.collection].find({}, _HIDDEN).to_list(None)
        champions = await db[CHAMPIONS.collection].find({}, _HIDDEN).to_list(None)
        return summarize(networks, champions, q.as_of)
    if q.as_of.year < 2018:
        raise Rejected("the Network was established in May 2018; ask for a date after that", field="as_of")

    def until(recorded) -> bool:
        return recorded.event.occurred_on <= q.as_of

    up_to = await store.last_seq()
    networks_then = await fold_stream(store, NETWORKS, up_to, include=until)
    champions_then = await fold_stream(store, CHAMPIONS, up_to, include=until)
    return summarize(networks_then.values(), champions_then.values(), q.as_of)
