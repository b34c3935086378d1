"""The registry service's contracts: UN networks on migration and champion countries.

Aggregates:

* ``network``: one per national network (id ``nat-<cc>``, so the event store's
  optimistic concurrency keeps it to one per country: an extension, the FAQ
  does not limit a country to one network) or regional network
  (id ``reg-<12 hex>``, derived from the creating command's id so a retry
  targets the same aggregate);
* ``champion``: one per country, id the lower-case country code.

What the FAQ (October 2020) does not say is marked *extension* in the
descriptions: the ``inactive`` status, the ``co-lead`` role, the champion
lifecycle (nominated, confirmed, withdrawn) and one national network per country.
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
from mignet_contracts.fields import (
    DEFAULT_PAGE,
    MAX_OFFSET,
    MAX_PAGE,
    PERSONAL,
    CountryCode,
    PersonalEmail,
    matching,
    max_items,
)
from mignet_contracts.privacy import ErasureRequest, PersonalDataErasure
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
    """The FAQ's annex: networks under consideration, being established or established.

    ``inactive`` is an extension (not in the FAQ), for a network that stopped meeting.
    """

    UNDER_CONSIDERATION = "under-consideration"
    BEING_ESTABLISHED = "being-established"
    ESTABLISHED = "established"
    INACTIVE = "inactive"


class ChampionStatus(StrEnum):
    """Extension: the FAQ lists champion countries; nomination, confirmation and withdrawal are ours."""

    NOMINATED = "nominated"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"


class MemberRole(StrEnum):
    """A member entity's roles in a network; one entity may hold several (IOM in the global Network:
    executive-committee, coordinator and secretariat). ``co-lead`` is an extension, not in the FAQ.
    ``executive-committee`` (the eight entities of the FAQ) and ``executive-committee-invitee`` (WHO)
    exist only in the global Network."""

    COORDINATOR = "coordinator"
    CO_LEAD = "co-lead"
    MEMBER = "member"
    #: The FAQ: IOM coordinates the global Network and is also its secretariat
    #: (UNHCR and UNICEF second staff to it: reference.SECRETARIAT_SECONDMENTS).
    #: A secretariat of a country or regional network is an extension.
    SECRETARIAT = "secretariat"
    #: The global Network's core membership (ILO, IOM, OHCHR, UN DESA, UNDP, UNHCR, UNICEF, UNODC).
    EXECUTIVE_COMMITTEE = "executive-committee"
    #: Invited to the Executive Committee's meetings without being on it (WHO since COVID-19).
    EXECUTIVE_COMMITTEE_INVITEE = "executive-committee-invitee"


class NetworkKind(StrEnum):
    """What the FAQ distinguishes: new networks, existing UN migration platforms strengthened or
    aligned, UN issue-based coalitions (regional), and similar UN coordination mechanisms."""

    NEW_NETWORK = "new-network"
    STRENGTHENED_PLATFORM = "strengthened-platform"
    ISSUE_BASED_COALITION = "issue-based-coalition"
    COORDINATION_MECHANISM = "coordination-mechanism"


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
        raise ValueError(f"unknown champion regional group {value!r}: expected one of the FAQ's {expected}")
    return value


def _recorded_regional_group(value: str) -> str:
    if value in reference.RETIRED_CHAMPION_REGIONAL_GROUPS:
        return value
    return _regional_group(value)


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
#: In events: also the groups an earlier version accepted (reference.RETIRED_CHAMPION_REGIONAL_GROUPS).
RecordedRegionalGroup = Annotated[str, AfterValidator(_recorded_regional_group)]
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
    met: bool | None = Field(
        description="null: not assessed (the FAQ lists the 2020 champions without assessing them)."
    )
    note: Note | None = None


EntityList = Annotated[list[EntityCode], max_items(len(reference.UN_ENTITIES))]


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
    kind: NetworkKind | None = Field(default=None, description="Absent when not recorded (and on older events).")


class NetworkKindChanged(NetworkEvent):
    name: ClassVar[str] = "kind-changed"

    from_kind: NetworkKind | None = None
    kind: NetworkKind


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


class NetworkMemberRoleAdded(NetworkEvent):
    """A member takes on a further role (IOM: executive-committee, coordinator and secretariat)."""

    name: ClassVar[str] = "role-added"

    entity: EntityCode
    role: MemberRole


class NetworkMemberRoleRemoved(NetworkEvent):
    name: ClassVar[str] = "role-removed"

    entity: EntityCode
    role: MemberRole


class NetworkMemberLeft(NetworkEvent):
    name: ClassVar[str] = "member-left"

    entity: EntityCode
    reason: Reason | None = None


class NetworkTermsOfReferenceAlignedV1(NetworkEvent):
    """Version 1 of ``tor-aligned``: whether the Executive Committee was consulted, and (since the FAQ
    was read) optionally who agreed and who was consulted.

    Still read from the streams, and upcast to :class:`NetworkTermsOfReferenceAligned`
    (:data:`REGISTRY_UPCASTERS`); never written any more.
    """

    name: ClassVar[str] = "tor-aligned"
    version: ClassVar[int] = 1

    aligned_on: date
    consulted_executive_committee: bool
    note: Note | None = None
    agreed_by: EntityList | None = Field(
        default=None, description="The member entities that agreed (absent on older events: not recorded)."
    )
    consulted: EntityList | None = Field(
        default=None,
        description="The Executive Committee members and Network Coordinator consulted (absent on older events).",
    )
    not_agreed: EntityList | None = Field(
        default=None, description="Members of the network then that are not among agreed_by (a flag, not a refusal)."
    )
    not_consulted: EntityList | None = Field(
        default=None, description="Executive Committee members not consulted (a flag, not a refusal)."
    )


class NetworkTermsOfReferenceAligned(NetworkEvent):
    """The network aligned its terms of reference with the global ones (FAQ section 4): "with the
    agreement of all entities concerned, and in consultation with the Executive Committee members
    and the Network Coordinator" (IOM, itself a committee member). Gaps are flagged, not refused.

    Version 2: ``consulted`` and ``not_consulted`` always say who, as entities; v1's
    ``consulted_executive_committee`` is gone (it is ``not_consulted`` being empty).
    """

    name: ClassVar[str] = "tor-aligned"
    version: ClassVar[int] = 2

    aligned_on: date
    consulted: EntityList = Field(
        description="The Executive Committee members (the Network Coordinator, IOM, among them) consulted; empty: nobody."
    )
    not_consulted: EntityList = Field(description="Executive Committee members not consulted (a flag, not a refusal).")
    agreed_by: EntityList | None = Field(
        default=None,
        description="The member entities that agreed; null on events recorded before this was (upcast from v1).",
    )
    not_agreed: EntityList | None = Field(
        default=None,
        description="Members of the network then that are not among agreed_by (a flag, not a refusal); null when "
        "agreed_by is.",
    )
    note: Note | None = None


def _tor_aligned_v1_to_v2(event: Event) -> Event:
    """v1 to v2: who was consulted is v1's list when it has one, else the whole Executive Committee or
    nobody, as ``consulted_executive_committee`` said; who agreed stays unknown when it was not recorded."""
    assert isinstance(event, NetworkTermsOfReferenceAlignedV1)
    committee = list(reference.EXECUTIVE_COMMITTEE)
    if event.consulted is not None:
        consulted = list(event.consulted)
    else:
        consulted = committee if event.consulted_executive_committee else []
    not_consulted = (
        event.not_consulted if event.not_consulted is not None else [e for e in committee if e not in consulted]
    )
    return NetworkTermsOfReferenceAligned(
        network_id=event.network_id,
        aligned_on=event.aligned_on,
        consulted=consulted,
        not_consulted=not_consulted,
        agreed_by=event.agreed_by,
        not_agreed=event.not_agreed,
        note=event.note,
        occurred_on=event.occurred_on,
    )


class NetworkFocalPointAssigned(NetworkEvent):
    name: ClassVar[str] = "focal-point-assigned"
    public: ClassVar[bool] = False

    focal_point_name: Annotated[PersonName, PERSONAL]
    entity: EntityCode
    email: PersonalEmail


class NetworkPersonalDataErased(PersonalDataErasure, NetworkEvent):
    """The network's focal point data (every focal point it had) was erased: the record, without the data."""

    name: ClassVar[str] = "personal-data-erased"
    public: ClassVar[bool] = False


class ChampionNominated(ChampionEvent):
    name: ClassVar[str] = "nominated"

    regional_group: RecordedRegionalGroup
    assessment: list[CriterionAssessment]
    existing_network_id: NetworkId | None = None


class ChampionConfirmed(ChampionEvent):
    name: ClassVar[str] = "confirmed"

    criteria_met: int | None = Field(
        default=None,
        ge=0,
        le=len(reference.CHAMPION_CRITERIA),
        description="How many criteria the nomination's assessment met (absent on early events).",
    )
    override_reason: Reason | None = Field(
        default=None, description="Why the country was confirmed although not every criterion was met or assessed."
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
    kind: NetworkKind | None = None
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


class AddMemberRole(RegistryCommand):
    name: ClassVar[str] = "add-member-role"

    network_id: NetworkId
    entity: EntityCode
    role: MemberRole


class RemoveMemberRole(RegistryCommand):
    name: ClassVar[str] = "remove-member-role"

    network_id: NetworkId
    entity: EntityCode
    role: MemberRole


class ClassifyNetwork(RegistryCommand):
    name: ClassVar[str] = "classify-network"

    network_id: NetworkId
    kind: NetworkKind


class RemoveNetworkMember(RegistryCommand):
    name: ClassVar[str] = "remove-network-member"

    network_id: NetworkId
    entity: EntityCode
    reason: Reason | None = None


class AlignTermsOfReference(RegistryCommand):
    """Records that a network aligned its terms of reference with the global ones.

    The FAQ *encourages* alignment, "with the agreement of all entities concerned
    and in consultation with the Executive Committee members and the Network
    Coordinator": who agreed and who was consulted are recorded, and an alignment
    without them is recorded with its gaps flagged, not refused.
    ``occurred_on`` defaults to ``aligned_on``.
    """

    name: ClassVar[str] = "align-terms-of-reference"

    network_id: NetworkId
    aligned_on: date
    consulted_executive_committee: bool | None = Field(
        default=None, description="Default: whether ``consulted`` covers the whole Executive Committee."
    )
    agreed_by: EntityList = Field(default_factory=list, description="Member entities that agreed.")
    consulted: EntityList = Field(
        default_factory=list, description="Executive Committee members (the Coordinator, IOM, among them) consulted."
    )
    note: Note | None = None


class AssignFocalPoint(RegistryCommand):
    name: ClassVar[str] = "assign-focal-point"

    network_id: NetworkId
    focal_point_name: Annotated[PersonName, PERSONAL]
    entity: EntityCode
    email: PersonalEmail


class ErasePersonalData(ErasureRequest, RegistryCommand):
    """Erase the personal data of a network: the name and e-mail of every focal point it had."""

    name: ClassVar[str] = "erase-personal-data"

    network_id: NetworkId


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
    kind: NetworkKind | None = None
    member: EntityCode | None = Field(default=None, description="Only networks this UN entity is a member of.")
    role: MemberRole | None = Field(
        default=None, description="Only networks where a member holds this role (with member: that member)."
    )
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
    NetworkMemberRoleAdded,
    NetworkMemberRoleRemoved,
    NetworkKindChanged,
    NetworkPersonalDataErased,
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
    AddMemberRole,
    RemoveMemberRole,
    ClassifyNetwork,
    ErasePersonalData,
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
