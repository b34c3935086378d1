"""Working groups as pure deciders and their read model: members, outputs, pilots on both sides."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from mignet_contracts import reference as ref
from mignet_contracts import registry as c
from mignet_contracts import working_groups as wg
from mignet_contracts.envelope import new_id
from mignet_registry import domain
from mignet_registry.domain import NETWORK, WORKING_GROUP_AGGREGATE
from mignet_registry.working_group_views import WORKING_GROUPS
from mignet_runtime.codec import RecordedEvent
from mignet_runtime.errors import NotFound, Rejected
from mignet_runtime.projection import fold

TODAY = date(2024, 6, 1)
ON = date(2021, 1, 10)
MFA = {"kind": "stakeholder", "category": "migrant-diaspora", "organization": "Migrant Forum in Asia"}


def cmd(model, **fields):
    return model(**({"command_id": new_id(), "actor": "ops", "group_id": "data"} | fields))


def network(network_id="nat-bd", scope="national", status="established"):
    place = {"country": "BD"} if scope == "national" else {"region": "asia-pacific"} if scope == "regional" else {}
    created = c.NetworkCreated(
        network_id=network_id, scope=scope, network_name="n", status=status, occurred_on=date(2020, 1, 1), **place
    )
    return NETWORK.fold(network_id, [created])


def decide(commands, state=None, **context):
    """Decides each command in turn on one working group; returns the events and the final state."""
    state = state or WORKING_GROUP_AGGREGATE.initial("data")
    events = []
    for command in commands:
        _, decider = domain.DECIDERS[type(command)]
        new = decider(state, command, TODAY, **context)
        for event in new:
            state = WORKING_GROUP_AGGREGATE.evolve(state, event)
        events += new
    return events, state


def data_group(**fields):
    defaults = {"group_name": "Data", "core": False, "workstream": "data", "occurred_on": date(2020, 10, 31)}
    return cmd(wg.CreateWorkingGroup, **(defaults | fields))


def rejected(commands, state=None, **context) -> str:
    with pytest.raises((Rejected, NotFound)) as excinfo:
        decide(commands, state, **context)
    return excinfo.value.message


def test_members_are_un_entities_and_stakeholders_by_the_faqs_categories():
    add = [
        data_group(),
        cmd(wg.JoinWorkingGroup, member={"kind": "un-entity", "entity": "iom"}, lead=True),
        cmd(wg.JoinWorkingGroup, member=MFA),
    ]
    events, state = decide(add)
    assert [e.name for e in events] == ["created", "member-joined", "member-joined"]
    assert set(state.members) == {"IOM", "migrant-diaspora:migrant forum in asia"}
    assert state.members["IOM"][1] is True
    again = {**MFA, "organization": "MIGRANT FORUM IN ASIA"}
    assert "already a member" in rejected([cmd(wg.JoinWorkingGroup, member=again)], state)
    _, state = decide([cmd(wg.LeaveWorkingGroup, member=MFA)], state)
    assert set(state.members) == {"IOM"}
    assert "is not a member" in rejected([cmd(wg.LeaveWorkingGroup, member=MFA)], state)
    with pytest.raises(ValidationError):
        cmd(wg.JoinWorkingGroup, member={"kind": "stakeholder", "category": "lobbyists", "organization": "x"})
    with pytest.raises(ValidationError):
        cmd(wg.JoinWorkingGroup, member={"kind": "un-entity", "entity": "NASA"})


def test_the_faqs_groups_keep_their_split_and_workstream():
    assert "is a thematic working group of the FAQ, for workstream data" in rejected([data_group(workstream="2.1")])
    assert "is a thematic working group" in rejected([data_group(core=True)])
    kp = cmd(wg.CreateWorkingGroup, group_id="knowledge-platform", group_name="KP", core=True, workstream=None)
    (created,), _ = decide([kp], WORKING_GROUP_AGGREGATE.initial("knowledge-platform"))
    assert created.workstream is None
    new = cmd(wg.CreateWorkingGroup, group_id="climate", group_name="Climate", core=False, workstream=None)
    assert rejected([new]) == "a thematic working group serves one of the thematic workstreams"
    _, state = decide([data_group()])
    assert rejected([data_group()], state) == "the working group 'Data' (data) already exists"


def test_outputs_go_from_draft_to_published_and_published_is_final():
    add = cmd(wg.AddOutput, kind="tool", title="Toolkit on data disaggregation")
    (created, added), state = decide([data_group(), add])
    assert added.output_id == add.output_id and state.outputs[add.output_id].status is wg.OutputStatus.DRAFT
    assert "already has an output titled" in rejected([cmd(wg.AddOutput, kind="data", title=add.title.upper())], state)
    status = lambda s: cmd(wg.ChangeOutputStatus, output_id=add.output_id, status=s)  # noqa: E731
    _, state = decide([status("in-review"), status("published")], state)
    assert state.outputs[add.output_id].status is wg.OutputStatus.PUBLISHED
    assert (
        rejected([status("draft")], state)
        == f"output {add.output_id} cannot go from published to draft; published is final"
    )
    assert rejected([cmd(wg.ChangeOutputStatus, output_id="o-000000000000", status="published")], state) == (
        "the working group 'Data' (data) has no output o-000000000000"
    )


def test_a_country_or_regional_network_pilots_an_output_with_dates():
    add = cmd(wg.AddOutput, kind="guidance", title="Guidance", occurred_on=ON)
    _, state = decide([data_group(), add])
    pilot = cmd(wg.PilotOutput, output_id=add.output_id, network_id="nat-bd", started_on=date(2021, 3, 1))
    (started,), state = decide([pilot], state, network=network())
    assert (started.network_id, started.started_on) == ("nat-bd", date(2021, 3, 1))
    assert "has been piloting output" in rejected([pilot], state, network=network())
    end = cmd(wg.EndPilot, output_id=add.output_id, network_id="nat-bd", ended_on=date(2021, 2, 1))
    assert rejected([end], state) == "the end of the pilot on 2021-02-01 would come before 2021-03-01"
    end = cmd(wg.EndPilot, output_id=add.output_id, network_id="nat-bd", ended_on=date(2022, 2, 1), note="done")
    _, state = decide([end], state)
    assert state.outputs[add.output_id].pilots[0].ended_on == date(2022, 2, 1)
    assert "is not piloting" in rejected([end], state)
    regional = cmd(wg.PilotOutput, output_id=add.output_id, network_id="reg-0123456789ab")
    decide([regional], state, network=network("reg-0123456789ab", "regional"))


def test_pilot_refusals():
    add = cmd(wg.AddOutput, kind="tool", title="Tool", occurred_on=ON)
    _, state = decide([data_group(), add])
    pilot = lambda network_id, **kw: cmd(wg.PilotOutput, output_id=add.output_id, network_id=network_id, **kw)  # noqa: E731
    assert rejected([pilot("nat-np")], state, network=NETWORK.initial("nat-np")) == "there is no network nat-np"
    assert "not the global Network" in rejected([pilot("global")], state, network=network("global", "global"))
    inactive = NETWORK.evolve(
        network(),
        c.NetworkStatusChanged(network_id="nat-bd", from_status="established", to_status="inactive", occurred_on=ON),
    )
    assert (
        rejected([pilot("nat-bd")], state, network=inactive)
        == "the national network for Bangladesh (nat-bd) is inactive"
    )
    early = pilot("nat-bd", started_on=date(2021, 1, 1))
    assert (
        rejected([early], state, network=network())
        == "a pilot of the output on 2021-01-01 would come before 2021-01-10"
    )
    future = pilot("nat-bd", started_on=date(2024, 6, 2))
    assert rejected([future], state, network=network()) == "2024-06-02 is in the future (today is 2024-06-01)"


def recorded(seq, event):
    return RecordedEvent(
        seq, event.subject, event, f"e{seq}", datetime(2026, 1, 1, tzinfo=UTC), f"c{seq}", "t", None, None
    )


def test_a_new_group_document_has_its_counts_before_anyone_joins():
    (created,), _ = decide([data_group()])
    doc = fold(WORKING_GROUPS, [recorded(1, created)])["data"]
    assert (doc["member_count"], doc["member_entities"], doc["pilot_networks"]) == (0, [], [])


def test_the_read_model_shows_members_outputs_and_pilots_and_ignores_redelivery():
    add = cmd(wg.AddOutput, kind="tool", title="Tool", occurred_on=ON)
    events, _ = decide(
        [
            data_group(),
            cmd(wg.JoinWorkingGroup, member={"kind": "un-entity", "entity": "UNHCR"}, lead=True),
            cmd(wg.JoinWorkingGroup, member=MFA),
            add,
            cmd(wg.ChangeOutputStatus, output_id=add.output_id, status="published"),
        ]
    )
    (pilot,), _ = decide(
        [cmd(wg.PilotOutput, output_id=add.output_id, network_id="nat-bd", started_on=date(2021, 3, 1))],
        decide([data_group(), add, cmd(wg.ChangeOutputStatus, output_id=add.output_id, status="published")])[1],
        network=network(),
    )
    history = [recorded(i, e) for i, e in enumerate([*events, pilot], start=1)]
    doc = fold(WORKING_GROUPS, history)["data"]
    assert doc["member_entities"] == ["UNHCR"] and doc["member_count"] == 2
    assert [m.get("organization") for m in doc["members"]] == [None, "Migrant Forum in Asia"]
    [output] = doc["outputs"]
    assert (output["status"], output["pilots"]) == (
        "published",
        [{"network_id": "nat-bd", "started_on": "2021-03-01", "ended_on": None}],
    )
    assert doc["pilot_networks"] == ["nat-bd"] and doc["workstream_name"] == ref.WORKSTREAMS["data"]
    assert fold(WORKING_GROUPS, history[1:], docs=copy.deepcopy({"data": doc})) == {"data": doc}
