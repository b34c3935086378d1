"""What the reviews service knows of the registry, projected from the REGISTRY stream.

The reviews service never reads the registry's database: it keeps its own
small mirror, fed by its own durable consumers on the registry's events, with
only what contribution pages show per country: does it have a national UN
network on migration (and in which status), and is it a champion country.

Regional networks, members, terms of reference and focal points (personal
data) are ignored. Documents are keyed by the upper-case ISO country code.
"""

from __future__ import annotations

from typing import Any

from mignet_contracts import registry as r
from mignet_contracts import working_groups as wg
from mignet_contracts.envelope import Event
from mignet_reviews.directory_mirror import DIRECTORY_CHAMPIONS, DIRECTORY_NETWORKS
from mignet_reviews.working_group_mirror import WORKING_GROUPS
from mignet_runtime.codec import EventCodec, RecordedEvent
from mignet_runtime.projection import Projection
from mignet_runtime.service import ForeignSource

Doc = dict[str, Any]

#: As the registry's champion criterion counts "an existing UN network on migration".
WORKING_NETWORK_STATUSES = frozenset({str(r.NetworkStatus.BEING_ESTABLISHED), str(r.NetworkStatus.ESTABLISHED)})
NATIONAL_PREFIX = "nat-"


def national_network_country(recorded: RecordedEvent) -> str | None:
    network_id = recorded.aggregate_id
    return network_id[len(NATIONAL_PREFIX) :].upper() if network_id.startswith(NATIONAL_PREFIX) else None


def apply_network(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    on = event.occurred_on.isoformat()
    if isinstance(event, r.NetworkCreated):
        return {
            "country": event.country,
            "network_id": event.network_id,
            "status": str(event.status),
            "status_since": on,
        }
    if doc is not None and isinstance(event, r.NetworkStatusChanged):
        doc.update(status=str(event.to_status), status_since=on)
        return doc
    return None  # nothing reviews shows changed


#: The status each champion event leaves the country in.
_CHAMPION_STATUS_AFTER: dict[type[Event], r.ChampionStatus] = {
    r.ChampionNominated: r.ChampionStatus.NOMINATED,
    r.ChampionConfirmed: r.ChampionStatus.CONFIRMED,
    r.ChampionWithdrawn: r.ChampionStatus.WITHDRAWN,
}


def apply_champion(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    on = event.occurred_on.isoformat()
    if not isinstance(event, (r.ChampionNominated, r.ChampionConfirmed, r.ChampionWithdrawn)):
        return None
    status = _CHAMPION_STATUS_AFTER[type(event)]
    if doc is None and status is not r.ChampionStatus.NOMINATED:
        return None
    return {"country": event.country, "status": str(status), "status_since": on}


NETWORKS = Projection(
    name="registry-networks",
    collection="registry_networks",
    subject_filter=r.NETWORK_EVENTS_SUBJECT,
    key=national_network_country,
    apply=apply_network,
)

CHAMPIONS = Projection(
    name="registry-champions",
    collection="registry_champions",
    subject_filter=r.CHAMPION_EVENTS_SUBJECT,
    key=lambda recorded: recorded.aggregate_id.upper(),
    apply=apply_champion,
)

#: The public directory's dated mirror (directory_mirror.py) and the working groups' pages
#: (working_group_mirror.py) read the same stream.
REGISTRY = ForeignSource(
    service=r.SERVICE,
    codec=EventCodec((*r.REGISTRY_EVENTS, *wg.WORKING_GROUP_EVENTS)),
    projections=(NETWORKS, CHAMPIONS, DIRECTORY_NETWORKS, DIRECTORY_CHAMPIONS, WORKING_GROUPS),
)

NO_COUNTRY: Doc = {
    "country_has_network": None,
    "network_status": None,
    "country_is_champion": None,
    "champion_status": None,
}


def facts(country: str | None, networks: dict[str, Doc], champions: dict[str, Doc]) -> Doc:
    """The registry facts shown with a contribution from ``country`` (None: a contributor without one)."""
    if country is None:
        return dict(NO_COUNTRY)
    network, champion = networks.get(country), champions.get(country)
    return {
        "country_has_network": bool(network and network["status"] in WORKING_NETWORK_STATUSES),
        "network_status": network["status"] if network else None,
        "country_is_champion": bool(champion and champion["status"] == str(r.ChampionStatus.CONFIRMED)),
        "champion_status": champion["status"] if champion else None,
    }


async def with_registry_facts(db, docs: list[Doc]) -> list[Doc]:
    """Adds the registry facts to contribution documents, read now so later registry events show."""
    countries = sorted({d["country"] for d in docs if d.get("country")})
    networks: dict[str, Doc] = {}
    champions: dict[str, Doc] = {}
    if countries:
        selector = {"_id": {"$in": countries}}
        networks = {d["_id"]: d async for d in db[NETWORKS.collection].find(selector)}
        champions = {d["_id"]: d async for d in db[CHAMPIONS.collection].find(selector)}
    for doc in docs:
        doc.update(facts(doc.get("country"), networks, champions))
    return docs
