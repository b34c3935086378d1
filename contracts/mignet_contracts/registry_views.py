"""What the registry's queries answer: its read-model documents, typed for clients and AsyncAPI.

Read models are projections and may gain fields; the views accept fields they do not
declare (a newer service answering an older client). ``RESULTS`` maps each query to its
answer; ``tests/integration/test_asyncapi_replies.py`` checks them against a running
registry.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from mignet_contracts import registry as rg
from mignet_contracts.envelope import Query


class View(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class StatusStep(View):
    status: str
    on: date
    reason: str | None = None


class Member(View):
    entity: str
    role: str
    joined_on: date


class FocalPoint(View):
    """PERSONAL DATA: answered to operators only (integrators cannot query).

    ``name`` and ``email`` are in get-network's answer only (read from the event store,
    "(erased)" once erased); list-networks has the entity and the date of assignment."""

    entity: str
    name: str | None = None
    email: str | None = None
    assigned_on: date | None = None


class TorView(View):
    """The latest terms-of-reference alignment (``registry.network.tor-aligned``)."""

    aligned_on: date
    consulted_executive_committee: bool
    consulted: list[str]
    not_consulted: list[str]
    agreed_by: list[str] | None = Field(description="Null: who agreed was not recorded (an old event).")
    not_agreed: list[str] | None
    complete: bool | None = Field(description="Agreed by every member and the whole committee consulted.")
    note: str | None = None


class NetworkView(View):
    network_id: str
    scope: str
    country: str | None
    country_name: str | None
    region: str | None
    regions: list[str]
    subregion: str | None
    name: str
    description: str | None
    status: str
    status_since: date
    status_history: list[StatusStep]
    created_on: date
    members: list[Member]
    member_count: int
    tor: TorView | None = Field(default=None, description="Absent on documents built before it was projected.")
    tor_aligned_on: date | None
    tor_consulted_executive_committee: bool | None
    focal_point: FocalPoint | None
    updated_at: datetime


class CriterionView(View):
    criterion: str
    met: bool
    note: str | None = None


class ChampionView(View):
    country: str
    country_name: str
    regional_group: str
    region: str
    status: str
    nominated_on: date
    confirmed_on: date | None
    withdrawn_on: date | None
    withdrawal_reason: str | None
    override_reason: str | None = None
    assessment: list[CriterionView]
    criteria_met: int
    existing_network_id: str | None
    network_id: str | None = Field(default=None, description="The national network as it is now, if any.")
    network_status: str | None = None
    updated_at: datetime


class NetworkPage(View):
    total: int
    items: list[NetworkView]


class ChampionPage(View):
    total: int
    items: list[ChampionView]


class NetworkCounts(View):
    total: int
    national: int
    regional: int
    by_status: dict[str, int]
    by_region: dict[str, dict[str, int]]


class ChampionEntry(View):
    country: str
    country_name: str
    regional_group: str
    status: str


class ChampionCounts(View):
    total: int
    by_status: dict[str, int]
    by_regional_group: dict[str, dict[str, int]]
    countries: list[ChampionEntry]


class DirectorySummaryView(View):
    as_of: date | None
    networks: NetworkCounts
    champions: ChampionCounts


RESULTS: dict[type[Query], type[View]] = {
    rg.ListNetworks: NetworkPage,
    rg.GetNetwork: NetworkView,
    rg.ListChampions: ChampionPage,
    rg.GetChampion: ChampionView,
    rg.DirectorySummary: DirectorySummaryView,
}
