"""Working groups: members (UN entities and stakeholders), outputs, and the networks piloting them.

Pure: no I/O and no clock. The network a pilot names arrives as context, loaded
from the event store by the command handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from mignet_contracts import reference
from mignet_contracts.envelope import Event
from mignet_contracts.registry import SERVICE, NetworkScope, NetworkStatus
from mignet_contracts.working_groups import (
    WORKING_GROUP,
    AddOutput,
    ChangeOutputStatus,
    CreateWorkingGroup,
    EndPilot,
    GroupMember,
    JoinWorkingGroup,
    LeaveWorkingGroup,
    OutputAdded,
    OutputPilotEnded,
    OutputPilotStarted,
    OutputStatus,
    OutputStatusChanged,
    PilotOutput,
    UnEntityMember,
    WorkingGroupCreated,
    WorkingGroupMemberJoined,
    WorkingGroupMemberLeft,
)
from mignet_registry.domain.network import NetworkState, describe_network
from mignet_registry.domain.wording import entity_name
from mignet_registry.domain.wording import words as _words
from mignet_runtime.aggregate import AggregateType, event_date
from mignet_runtime.errors import NotFound, Rejected

OS = OutputStatus
#: Published is final; a draft may go straight to published.
OUTPUT_TRANSITIONS: dict[OutputStatus, frozenset[OutputStatus]] = {
    OS.DRAFT: frozenset({OS.IN_REVIEW, OS.PUBLISHED}),
    OS.IN_REVIEW: frozenset({OS.DRAFT, OS.PUBLISHED}),
    OS.PUBLISHED: frozenset(),
}


@dataclass(frozen=True)
class Pilot:
    network_id: str
    started_on: date
    ended_on: date | None = None


@dataclass(frozen=True)
class Output:
    id: str
    title: str
    status: OutputStatus
    added_on: date
    pilots: tuple[Pilot, ...] = ()

    def active_pilot(self, network_id: str) -> Pilot | None:
        return next((p for p in self.pilots if p.network_id == network_id and p.ended_on is None), None)


@dataclass(frozen=True)
class WorkingGroupState:
    id: str
    exists: bool = False
    name: str | None = None
    core: bool = False
    workstream: str | None = None
    created_on: date | None = None
    #: member key -> (member, lead); never mutated.
    members: dict[str, tuple[GroupMember, bool]] = field(default_factory=dict)
    outputs: dict[str, Output] = field(default_factory=dict)


def initial_working_group(aggregate_id: str) -> WorkingGroupState:
    return WorkingGroupState(id=aggregate_id)


def _with_output(state: WorkingGroupState, output: Output) -> WorkingGroupState:
    return replace(state, outputs={**state.outputs, output.id: output})


def _pilot_ended(output: Output, event: OutputPilotEnded) -> Output:
    pilots = tuple(
        replace(p, ended_on=event.ended_on) if p.network_id == event.network_id and p.ended_on is None else p
        for p in output.pilots
    )
    return replace(output, pilots=pilots)


def evolve_working_group(state: WorkingGroupState, event: Event) -> WorkingGroupState:
    match event:
        case WorkingGroupCreated():
            return replace(
                state,
                exists=True,
                name=event.group_name,
                core=event.core,
                workstream=event.workstream,
                created_on=event.occurred_on,
            )
        case WorkingGroupMemberJoined():
            return replace(state, members={**state.members, event.member.key: (event.member, event.lead)})
        case WorkingGroupMemberLeft():
            return replace(state, members={k: v for k, v in state.members.items() if k != event.member.key})
        case OutputAdded():
            return _with_output(state, Output(event.output_id, event.title, OS.DRAFT, event.occurred_on))
        case OutputStatusChanged() if event.output_id in state.outputs:
            return _with_output(state, replace(state.outputs[event.output_id], status=event.to_status))
        case OutputPilotStarted() if event.output_id in state.outputs:
            output = state.outputs[event.output_id]
            pilot = Pilot(event.network_id, event.started_on)
            return _with_output(state, replace(output, pilots=(*output.pilots, pilot)))
        case OutputPilotEnded() if event.output_id in state.outputs:
            return _with_output(state, _pilot_ended(state.outputs[event.output_id], event))
    return state


WORKING_GROUP_AGGREGATE: AggregateType[WorkingGroupState] = AggregateType(
    service=SERVICE, name=WORKING_GROUP, initial=initial_working_group, evolve=evolve_working_group
)


# --- Checks -------------------------------------------------------------------------------------


def _describe(state: WorkingGroupState) -> str:
    return f"the working group {state.name!r} ({state.id})" if state.name else f"working group {state.id}"


def _existing(state: WorkingGroupState) -> WorkingGroupState:
    if not state.exists:
        raise NotFound(f"there is no working group {state.id}", field="group_id")
    return state


def _output(state: WorkingGroupState, output_id: str) -> Output:
    _existing(state)
    if output_id not in state.outputs:
        raise NotFound(f"{_describe(state)} has no output {output_id}", field="output_id")
    return state.outputs[output_id]


def _member_name(member: GroupMember) -> str:
    if isinstance(member, UnEntityMember):
        return entity_name(member.entity)
    return f"{member.organization} ({member.category})"


def _check_faq_group(command: CreateWorkingGroup) -> None:
    """The FAQ's own groups keep the FAQ's core/thematic split and workstream."""
    ref = reference.WORKING_GROUPS.get(command.group_id)
    if ref and (command.core, command.workstream) != (ref.core, ref.workstream):
        kind = "a core" if ref.core else "a thematic"
        raise Rejected(
            f"{command.group_id} is {kind} working group of the FAQ, for workstream {ref.workstream or 'none'}",
            field="workstream",
        )
    if command.core and command.workstream not in (None, *reference.CORE_WORKSTREAMS):
        raise Rejected("a core working group serves a core workstream (2.1 or 2.2) or none", field="workstream")
    if not command.core and command.workstream not in reference.THEMATIC_WORKSTREAMS:
        raise Rejected("a thematic working group serves one of the thematic workstreams", field="workstream")


# --- Deciders -----------------------------------------------------------------------------------


def create_working_group(
    state: WorkingGroupState, command: CreateWorkingGroup, today: date, **context: Any
) -> list[Event]:
    if state.exists:
        raise Rejected(f"{_describe(state)} already exists", field="group_id")
    _check_faq_group(command)
    return [
        WorkingGroupCreated(
            group_id=state.id,
            group_name=command.group_name,
            core=command.core,
            workstream=command.workstream,
            description=command.description,
            occurred_on=event_date(command, today),
        )
    ]


def join_working_group(state: WorkingGroupState, command: JoinWorkingGroup, today: date, **context: Any) -> list[Event]:
    _existing(state)
    if command.member.key in state.members:
        raise Rejected(f"{_member_name(command.member)} is already a member of {_describe(state)}", field="member")
    on = event_date(command, today)
    _not_before(state.created_on, on, f"joining {_describe(state)}")
    return [WorkingGroupMemberJoined(group_id=state.id, member=command.member, lead=command.lead, occurred_on=on)]


def leave_working_group(
    state: WorkingGroupState, command: LeaveWorkingGroup, today: date, **context: Any
) -> list[Event]:
    _existing(state)
    if command.member.key not in state.members:
        raise Rejected(f"{_member_name(command.member)} is not a member of {_describe(state)}", field="member")
    on = event_date(command, today)
    _not_before(state.created_on, on, f"leaving {_describe(state)}")
    return [WorkingGroupMemberLeft(group_id=state.id, member=command.member, reason=command.reason, occurred_on=on)]


def add_output(state: WorkingGroupState, command: AddOutput, today: date, **context: Any) -> list[Event]:
    _existing(state)
    if command.output_id in state.outputs:
        raise Rejected(f"output {command.output_id} was already added to {_describe(state)}", field="command_id")
    if any(o.title.casefold() == command.title.casefold() for o in state.outputs.values()):
        raise Rejected(f"{_describe(state)} already has an output titled {command.title!r}", field="title")
    on = event_date(command, today)
    _not_before(state.created_on, on, "an output")
    return [
        OutputAdded(
            group_id=state.id,
            output_id=command.output_id,
            kind=command.kind,
            title=command.title,
            description=command.description,
            occurred_on=on,
        )
    ]


def change_output_status(
    state: WorkingGroupState, command: ChangeOutputStatus, today: date, **context: Any
) -> list[Event]:
    output = _output(state, command.output_id)
    if command.status == output.status:
        raise Rejected(f"output {output.id} is already {_words(output.status)}", field="status")
    if command.status not in OUTPUT_TRANSITIONS[output.status]:
        raise Rejected(
            f"output {output.id} cannot go from {_words(output.status)} to {_words(command.status)}"
            + ("; published is final" if output.status is OS.PUBLISHED else ""),
            field="status",
        )
    on = event_date(command, today)
    _not_before(output.added_on, on, "a status change of the output")
    return [
        OutputStatusChanged(
            group_id=state.id,
            output_id=output.id,
            from_status=output.status,
            to_status=command.status,
            occurred_on=on,
        )
    ]


def pilot_output(
    state: WorkingGroupState,
    command: PilotOutput,
    today: date,
    *,
    network: NetworkState | None = None,
    **context: Any,
) -> list[Event]:
    """``network`` is the state of the network named by ``command.network_id``, existing or not."""
    output = _output(state, command.output_id)
    if network is None or not network.exists:
        raise NotFound(f"there is no network {command.network_id}", field="network_id")
    if network.id != command.network_id:
        raise ValueError(f"pilot-output for {command.network_id} was given network {network.id}")
    if network.scope == NetworkScope.GLOBAL:
        raise Rejected(
            "country and regional networks pilot working-group outputs, not the global Network", field="network_id"
        )
    if network.status == NetworkStatus.INACTIVE:
        raise Rejected(f"{describe_network(network)} is inactive", field="network_id")
    if (active := output.active_pilot(network.id)) is not None:
        raise Rejected(
            f"{describe_network(network)} has been piloting output {output.id} since {active.started_on.isoformat()}",
            field="network_id",
        )
    started = _day(command.started_on or command.occurred_on, today, "started_on")
    _not_before(output.added_on, started, "a pilot of the output", "started_on")
    _not_before(network.created_on, started, f"a pilot by {describe_network(network)}", "started_on")
    return [
        OutputPilotStarted(
            group_id=state.id,
            output_id=output.id,
            network_id=network.id,
            started_on=started,
            occurred_on=event_date(command, today, default=started),
        )
    ]


def end_pilot(state: WorkingGroupState, command: EndPilot, today: date, **context: Any) -> list[Event]:
    output = _output(state, command.output_id)
    pilot = output.active_pilot(command.network_id)
    if pilot is None:
        raise Rejected(f"network {command.network_id} is not piloting output {output.id}", field="network_id")
    ended = _day(command.ended_on or command.occurred_on, today, "ended_on")
    _not_before(pilot.started_on, ended, "the end of the pilot", "ended_on")
    return [
        OutputPilotEnded(
            group_id=state.id,
            output_id=output.id,
            network_id=command.network_id,
            ended_on=ended,
            note=command.note,
            occurred_on=event_date(command, today, default=ended),
        )
    ]


def _day(day: date | None, today: date, field_name: str) -> date:
    if day is None:
        return today
    if day > today:
        raise Rejected(f"{day.isoformat()} is in the future (today is {today.isoformat()})", field=field_name)
    return day


def _not_before(first: date | None, on: date, what: str, field_name: str = "occurred_on") -> None:
    if first and on < first:
        raise Rejected(f"{what} on {on.isoformat()} would come before {first.isoformat()}", field=field_name)
