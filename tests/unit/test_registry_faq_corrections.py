"""The registry read against the Arabic FAQ: several roles, the Executive Committee only in the global
Network, terms of reference with who agreed and who was consulted, network kinds, champion checks, the seed."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from mignet_contracts import reference as ref
from mignet_contracts import registry as c
from mignet_contracts.envelope import new_id
from mignet_registry import domain
from mignet_registry.domain import CHAMPION, NETWORK
from mignet_registry.seed import seed_commands
from mignet_runtime.errors import Rejected

TODAY = date(2024, 6, 1)
ON = date(2020, 3, 1)


def cmd(model, **fields):
    return model(**({"command_id": new_id(), "actor": "ops"} | fields))


def decide_all(commands, states=None):
    """Runs commands through the deciders the way the service does, folding each aggregate."""
    states = dict(states or {})
    for command in commands:
        aggregate, aggregate_id = domain.target_of(command)
        _, decide = domain.DECIDERS[type(command)]
        state = states.get(aggregate_id) or aggregate.initial(aggregate_id)
        context = {}
        if isinstance(command, c.NominateChampion):
            network_id = c.national_network_id(command.country)
            context["national_network"] = states.get(network_id) or NETWORK.initial(network_id)
        for event in decide(state, command, TODAY, **context):
            state = aggregate.evolve(state, event)
        states[aggregate_id] = state
    return states


def global_network(**fields):
    members = [{"entity": "IOM", "role": "coordinator"}, {"entity": "ILO", "role": "executive-committee"}]
    defaults = {
        "scope": "global",
        "network_name": "United Nations Network on Migration",
        "status": "established",
        "members": members,
        "occurred_on": ON,
    }
    return cmd(c.CreateNetwork, **(defaults | fields))


def bangladesh(**fields):
    fields = {"members": [{"entity": "IOM", "role": "coordinator"}, {"entity": "UNDP"}]} | fields
    return cmd(
        c.CreateNetwork, scope="national", country="BD", network_name="UNNM Bangladesh", occurred_on=ON, **fields
    )


def rejection(command, states) -> str:
    with pytest.raises(Rejected) as excinfo:
        decide_all([command], states)
    return excinfo.value.message


# --- several roles ---------------------------------------------------------------------------


def test_iom_is_coordinator_committee_member_and_secretariat_of_the_global_network():
    states = decide_all(
        [
            global_network(),
            cmd(c.AddMemberRole, network_id="global", entity="IOM", role="executive-committee"),
            cmd(c.AddMemberRole, network_id="global", entity="IOM", role="secretariat"),
        ]
    )
    iom = states["global"].members["IOM"]
    assert iom == (c.MemberRole.COORDINATOR, c.MemberRole.EXECUTIVE_COMMITTEE, c.MemberRole.SECRETARIAT)
    assert states["global"].holder(c.MemberRole.SECRETARIAT) == "IOM"


def test_committee_roles_exist_only_in_the_global_network_and_only_for_the_faqs_entities():
    states = decide_all([global_network(), bangladesh()])
    wfp = cmd(c.AddNetworkMember, network_id="nat-bd", entity="WFP", role="executive-committee")
    assert rejection(wfp, states) == "the role executive-committee exists only in the global UN Network on Migration"
    wfp_global = cmd(c.AddNetworkMember, network_id="global", entity="WFP", role="executive-committee")
    assert rejection(wfp_global, states).startswith("the FAQ gives the role executive-committee to ILO, IOM, OHCHR")
    unicef_invited = cmd(c.AddNetworkMember, network_id="global", entity="UNICEF", role="executive-committee-invitee")
    assert rejection(unicef_invited, states) == (
        "the FAQ gives the role executive-committee-invitee to WHO only, not to UNICEF"
    )
    with pytest.raises(Rejected, match="exists only in the global"):
        decide_all([bangladesh(members=[{"entity": "UNHCR", "role": "executive-committee"}])])
    # WHO is invited, not a member of the committee.
    who = cmd(c.AddNetworkMember, network_id="global", entity="WHO", role="executive-committee-invitee")
    states = decide_all([who], states)
    both = cmd(c.AddMemberRole, network_id="global", entity="WHO", role="executive-committee")
    assert rejection(both, states).startswith("the FAQ gives the role executive-committee to ILO")


def test_the_global_networks_secretariat_and_coordinator_are_iom():
    states = decide_all([global_network(members=[{"entity": "UNDP"}, {"entity": "IOM"}])])
    undp = cmd(c.AddMemberRole, network_id="global", entity="UNDP", role="secretariat")
    assert rejection(undp, states) == "the FAQ names IOM as the global Network's secretariat, not UNDP"
    undp = cmd(c.AddMemberRole, network_id="global", entity="UNDP", role="coordinator")
    assert rejection(undp, states) == "the FAQ names IOM as the global Network's coordinator, not UNDP"


def test_roles_are_added_and_removed_and_a_member_stays_a_member():
    states = decide_all([bangladesh()])
    states = decide_all([cmd(c.AddMemberRole, network_id="nat-bd", entity="UNDP", role="co-lead")], states)
    assert states["nat-bd"].members["UNDP"] == (c.MemberRole.CO_LEAD,)
    again = cmd(c.AddMemberRole, network_id="nat-bd", entity="UNDP", role="co-lead")
    assert rejection(again, states) == "UNDP already holds the role co-lead"
    second_coordinator = cmd(c.AddMemberRole, network_id="nat-bd", entity="UNDP", role="coordinator")
    assert rejection(second_coordinator, states) == "the network already has a coordinator: IOM"
    outsider = cmd(c.AddMemberRole, network_id="nat-bd", entity="UNICEF", role="co-lead")
    assert rejection(outsider, states) == "UNICEF is not a member of the national network for Bangladesh (nat-bd)"
    states = decide_all([cmd(c.RemoveMemberRole, network_id="nat-bd", entity="UNDP", role="co-lead")], states)
    assert states["nat-bd"].members["UNDP"] == (c.MemberRole.MEMBER,)
    not_held = cmd(c.RemoveMemberRole, network_id="nat-bd", entity="UNDP", role="co-lead")
    assert "does not hold the role co-lead" in rejection(not_held, states)
    plain = cmd(c.RemoveMemberRole, network_id="nat-bd", entity="UNDP", role="member")
    assert rejection(plain, states) == "to end a membership, use remove-member"


def test_old_streams_with_a_committee_member_outside_the_global_network_still_fold():
    # Accepted by an earlier version (WFP on Bangladesh's "executive committee"): events are immutable.
    created = c.NetworkCreated(
        network_id="nat-bd", scope="national", country="BD", network_name="n", status="established", occurred_on=ON
    )
    joined = c.NetworkMemberJoined(network_id="nat-bd", entity="WFP", role="executive-committee", occurred_on=ON)
    state = NETWORK.fold("nat-bd", [created, joined])
    assert state.members == {"WFP": (c.MemberRole.EXECUTIVE_COMMITTEE,)}


# --- terms of reference ---------------------------------------------------------------------------


def align(**fields):
    return cmd(c.AlignTermsOfReference, **({"network_id": "nat-bd", "aligned_on": date(2021, 1, 5)} | fields))


def test_alignment_records_who_agreed_and_who_was_consulted_and_flags_the_gaps():
    states = decide_all([bangladesh()])
    states = decide_all([align(agreed_by=["IOM"], consulted=["IOM", "UNHCR"])], states)
    tor = states["nat-bd"].tor
    assert (tor.agreed_by, tor.consulted, tor.not_agreed) == (("IOM",), ("IOM", "UNHCR"), ("UNDP",))
    assert tor.not_consulted == ("ILO", "OHCHR", "UNDESA", "UNDP", "UNICEF", "UNODC")
    assert tor.complete is False and tor.consulted_executive_committee is False
    full = align(aligned_on=date(2022, 1, 5), agreed_by=["IOM", "UNDP"], consulted=list(ref.EXECUTIVE_COMMITTEE))
    states = decide_all([full], states)
    assert states["nat-bd"].tor.complete is True and states["nat-bd"].tor.consulted_executive_committee is True


def test_the_earlier_form_of_the_command_means_the_whole_committee_was_consulted():
    states = decide_all([bangladesh(), align(consulted_executive_committee=True)])
    tor = states["nat-bd"].tor
    assert tor.consulted == ref.EXECUTIVE_COMMITTEE and tor.not_consulted == ()
    assert tor.not_agreed == ("IOM", "UNDP")  # nobody recorded as agreeing: flagged


def test_alignment_refuses_strangers_contradictions_and_the_global_network():
    states = decide_all([bangladesh(), global_network()])
    assert rejection(align(agreed_by=["WFP"]), states) == (
        "the entities concerned are the network's members; WFP is not a member of "
        "the national network for Bangladesh (nat-bd)"
    )
    assert "WHO is not among them" in rejection(align(consulted=["WHO"]), states)
    assert rejection(align(consulted=["IOM", "IOM"]), states) == "listed more than once: IOM"
    contradiction = align(consulted=["IOM"], consulted_executive_committee=True)
    assert "only some of its members" in rejection(contradiction, states)
    global_alignment = align(network_id="global")
    assert rejection(global_alignment, states).startswith("the global Network's terms of reference are the ones")


# --- kinds ----------------------------------------------------------------------------------------


def test_network_kinds():
    states = decide_all([bangladesh(kind="strengthened-platform")])
    assert states["nat-bd"].kind is c.NetworkKind.STRENGTHENED_PLATFORM
    coalition = cmd(c.ClassifyNetwork, network_id="nat-bd", kind="issue-based-coalition")
    assert rejection(coalition, states) == "UN issue-based coalitions are regional; a national network cannot be one"
    same = cmd(c.ClassifyNetwork, network_id="nat-bd", kind="strengthened-platform")
    assert (
        rejection(same, states)
        == "the national network for Bangladesh (nat-bd) is already recorded as strengthened platform"
    )
    states = decide_all([cmd(c.ClassifyNetwork, network_id="nat-bd", kind="new-network")], states)
    assert states["nat-bd"].kind is c.NetworkKind.NEW_NETWORK
    with pytest.raises(Rejected, match="not classified by kind"):
        decide_all([global_network(kind="new-network")])
    regional = cmd(c.CreateNetwork, scope="regional", region="africa", network_name="IBC", kind="issue-based-coalition")
    states = decide_all([regional])
    assert states[regional.network_id].kind is c.NetworkKind.ISSUE_BASED_COALITION


# --- champions ------------------------------------------------------------------------------------


def nominate(country, group, **fields):
    assessment = [{"criterion": code, "met": True} for code in ref.COUNTRY_CHAMPION_CRITERIA]
    assessment[2]["note"] = "UNCT thematic group on migration"  # existing-un-network: a similar mechanism
    return cmd(c.NominateChampion, country=country, regional_group=group, assessment=assessment, **fields)


def test_the_regional_group_must_be_the_countrys():
    assert rejection(nominate("CA", "west-africa"), {}) == (
        "Canada is not in the champion regional group west-africa; it belongs to western-european-and-others"
    )
    assert "falls in none of the FAQ's six" in rejection(nominate("RU", "asia-pacific"), {})
    states = decide_all([nominate("CA", "western-european-and-others")])
    assert states["ca"].regional_group == "western-european-and-others"


def test_champions_are_member_states_not_observers():
    assert rejection(nominate("PS", "middle-east-north-africa"), {}) == (
        "champion countries are member states; State of Palestine is an observer state"
    )
    assert "Holy See is an observer state" in rejection(nominate("VA", "western-european-and-others"), {})


def test_geographic_balance_is_not_assessed_per_country():
    command = nominate("BD", "asia-pacific")
    command.assessment.append(c.CriterionAssessment(criterion="geographic-balance", met=True))
    assert rejection(command, {}).startswith("geographic balance is a property of the whole set")


def test_groups_the_faq_does_not_name_are_refused_in_commands_but_old_events_decode():
    with pytest.raises(ValidationError, match="unknown champion regional group 'central-africa'"):
        nominate("CM", "central-africa")
    old = c.ChampionNominated(country="CM", regional_group="central-africa", assessment=[], occurred_on=ON)
    assert CHAMPION.fold("cm", [old]).regional_group == "central-africa"


# --- the seed -------------------------------------------------------------------------------------


def test_the_seed_gives_iom_three_roles_and_the_14_champions_criteria_not_assessed():
    states = decide_all(seed_commands())
    members = states["global"].members
    assert members["IOM"] == (c.MemberRole.COORDINATOR, c.MemberRole.EXECUTIVE_COMMITTEE, c.MemberRole.SECRETARIAT)
    committee = [e for e, roles in members.items() if c.MemberRole.EXECUTIVE_COMMITTEE in roles]
    assert sorted(committee) == sorted(ref.EXECUTIVE_COMMITTEE)
    assert members["WHO"] == (c.MemberRole.EXECUTIVE_COMMITTEE_INVITEE,)
    champions = [s for s in states.values() if isinstance(s, domain.ChampionState)]
    assert len(champions) == 14 and all(s.status is c.ChampionStatus.CONFIRMED for s in champions)
    assert all(a.met is None and "Not assessed in the source" in (a.note or "") for a in champions[0].assessment)
    assert all(s.regional_group in ref.champion_groups_of(s.country) for s in champions)
