"""The registry's support requests (the FAQ's section 6): support to countries from the Network.

Aggregate ``support-request``, id ``sr-<12 hex>`` derived from the requesting
command's id (a retry targets the same request). Who may ask and for what is the
FAQ's: member states, UN country teams and country networks, for one or more of
its seven support measures (``reference.SUPPORT_MEASURES``). Extensions, not in
the FAQ: the lifecycle (requested, accepted, in progress, completed, declined)
and the assignment to a working group or a lead entity.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, model_validator

from mignet_contracts import reference
from mignet_contracts.envelope import Command, Event, Query
from mignet_contracts.fields import DEFAULT_PAGE, MAX_OFFSET, MAX_PAGE, CountryCode, matching, max_items
from mignet_contracts.reference import RegionCode
from mignet_contracts.registry import (
    SERVICE,
    EntityCode,
    Note,
    Reason,
    RegistryCommand,
    RegistryEvent,
    RegistryQuery,
)
from mignet_contracts.working_groups import GroupId

SUPPORT_REQUEST = "support-request"
SUPPORT_REQUEST_EVENTS_SUBJECT = f"{SERVICE}.events.{SUPPORT_REQUEST}.>"

#: Fixed forever: request ids derive from it.
REQUEST_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://mignet.un-migration.int/registry/support-requests")


def support_request_id(command_id: str) -> str:
    return "sr-" + uuid.uuid5(REQUEST_ID_NAMESPACE, command_id).hex[:12]


class Requester(StrEnum):
    """The FAQ: member states, UN country teams and country networks can draw on the support."""

    MEMBER_STATE = "member-state"
    UN_COUNTRY_TEAM = "un-country-team"
    NATIONAL_NETWORK = "national-network"


class SupportStatus(StrEnum):
    """Extension: the FAQ gives support no lifecycle."""

    REQUESTED = "requested"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    DECLINED = "declined"


def _measure(value: str) -> str:
    if value not in reference.SUPPORT_MEASURES:
        raise ValueError(f"unknown support measure {value!r}: expected one of {', '.join(reference.SUPPORT_MEASURES)}")
    return value


def _setting(value: str) -> str:
    if value not in reference.REVIEW_SETTINGS:
        raise ValueError(f"unknown review setting {value!r}: expected one of {', '.join(reference.REVIEW_SETTINGS)}")
    return value


def _objective(value: int) -> int:
    if value not in reference.GCM_OBJECTIVES:
        raise ValueError(f"unknown GCM objective {value}: the GCM's objectives are numbered 1 to 23")
    return value


def _sorted_unique(values: list) -> list:
    return sorted(set(values))


MeasureCode = Annotated[str, AfterValidator(_measure)]
RequestId = Annotated[str, *matching(r"^sr-[0-9a-f]{12}$", "a support request id", "'sr-' and 12 hex digits")]
Measures = Annotated[list[MeasureCode], Field(min_length=1, max_length=7), AfterValidator(_sorted_unique), max_items(7)]
Objectives = Annotated[
    list[Annotated[int, AfterValidator(_objective)]],
    Field(max_length=23),
    AfterValidator(_sorted_unique),
    max_items(23),
]
ReviewSettings = Annotated[
    list[Annotated[str, AfterValidator(_setting)]], Field(max_length=3), AfterValidator(_sorted_unique), max_items(3)
]


class _Request(RegistryCommand):
    """What a request asks; shared by the command and its event."""

    requester: Requester
    country: CountryCode
    measures: Measures = Field(description="One or more of the FAQ's seven support measures.")
    objectives: Objectives = Field(default_factory=list, description="The GCM objectives concerned (1-23).")
    review_settings: ReviewSettings = Field(
        default_factory=list, description="For review-and-reporting: the GCM regional reviews, the IMRF, the HLPF's."
    )
    uses_review_framework: bool = Field(
        default=False, description="Asks for the Network's framework for organizing regional reviews (FAQ annex 5)."
    )
    description: Note | None = None


# --- Events ------------------------------------------------------------------------------------


class SupportRequestEvent(RegistryEvent):
    aggregate: ClassVar[str] = SUPPORT_REQUEST
    id_field: ClassVar[str] = "request_id"

    request_id: RequestId


class SupportRequested(SupportRequestEvent):
    name: ClassVar[str] = "requested"

    requester: Requester
    country: CountryCode
    region: RegionCode
    measures: Measures
    objectives: Objectives = Field(default_factory=list)
    review_settings: ReviewSettings = Field(default_factory=list)
    uses_review_framework: bool = False
    description: Note | None = None
    network_id: Annotated[str, *matching(r"^nat-[a-z]{2}$", "a national network id", "nat-bd")] | None = Field(
        default=None, description="The requesting national network (requester national-network)."
    )
    champion: bool = Field(description="The country was a confirmed champion when it asked (champions get support).")


class SupportAccepted(SupportRequestEvent):
    name: ClassVar[str] = "accepted"

    working_group: GroupId | None = None
    lead_entity: EntityCode | None = None


class SupportStarted(SupportRequestEvent):
    name: ClassVar[str] = "started"


class SupportCompleted(SupportRequestEvent):
    name: ClassVar[str] = "completed"

    note: Note | None = None


class SupportDeclined(SupportRequestEvent):
    name: ClassVar[str] = "declined"

    reason: Reason


# --- Commands ------------------------------------------------------------------------------------


class RequestSupport(_Request):
    name: ClassVar[str] = "request-support"

    @property
    def request_id(self) -> str:
        return support_request_id(self.command_id)


class AcceptSupport(RegistryCommand):
    """Accepts a request, assigning it to a working group or a lead entity (exactly one)."""

    name: ClassVar[str] = "accept-support"

    request_id: RequestId
    working_group: GroupId | None = None
    lead_entity: EntityCode | None = None

    @model_validator(mode="after")
    def _one_assignee(self) -> AcceptSupport:
        if (self.working_group is None) == (self.lead_entity is None):
            raise ValueError("assign the request to exactly one of working_group or lead_entity")
        return self


class StartSupport(RegistryCommand):
    name: ClassVar[str] = "start-support"

    request_id: RequestId


class CompleteSupport(RegistryCommand):
    name: ClassVar[str] = "complete-support"

    request_id: RequestId
    note: Note | None = None


class DeclineSupport(RegistryCommand):
    name: ClassVar[str] = "decline-support"

    request_id: RequestId
    reason: Reason


# --- Queries ---------------------------------------------------------------------------------------


class ListSupportRequests(RegistryQuery):
    name: ClassVar[str] = "list-support-requests"

    country: CountryCode | None = None
    measure: MeasureCode | None = Field(default=None, description="Only requests for this support measure.")
    status: SupportStatus | None = None
    region: RegionCode | None = None
    requester: Requester | None = None
    champion: bool | None = None
    limit: int = Field(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class GetSupportRequest(RegistryQuery):
    name: ClassVar[str] = "get-support-request"

    request_id: RequestId


class SupportFigures(RegistryQuery):
    """Counts of requests by status, measure, region and requester, and champions' share."""

    name: ClassVar[str] = "support-figures"

    since: date | None = Field(default=None, description="Only requests made on or after this date.")


SUPPORT_EVENTS: tuple[type[Event], ...] = (
    SupportRequested,
    SupportAccepted,
    SupportStarted,
    SupportCompleted,
    SupportDeclined,
)
SUPPORT_COMMANDS: tuple[type[Command], ...] = (
    RequestSupport,
    AcceptSupport,
    StartSupport,
    CompleteSupport,
    DeclineSupport,
)
SUPPORT_QUERIES: tuple[type[Query], ...] = (ListSupportRequests, GetSupportRequest, SupportFigures)
