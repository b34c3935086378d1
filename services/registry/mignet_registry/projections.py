"""Read models of the registry: pure functions of (document, event).

Dates are stored as ISO strings: BSON has no date-only type, and ISO dates
sort and compare correctly as text.
"""

from __future__ import annotations

from typing import Any

from mignet_contracts import reference
from mignet_contracts import registry as c
from mignet_runtime.codec import RecordedEvent
from mignet_runtime.projection import Projection

Doc = dict[str, Any]


def _regions_of(country: str | None, region: str | None) -> list[str]:
    if region:
        return [region]
    if country:
        return [str(r) for r in reference.country(country).regions]
    return []


def apply_network(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    on = event.occurred_on.isoformat()
    if isinstance(event, c.NetworkCreated):
        return {
            "network_id": event.network_id,
            "scope": str(event.scope),
            "country": event.country,
            "country_name": reference.country(event.country).name if event.country else None,
            "region": _regions_of(event.country, event.region)[0] if (event.country or event.region) else None,
            "regions": _regions_of(event.country, event.region),
            "subregion": event.subregion,
            "name": event.network_name,
            "description": event.description,
            "status": str(event.status),
            "status_since": on,
            "status_history": [{"status": str(event.status), "on": on}],
            "created_on": on,
            "members": [],
            "member_count": 0,
            "tor_aligned_on": None,
            "tor_consulted": None,
            "tor_consulted_executive_committee": None,
            "focal_point": None,
            "updated_at": recorded.recorded_at.isoformat(),
        }
    if doc is None:
        return None  # an event without its creation: nothing sensible to show
    doc["updated_at"] = recorded.recorded_at.isoformat()
    if isinstance(event, c.NetworkStatusChanged):
        doc["status"] = str(event.to_status)
        doc["status_since"] = on
        doc["status_history"].append({"status": str(event.to_status), "on": on, "reason": event.reason})
    elif isinstance(event, c.NetworkRenamed):
        doc["name"] = event.network_name
    elif isinstance(event, c.NetworkDescriptionChanged):
        doc["description"] = event.description
    elif isinstance(event, c.NetworkMemberJoined):
        doc["members"] = [m for m in doc["members"] if m["entity"] != event.entity]
        doc["members"].append({"entity": event.entity, "role": str(event.role), "joined_on": on})
    elif isinstance(event, c.NetworkMemberLeft):
        doc["members"] = [m for m in doc["members"] if m["entity"] != event.entity]
        if doc.get("focal_point") and doc["focal_point"]["entity"] == event.entity:
            doc["focal_point"] = None
    elif isinstance(event, c.NetworkTermsOfReferenceAligned):
        doc["tor_aligned_on"] = event.aligned_on.isoformat()
        doc["tor_consulted"] = [str(who) for who in event.consulted]
        doc["tor_consulted_executive_committee"] = c.TorConsultee.EXECUTIVE_COMMITTEE in event.consulted
    elif isinstance(event, c.NetworkFocalPointAssigned):
        doc["focal_point"] = {"name": event.focal_point_name, "entity": event.entity, "email": event.email}
    doc["member_count"] = len(doc["members"])
    return doc


def apply_champion(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    on = event.occurred_on.isoformat()
    if isinstance(event, c.ChampionNominated):
        country = reference.country(event.country)
        return {
            "country": country.code,
            "country_name": country.name,
            "regional_group": event.regional_group,
            "region": str(country.primary_region),
            "status": str(c.ChampionStatus.NOMINATED),
            "nominated_on": on,
            "confirmed_on": None,
            "withdrawn_on": None,
            "withdrawal_reason": None,
            "assessment": [a.model_dump(mode="json") for a in event.assessment],
            "criteria_met": sum(1 for a in event.assessment if a.met),
            "existing_network_id": event.existing_network_id,
            "updated_at": recorded.recorded_at.isoformat(),
        }
    if doc is None:
        return None
    doc["updated_at"] = recorded.recorded_at.isoformat()
    if isinstance(event, c.ChampionConfirmed):
        doc["status"] = str(c.ChampionStatus.CONFIRMED)
        doc["confirmed_on"] = on
        doc["override_reason"] = event.override_reason
    elif isinstance(event, c.ChampionWithdrawn):
        doc["status"] = str(c.ChampionStatus.WITHDRAWN)
        doc["withdrawn_on"] = on
        doc["withdrawal_reason"] = event.reason
    return doc


NETWORKS = Projection(
    name="networks",
    collection="networks",
    subject_filter=c.NETWORK_EVENTS_SUBJECT,
    key=lambda r: r.aggregate_id,
    apply=apply_network,
    indexes=(("scope",), ("regions",), ("country",), ("status",), ("members.entity",), ("name",)),
)

CHAMPIONS = Projection(
    name="champions",
    collection="champions",
    subject_filter=c.CHAMPION_EVENTS_SUBJECT,
    key=lambda r: r.aggregate_id,
    apply=apply_champion,
    indexes=(("regional_group",), ("status",)),
)

PROJECTIONS = (NETWORKS, CHAMPIONS)
