"""The registry's working groups (the FAQ's section 3): members, outputs, and the networks piloting them.

Aggregate ``working-group``, id the group's code (``data``, ``knowledge-platform``; a
new group picks its own). The FAQ: "for some workstreams, working groups were set up,
open to all Network members and to relevant stakeholders as in the GCM"; they prepare
"tools, data, information, analysis and guidance", which country networks can pilot
(section 6, "piloting of the relevant tools developed by the core and thematic working
groups"). Extensions, not in the FAQ: the outputs' lifecycle (draft, in review,
published) and the pilot's dates.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field

from mignet_contracts import reference
from mignet_contracts.envelope import Command, Contract, Event, Query
from mignet_contracts.fields import DEFAULT_PAGE, MAX_OFFSET, MAX_PAGE, matching
from mignet_contracts.registry import (
    SERVICE,
    EntityCode,
    NetworkId,
    Note,
    Reason,
    RegistryCommand,
    RegistryEvent,
    RegistryQuery,
    _text,
)

WORKING_GROUP = "working-group"
WORKING_GROUP_EVENTS_SUBJECT = f"{SERVICE}.events.{WORKING_GROUP}.>"

#: Fixed forever: output ids derive from it, so a retried add-output targets the same output.
OUTPUT_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://mignet.un-migration.int/registry/outputs")


def output_id(command_id: str) -> str:
    return "o-" + uuid.uuid5(OUTPUT_ID_NAMESPACE, command_id).hex[:12]


class OutputKind(StrEnum):
    """The FAQ: working groups prepare tools, data, analysis and guidance."""

    TOOL = "tool"
    DATA = "data"
    ANALYSIS = "analysis"
    GUIDANCE = "guidance"


class OutputStatus(StrEnum):
    """Extension: the FAQ gives outputs no lifecycle."""

    DRAFT = "draft"
    IN_REVIEW = "in-review"
    PUBLISHED = "published"


def _workstream(value: str) -> str:
    if value not in reference.WORKSTREAMS:
        raise ValueError(f"unknown workstream {value!r}: expected one of {', '.join(reference.WORKSTREAMS)}")
    return value


def _stakeholder_category(value: str) -> str:
    if value not in reference.STAKEHOLDER_CATEGORIES:
        expected = ", ".join(reference.STAKEHOLDER_CATEGORIES)
        raise ValueError(f"unknown stakeholder category {value!r}: expected one of {expected}")
    return value


GroupId = Annotated[
    str, *matching(r"^[a-z][a-z0-9-]{1,47}$", "a working group id", "lower-case letters, digits and hyphens: 'data'")
]
OutputId = Annotated[str, *matching(r"^o-[0-9a-f]{12}$", "an output id", "'o-' and 12 hex digits")]
WorkstreamCode = Annotated[str, AfterValidator(_workstream)]
StakeholderCategory = Annotated[str, AfterValidator(_stakeholder_category)]
GroupName = Annotated[str, _text(200)]
Title = Annotated[str, _text(300)]
Organization = Annotated[str, _text(300)]


class UnEntityMember(Contract):
    kind: Literal["un-entity"] = "un-entity"
    entity: EntityCode

    @property
    def key(self) -> str:
        return self.entity


class StakeholderMember(Contract):
    """A stakeholder "as in the GCM": one of the FAQ's categories, with its organisation's name."""

    kind: Literal["stakeholder"] = "stakeholder"
    category: StakeholderCategory
    organization: Organization

    @property
    def key(self) -> str:
        return f"{self.category}:{self.organization.casefold()}"


GroupMember = Annotated[UnEntityMember | StakeholderMember, Field(discriminator="kind")]


# --- Events ----------------------------------------------------------------------------------


class WorkingGroupEvent(RegistryEvent):
    aggregate: ClassVar[str] = WORKING_GROUP
    id_field: ClassVar[str] = "group_id"

    group_id: GroupId


class WorkingGroupCreated(WorkingGroupEvent):
    name: ClassVar[str] = "created"

    group_name: GroupName
    core: bool
    workstream: WorkstreamCode | None = Field(description="None: the knowledge platform serves a core priority.")
    description: Note | None = None


class WorkingGroupMemberJoined(WorkingGroupEvent):
    name: ClassVar[str] = "member-joined"

    member: GroupMember
    lead: bool = False


class WorkingGroupMemberLeft(WorkingGroupEvent):
    name: ClassVar[str] = "member-left"

    member: GroupMember
    reason: Reason | None = None


class OutputAdded(WorkingGroupEvent):
    name: ClassVar[str] = "output-added"

    output_id: OutputId
    kind: OutputKind
    title: Title
    description: Note | None = None


class OutputStatusChanged(WorkingGroupEvent):
    name: ClassVar[str] = "output-status-changed"

    output_id: OutputId
    from_status: OutputStatus
    to_status: OutputStatus


class OutputPilotStarted(WorkingGroupEvent):
    """A country or regional network pilots an output (the FAQ: country networks can pilot the tools)."""

    name: ClassVar[str] = "pilot-started"

    output_id: OutputId
    network_id: NetworkId
    started_on: date


class OutputPilotEnded(WorkingGroupEvent):
    name: ClassVar[str] = "pilot-ended"

    output_id: OutputId
    network_id: NetworkId
    ended_on: date
    note: Note | None = None


# --- Commands -----------------------------------------------------------------------------------


class CreateWorkingGroup(RegistryCommand):
    name: ClassVar[str] = "create-working-group"

    group_id: GroupId
    group_name: GroupName
    core: bool = False
    workstream: WorkstreamCode | None = None
    description: Note | None = None


class JoinWorkingGroup(RegistryCommand):
    name: ClassVar[str] = "join-working-group"

    group_id: GroupId
    member: GroupMember
    lead: bool = Field(default=False, description="Whether the member leads (or co-leads) the group.")


class LeaveWorkingGroup(RegistryCommand):
    name: ClassVar[str] = "leave-working-group"

    group_id: GroupId
    member: GroupMember
    reason: Reason | None = None


class AddOutput(RegistryCommand):
    name: ClassVar[str] = "add-output"

    group_id: GroupId
    kind: OutputKind
    title: Title
    description: Note | None = None

    @property
    def output_id(self) -> str:
        return output_id(self.command_id)


class ChangeOutputStatus(RegistryCommand):
    name: ClassVar[str] = "change-output-status"

    group_id: GroupId
    output_id: OutputId
    status: OutputStatus


class PilotOutput(RegistryCommand):
    """``started_on`` defaults to ``occurred_on``, itself defaulting to today."""

    name: ClassVar[str] = "pilot-output"

    group_id: GroupId
    output_id: OutputId
    network_id: NetworkId
    started_on: date | None = None


class EndPilot(RegistryCommand):
    name: ClassVar[str] = "end-pilot"

    group_id: GroupId
    output_id: OutputId
    network_id: NetworkId
    ended_on: date | None = None
    note: Note | None = None


# --- Queries --------------------------------------------------------------------------------------


class ListWorkingGroups(RegistryQuery):
    name: ClassVar[str] = "list-working-groups"

    core: bool | None = None
    workstream: WorkstreamCode | None = None
    member: EntityCode | None = Field(default=None, description="Only groups this UN entity is a member of.")


class GetWorkingGroup(RegistryQuery):
    name: ClassVar[str] = "get-working-group"

    group_id: GroupId


class ListPilots(RegistryQuery):
    """Pilots of working-group outputs, by network or group: the two sides of a pilot."""

    name: ClassVar[str] = "list-pilots"

    network_id: NetworkId | None = None
    group_id: GroupId | None = None
    limit: int = Field(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


WORKING_GROUP_EVENTS: tuple[type[Event], ...] = (
    WorkingGroupCreated,
    WorkingGroupMemberJoined,
    WorkingGroupMemberLeft,
    OutputAdded,
    OutputStatusChanged,
    OutputPilotStarted,
    OutputPilotEnded,
)
WORKING_GROUP_COMMANDS: tuple[type[Command], ...] = (
    CreateWorkingGroup,
    JoinWorkingGroup,
    LeaveWorkingGroup,
    AddOutput,
    ChangeOutputStatus,
    PilotOutput,
    EndPilot,
)
WORKING_GROUP_QUERIES: tuple[type[Query], ...] = (ListWorkingGroups, GetWorkingGroup, ListPilots)
