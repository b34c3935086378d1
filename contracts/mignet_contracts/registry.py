"""The registry service's contracts: UN networks on migration and champion countries.

Aggregates:

* ``network``: one per national network (id ``nat-<cc>``, so the event store's
  optimistic concurrency keeps it to one per country) or regional network
  (id ``reg-<12 hex>``, derived from the creating command's id so a retry
  targets the same aggregate);
* ``champion``: one per country, id the lower-case country code.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from mignet_contracts import reference
from mignet_contracts.envelope import Command, Contract, Event, Query
from mignet_contracts.fields import DEFAULT_PAGE, MAX_OFFSET, MAX_PAGE, CountryCode, Email, matching, max_items
from mignet_contracts.reference import RegionCode

SERVICE = "registry"
EVENTS_SUBJECT = f"{SERVICE}.events.>"
NETWORK_EVENTS_SUBJECT = f"{SERVICE}.events.network.>"
CHAMPION_EVENTS_SUBJECT = f"{SERVICE}.events.champion.>"
COMMANDS_SUBJECT = f"{SERVICE}.commands.*"
QUERIES_SUBJECT = f"{SERVICE}.queries.*"

NETWORK = "network"
CHAMPION = "champion"

#: Fixed forever: regional network ids derive from it, so changing it would
#: make a retried create-network target a new aggregate.
NETWORK_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://mignet.un-migration.int/registry/networks")


#: The global UN Network on Migration itself; its members are the Executive Committee and the broader membership.
GLOBAL_NETWORK_ID = "global"


def national_network_id(country: str) -> str:
    return f"nat-{reference.country(country).code.lower()}"


def regional_network_id(command_id: str) -> str:
    return "reg-" + uuid.uuid5(NETWORK_ID_NAMESPACE, command_id).hex[:12]


def champion_id(country: str) -> str:
    return reference.country(country).code.lower()


# --- Enumerations ------------------------------------------------------------------


class NetworkScope(StrEnum):
    GLOBAL = "global"
    NATIONAL = "national"
    REGIONAL = "regional"


class NetworkStatus(StrEnum):
    UNDER_CONSIDERATION = "under-consideration"
    BEING_ESTABLISHED = "being-established"
    ESTABLISHED = "established"
    INACTIVE = "inactive"


class ChampionStatus(StrEnum):
    NOMINATED = "nominated"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"


class MemberRole(StrEnum):
    COORDINATOR = "coordinator"
    CO_LEAD = "co-lead"
    MEMBER = "member"
    #: The FAQ: IOM coordinates the Network and is also its secretariat, with
    #: staff seconded by UNHCR and UNICEF; country networks mirror this.
    SECRETARIAT = "secretariat"
    #: The global Network's core membership (ILO, IOM, OHCHR, UN DESA, UNDP, UNHCR, UNICEF, UNODC).
    EXECUTIVE_COMMITTEE = "executive-committee"
    #: Invited to the Executive Committee's meetings without being on it (WHO since COVID-19).
    EXECUTIVE_COMMITTEE_INVITEE = "executive-committee-invitee"


# --- Validated field types -----------------------------------------------------------


def _entity_code(value: str) -> str:
    code = value.upper()
    if code not in reference.UN_ENTITIES:
        raise ValueError(f"unknown UN entity {value!r}: expected one of {', '.join(reference.UN_ENTITIES)}")
    return code


def _criterion(value: str) -> str:
    if value not in reference.CHAMPION_CRITERIA:
        expected = ", ".join(reference.CHAMPION_CRITERIA)
        raise ValueError(f"unknown champion criterion {value!r}: expected one of {expected}")
    return value


def _regional_group(value: str) -> str:
    if value not in reference.CHAMPION_REGIONAL_GROUPS:
        expected = ", ".join(reference.CHAMPION_REGIONAL_GROUPS)
        raise ValueError(f"unknown champion regional group {value!r}: expected one of {expected}")
    return value


# Tabs and line breaks only: these strings end up in directory pages and e-mails.
_NO_CONTROL_CHARACTERS = r"^[^\x00-\x08\x0b-\x1f\x7f]+$"


def _text(max_length: int) -> StringConstraints:
    return StringConstraints(min_length=1, max_length=max_length, pattern=_NO_CONTROL_CHARACTERS)


EntityCode = Annotated[
    str,
    *matching(r"^[A-Za-z][A-Za-z0-9-]{1,15}$", "a UN entity code", "an acronym such as 'IOM' or 'UNHCR'"),
    AfterValidator(_entity_code),
]
CriterionCode = Annotated[str, AfterValidator(_criterion)]
RegionalGroup = Annotated[str, AfterValidator(_regional_group)]
NetworkId = Annotated[
    str,
    *matching(
        r"^(global|nat-[a-z]{2}|reg-[0-9a-f]{12})$",
        "a network id",
        "'global', 'nat-' and a lower-case country code (nat-bd), or 'reg-' and 12 hex digits",
    ),
]
NetworkName = Annotated[str, _text(200)]
PersonName = Annotated[str, _text(200)]
Subregion = Annotated[str, _text(100)]
Reason = Annotated[str, _text(1000)]
Note = Annotated[str, _text(2000)]


class Membership(Contract):
    entity: EntityCode
    role: MemberRole = MemberRole.MEMBER


class CriterionAssessment(Contract):
    criterion: CriterionCode
    met: bool
    note: Note | None = None


# --- Events --------------------------------------------------------------------------


class RegistryEvent(Event):
    service: ClassVar[str] = SERVICE


class NetworkEvent(RegistryEvent):
    aggregate: ClassVar[str] = NETWORK
    id_field: ClassVar[str] = "network_id"

    network_id: NetworkId


class ChampionEvent(RegistryEvent):
    aggregate: ClassVar[str] = CHAMPION
    id_field: ClassVar[str] = "country"

    country: CountryCode

    @property
    def aggregate_id(self) -> str:
        # The payload keeps the upper-case ISO code; aggregate ids and subjects are lower case.
        return self.country.lower()


class NetworkCreated(NetworkEvent):
    name: ClassVar[str] = "created"

    # ``name`` is taken: every message's class variable holding its own name.
    scope: NetworkScope
    country: CountryCode | None = None
    region: RegionCode | None = None
    network_name: NetworkName
    status: NetworkStatus
    subregion: Subregion | None = None
    description: Note | None = None


class NetworkStatusChanged(NetworkEvent):
    name: ClassVar[str] = "status-changed"

    from_status: NetworkStatus
    to_status: NetworkStatus
    reason: Reason | None = None


class NetworkRenamed(NetworkEvent):
    name: ClassVar[str] = "renamed"

    from_name: NetworkName
    network_name: NetworkName


class NetworkDescriptionChanged(NetworkEvent):
    name: ClassVar[str] = "description-changed"

    description: Note | None = Field(default=None, description="The new description; null removes it.")


class NetworkMemberJoined(NetworkEvent):
    name: ClassVar[str] = "member-joined"

    entity: EntityCode
    role: MemberRole


class NetworkMemberLeft(NetworkEvent):
    name: ClassVar[str] = "member-left"

    entity: EntityCode
    reason: Reason | None = None


class TorConsultee(StrEnum):
    """Whom a forum consults on aligning its terms of reference (FAQ: the Executive Committee and the Network Coordinator)."""

    EXECUTIVE_COMMITTEE = "executive-committee"
    NETWORK_COORDINATOR = "network-coordinator"


class NetworkTermsOfReferenceAlignedV1(NetworkEvent):
    """Version 1 of ``tor-aligned``, recorded until v2: only whether the Executive Committee was consulted.

    Still read from the streams, and upcast to :class:`NetworkTermsOfReferenceAligned`
    (:data:`REGISTRY_UPCASTERS`); never written any more.
    """

    name: ClassVar[str] = "tor-aligned"
    version: ClassVar[int] = 1

    aligned_on: date
    consulted_executive_committee: bool
    note: Note | None = None


class NetworkTermsOfReferenceAligned(NetworkEvent):
    """The network aligned its terms of reference with the global ones, consulting whom it says.

    Version 2: ``consulted`` lists who was consulted (v1's ``consulted_executive_committee``
    could not say the Network Coordinator was).
    """

    name: ClassVar[str] = "tor-aligned"
    version: ClassVar[int] = 2

    aligned_on: date
    consulted: list[TorConsultee] = Field(max_length=len(TorConsultee), description="Empty: nobody was consulted.")
    note: Note | None = None


def _tor_aligned_v1_to_v2(event: Event) -> Event:
    assert isinstance(event, NetworkTermsOfReferenceAlignedV1)
    return NetworkTermsOfReferenceAligned(
        network_id=event.network_id,
        aligned_on=event.aligned_on,
        consulted=[TorConsultee.EXECUTIVE_COMMITTEE] if event.consulted_executive_committee else [],
        note=event.note,
        occurred_on=event.occurred_on,
    )


class NetworkFocalPointAssigned(NetworkEvent):
    name: ClassVar[str] = "focal-point-assigned"
    public: ClassVar[bool] = False

    focal_point_name: PersonName
    entity: EntityCode
    email: Email


class ChampionNominated(ChampionEvent):
    name: ClassVar[str] = "nominated"

    regional_group: RegionalGroup
    assessment: list[CriterionAssessment]
    existing_network_id: NetworkId | None = None


class ChampionConfirmed(ChampionEvent):
    name: ClassVar[str] = "confirmed"

    criteria_met: int | None = Field(
        default=None,
        ge=0,
        le=len(reference.CHAMPION_CRITERIA),
        description="How many of the six criteria the nomination's assessment met (absent on early events).",
    )
    override_reason: Reason | None = Field(
        default=None, description="Why the country was confirmed although not every criterion was met."
    )


class ChampionWithdrawn(ChampionEvent):
    name: ClassVar[str] = "withdrawn"

    reason: Reason


# --- Commands ------------------------------------------------------------------------


class RegistryCommand(Command):
    service: ClassVar[str] = SERVICE

    occurred_on: date | None = Field(
        default=None,
        description="When it happened in the world, for back-filling history; defaults to today; never in the future.",
    )


class CreateNetwork(RegistryCommand):
    name: ClassVar[str] = "create-network"

    scope: NetworkScope
    country: CountryCode | None = None
    region: RegionCode | None = None
    network_name: NetworkName
    subregion: Subregion | None = None
    description: Note | None = None
    status: NetworkStatus = NetworkStatus.UNDER_CONSIDERATION
    members: Annotated[list[Membership], max_items(len(reference.UN_ENTITIES))] = Field(
        default_factory=list, max_length=len(reference.UN_ENTITIES)
    )

    @model_validator(mode="after")
    def _scope_matches_place(self) -> CreateNetwork:
        # Malformed rather than a business rule: without this the aggregate id cannot be derived.
        if self.scope != NetworkScope.REGIONAL and self.subregion is not None:
            raise ValueError("a subregion applies to regional networks only")
        if self.scope == NetworkScope.GLOBAL:
            if self.country is not None or self.region is not None:
                raise ValueError("the global network has neither a country nor a region")
        elif self.scope == NetworkScope.NATIONAL:
            if self.country is None or self.region is not None:
                raise ValueError("a national network needs a country and no region")
        elif self.region is None or self.country is not None:
            raise ValueError("a regional network needs a region and no country")
        return self

    @property
    def network_id(self) -> str:
        if self.scope == NetworkScope.GLOBAL:
            return GLOBAL_NETWORK_ID
        if self.scope == NetworkScope.NATIONAL:
            assert self.country is not None, "_scope_matches_place requires a country for a national network"
            return national_network_id(self.country)
        return regional_network_id(self.command_id)


class ChangeNetworkStatus(RegistryCommand):
    name: ClassVar[str] = "change-network-status"

    network_id: NetworkId
    status: NetworkStatus
    reason: Reason | None = None


class RenameNetwork(RegistryCommand):
    name: ClassVar[str] = "rename-network"

    network_id: NetworkId
    network_name: NetworkName


class ChangeNetworkDescription(RegistryCommand):
    name: ClassVar[str] = "change-network-description"

    network_id: NetworkId
    description: Note | None = Field(default=None, description="The new description; null removes it.")


class AddNetworkMember(RegistryCommand):
    name: ClassVar[str] = "add-network-member"

    network_id: NetworkId
    entity: EntityCode
    role: MemberRole = MemberRole.MEMBER


class RemoveNetworkMember(RegistryCommand):
    name: ClassVar[str] = "remove-network-member"

    network_id: NetworkId
    entity: EntityCode
    reason: Reason | None = None


class AlignTermsOfReference(RegistryCommand):
    """Records that the network aligned its terms of reference with the global ones.

    ``occurred_on`` defaults to ``aligned_on``.
    """

    name: ClassVar[str] = "align-terms-of-reference"

    network_id: NetworkId
    aligned_on: date
    consulted_executive_committee: bool
    consulted_network_coordinator: bool = False
    note: Note | None = None


class AssignFocalPoint(RegistryCommand):
    name: ClassVar[str] = "assign-focal-point"

    network_id: NetworkId
    focal_point_name: PersonName
    entity: EntityCode
    email: Email


class NominateChampion(RegistryCommand):
    name: ClassVar[str] = "nominate-champion"

    country: CountryCode
    regional_group: RegionalGroup
    assessment: Annotated[list[CriterionAssessment], max_items(2 * len(reference.CHAMPION_CRITERIA))] = Field(
        max_length=2 * len(reference.CHAMPION_CRITERIA)
    )


class ConfirmChampion(RegistryCommand):
    name: ClassVar[str] = "confirm-champion"

    country: CountryCode
    override_reason: Reason | None = Field(
        default=None,
        description="Required when the nomination did not meet all six criteria: why confirm it anyway.",
    )


class WithdrawChampion(RegistryCommand):
    name: ClassVar[str] = "withdraw-champion"

    country: CountryCode
    reason: Reason


# --- Queries -------------------------------------------------------------------------


class RegistryQuery(Query):
    service: ClassVar[str] = SERVICE


class ListNetworks(RegistryQuery):
    name: ClassVar[str] = "list-networks"

    scope: NetworkScope | None = None
    region: RegionCode | None = None
    country: CountryCode | None = None
    status: NetworkStatus | None = None
    member: EntityCode | None = Field(default=None, description="Only networks this UN entity is a member of.")
    name_contains: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        default=None, description="Only networks whose name contains this text (case-insensitive)."
    )
    limit: int = Field(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class GetNetwork(RegistryQuery):
    name: ClassVar[str] = "get-network"

    network_id: NetworkId


class ListChampions(RegistryQuery):
    name: ClassVar[str] = "list-champions"

    regional_group: RegionalGroup | None = None
    status: ChampionStatus | None = None


class GetChampion(RegistryQuery):
    name: ClassVar[str] = "get-champion"

    country: CountryCode


class DirectorySummary(RegistryQuery):
    name: ClassVar[str] = "directory-summary"

    as_of: date | None = Field(default=None, description="The directory as it stood on this date; today if omitted.")


# --- Catalogues ----------------------------------------------------------------------

REGISTRY_EVENTS: tuple[type[Event], ...] = (
    NetworkCreated,
    NetworkStatusChanged,
    NetworkRenamed,
    NetworkDescriptionChanged,
    NetworkMemberJoined,
    NetworkMemberLeft,
    NetworkTermsOfReferenceAligned,
    NetworkFocalPointAssigned,
    ChampionNominated,
    ChampionConfirmed,
    ChampionWithdrawn,
)
REGISTRY_COMMANDS: tuple[type[Command], ...] = (
    CreateNetwork,
    ChangeNetworkStatus,
    RenameNetwork,
    ChangeNetworkDescription,
    AddNetworkMember,
    RemoveNetworkMember,
    AlignTermsOfReference,
    AssignFocalPoint,
    NominateChampion,
    ConfirmChampion,
    WithdrawChampion,
)
REGISTRY_QUERIES: tuple[type[Query], ...] = (ListNetworks, GetNetwork, ListChampions, GetChampion, DirectorySummary)
#: Earlier versions still in the stream, each with the function that turns it into the next version.
REGISTRY_UPCASTERS: dict[type[Event], Callable[[Event], Event]] = {
    NetworkTermsOfReferenceAlignedV1: _tor_aligned_v1_to_v2,
}

_EVENTS_BY_NAME: dict[tuple[str, str], type[Event]] = {(e.aggregate, e.name): e for e in REGISTRY_EVENTS}


def event_class(aggregate: str, name: str) -> type[Event]:
    try:
        return _EVENTS_BY_NAME[(aggregate, name)]
    except KeyError:
        raise KeyError(f"no registry event {aggregate}.{name}") from None
