"""The public directory's mirror of the registry: every network and champion with its dated history.

The FAQ's annex is "UN networks on migration as of October 2020"; the public
directory page shows the same as of any date. So that it can, these two
projections (fed by the reviews service's own durable consumers on the
REGISTRY stream; never the registry's database) keep, per network and per
champion country, each status with the business date (``occurred_on``) since
which it held, in stream order. Only what the public directory shows is kept:
scope, country, region, names and statuses of networks; regional group and
status of champions. Members, terms of reference and focal points (personal
data) are not mirrored at all.
"""

from __future__ import annotations

from typing import Any

from mignet_contracts import reference
from mignet_contracts import registry as r
from mignet_runtime.codec import RecordedEvent
from mignet_runtime.projection import Projection

Doc = dict[str, Any]


def network_region(event: r.NetworkCreated) -> str | None:
    """A regional network's region; a national network's is its country's (primary) commission region."""
    if event.region is not None:
        return str(event.region)
    if event.country is not None:
        return str(reference.country(event.country).primary_region)
    return None


def apply_network(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    on = event.occurred_on.isoformat()
    if isinstance(event, r.NetworkCreated):
        return {
            "network_id": event.network_id,
            "scope": str(event.scope),
            "country": event.country,
            "region": network_region(event),
            "created_on": on,
            "names": [{"since": on, "name": event.network_name}],
            "statuses": [{"since": on, "status": str(event.status)}],
        }
    if doc is None:
        return None
    if isinstance(event, r.NetworkStatusChanged):
        doc["statuses"].append({"since": on, "status": str(event.to_status)})
        return doc
    if isinstance(event, r.NetworkRenamed):
        doc["names"].append({"since": on, "name": event.network_name})
        return doc
    return None  # nothing the directory shows changed


_CHAMPION_STATUS_AFTER = {
    r.ChampionNominated: r.ChampionStatus.NOMINATED,
    r.ChampionConfirmed: r.ChampionStatus.CONFIRMED,
    r.ChampionWithdrawn: r.ChampionStatus.WITHDRAWN,
}


def apply_champion(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    status = _CHAMPION_STATUS_AFTER.get(type(event))
    if status is None:
        return None
    on = event.occurred_on.isoformat()
    if isinstance(event, r.ChampionNominated):
        doc = doc or {"country": event.country, "history": []}
        doc["history"].append({"since": on, "status": str(status), "regional_group": str(event.regional_group)})
        return doc
    if doc is None:
        return None
    group = doc["history"][-1]["regional_group"]
    doc["history"].append({"since": on, "status": str(status), "regional_group": group})
    return doc


DIRECTORY_NETWORKS = Projection(
    name="registry-directory-networks",
    collection="directory_networks",
    subject_filter=r.NETWORK_EVENTS_SUBJECT,
    key=lambda recorded: recorded.aggregate_id,
    apply=apply_network,
)

DIRECTORY_CHAMPIONS = Projection(
    name="registry-directory-champions",
    collection="directory_champions",
    subject_filter=r.CHAMPION_EVENTS_SUBJECT,
    key=lambda recorded: recorded.aggregate_id.upper(),
    apply=apply_champion,
)
