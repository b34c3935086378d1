"""The public directory as it stood on a date: pure functions over the directory mirror's documents.

What held on a day is the last entry, in stream order, whose business date is
on or before that day: the same rule as the registry's ``directory --as-of``,
which replays the stream keeping the events that occurred by then. A network
created after the day is not listed; a champion country withdrawn by then is
not listed either (the annex lists the champions, not the former ones).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from mignet_contracts import reference
from mignet_contracts import registry as r
from mignet_reviews.directory_mirror import DIRECTORY_CHAMPIONS, DIRECTORY_NETWORKS
from mignet_reviews.working_group_mirror import WORKING_GROUPS

Doc = dict[str, Any]

#: The order statuses are shown in: working networks first.
NETWORK_STATUSES: tuple[str, ...] = tuple(
    str(s)
    for s in (
        r.NetworkStatus.ESTABLISHED,
        r.NetworkStatus.BEING_ESTABLISHED,
        r.NetworkStatus.UNDER_CONSIDERATION,
        r.NetworkStatus.INACTIVE,
    )
)
WITHDRAWN = str(r.ChampionStatus.WITHDRAWN)


def held_on(history: list[Doc], day: str) -> Doc | None:
    """The entry that held on ``day`` (ISO date): the last one, in recorded order, dated on or before it."""
    found = None
    for entry in history:
        if entry["since"] <= day:
            found = entry
    return found


def networks_on(docs: list[Doc], day: str) -> list[Doc]:
    networks = []
    for doc in docs:
        status, name = held_on(doc["statuses"], day), held_on(doc["names"], day)
        if doc["created_on"] > day or status is None or name is None:
            continue
        networks.append(
            {
                "network_id": doc["network_id"],
                "scope": doc["scope"],
                "country": doc["country"],
                "region": doc["region"],
                "name": name["name"],
                "status": status["status"],
                "status_since": status["since"],
            }
        )
    return networks


def champions_on(docs: list[Doc], day: str) -> list[Doc]:
    champions = []
    for doc in docs:
        entry = held_on(doc["history"], day)
        if entry is None or entry["status"] == WITHDRAWN:
            continue
        champions.append({"country": doc["country"], **entry})
    return champions


def pilots_on(groups: Sequence[Doc], day: str) -> dict[str, list[Doc]]:
    """The working-group outputs each network was piloting on ``day``, by network id (the other side of
    the working groups' pages: a pilot shows on the group and on the network)."""
    piloting: dict[str, list[Doc]] = {}
    for group in groups:
        for output in group["outputs"]:
            for pilot in output["pilots"]:
                if pilot["started_on"] <= day and (pilot["ended_on"] is None or pilot["ended_on"] >= day):
                    piloting.setdefault(pilot["network_id"], []).append(
                        {
                            "group": {"group_id": group["group_id"], "name": group["name"]},
                            "output_id": output["output_id"],
                            "title": output["title"],
                            "started_on": pilot["started_on"],
                        }
                    )
    for pilots in piloting.values():
        pilots.sort(key=lambda p: (p["started_on"], p["output_id"]))
    return piloting


def directory(networks: list[Doc], champions: list[Doc], day: date, working_groups: Sequence[Doc] = ()) -> Doc:
    """Networks by region and status (with the outputs they were piloting), champion countries by regional
    group, as they stood on ``day``."""
    iso = day.isoformat()
    listed = networks_on(networks, iso)
    status_rank = {status: rank for rank, status in enumerate(NETWORK_STATUSES)}
    regions = []
    for region in reference.REGIONS:
        here = [n for n in listed if n["region"] == str(region) and n["scope"] != str(r.NetworkScope.GLOBAL)]
        # Within a status: the regional networks first, then the national ones by country.
        here.sort(
            key=lambda n: (status_rank.get(n["status"], 99), n["scope"] != "regional", n["country"] or "", n["name"])
        )
        regions.append({"region": str(region), "counts": Counter(n["status"] for n in here), "networks": here})
    active = champions_on(champions, iso)
    groups = []
    for group in reference.CHAMPION_REGIONAL_GROUPS:
        countries = sorted((ch for ch in active if ch["regional_group"] == group), key=lambda ch: ch["country"])
        if countries:
            groups.append({"group": group, "countries": countries})
    return {
        "as_of": iso,
        "global": [n for n in listed if n["scope"] == str(r.NetworkScope.GLOBAL)],
        "regions": regions,
        "statuses": NETWORK_STATUSES,
        "network_total": sum(len(region["networks"]) for region in regions),
        "champion_groups": groups,
        "champion_total": len(active),
        "pilots": pilots_on(working_groups, iso),
    }


async def load(db) -> tuple[list[Doc], list[Doc], list[Doc]]:
    """The mirrors' documents (a few hundred at most: one per network, champion country and working group)."""
    networks = await db[DIRECTORY_NETWORKS.collection].find({}, {"_id": 0, "_seq": 0}).to_list(None)
    champions = await db[DIRECTORY_CHAMPIONS.collection].find({}, {"_id": 0, "_seq": 0}).to_list(None)
    selector = {"pilot_networks.0": {"$exists": True}}  # only groups with a pilot
    groups = await db[WORKING_GROUPS.collection].find(selector, {"_id": 0, "_seq": 0}).to_list(None)
    return networks, champions, groups
