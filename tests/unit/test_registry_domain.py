"""The registry's deciders: every rule, every rejection, and evolve/fold round trips."""

from __future__ import annotations

from datetime import date

import pytest

from mignet_contracts import reference as ref
from mignet_contracts.envelope import new_id
from mignet_contracts.registry import (
    REGISTRY_COMMANDS,
    AddNetworkMember,
    AlignTermsOfReference,
    AssignFocalPoint,
    ChampionConfirmed,
    ChampionNominated,
    ChampionStatus,
    ChampionWithdrawn,
    ChangeNetworkStatus,
    ConfirmChampion,
    CreateNetwork,
    MemberRole,
    NetworkCreated,
    NetworkMemberJoined,
    NetworkStatus,
    NetworkStatusChanged,
    NominateChampion,
    RemoveNetworkMember,
    WithdrawChampion,
    regional_network_id,
)
from mignet_contracts.support import SUPPORT_COMMANDS
from mignet_contracts.working_groups import WORKING_GROUP_COMMANDS
from mignet_registry import domain
from mignet_registry.domain import CHAMPION, NETWORK, ChampionState, NetworkState
from mignet_runtime.errors import NotFound, Rejected

TODAY = date(2024, 6, 1)
CREATED = date(2020, 3, 1)
S = NetworkStatus


def create_bd(**fields) -> CreateNetwork:
    defaults = {
        "command_id": new_id(),
        "actor": "ops",
        "scope": "national",
        "country": "BD",
        "network_name": "UN Network on Migration in Bangladesh",
    }
    return CreateNetwork(**(defaults | fields))


def bangladesh(*, status=S.ESTABLISHED, members=(("IOM", "coordinator"), ("UNDP", "member"))) -> NetworkState:
    """The Bangladesh network, built the way the service builds it: by deciding and folding."""
    events = domain.create_network(
        NETWORK.initial("nat-bd"),
        create_bd(
            status=S.UNDER_CONSIDERATION if status is S.INACTIVE else status,
            members=[{"entity": e, "role": r} for e, r in members],
            occurred_on=CREATED,
        ),
        TODAY,
    )
    state = NETWORK.fold("nat-bd", events)
    if status is S.INACTIVE:
        state = apply(state, domain.change_network_status(state, change(S.INACTIVE, occurred_on=CREATED), TODAY))
    return state


def apply(state, events):
    for event in events:
        state = (NETWORK if isinstance(state, NetworkState) else CHAMPION).evolve(state, event)
    return state


def change(status, **fields) -> ChangeNetworkStatus:
    return ChangeNetworkStatus(command_id=new_id(), actor="ops", network_id="nat-bd", status=status, **fields)


def assessment(**overrides) -> list[dict]:
    return [
        {"criterion": c, "met": True} | overrides.get(c.replace("-", "_"), {}) for c in ref.COUNTRY_CHAMPION_CRITERIA
    ]


def nominate(country="BD", group="asia-pacific", **fields) -> NominateChampion:
    return NominateChampion(
        command_id=new_id(),
        actor="ops",
        country=country,
        regional_group=group,
        **({"assessment": assessment()} | fields),
    )


def rejected(excinfo) -> tuple[str, str | None]:
    error = excinfo.value
    return error.message, (error.details[0].field if error.details else None)


# --- create-network ------------------------------------------------------------------------


def test_create_national_network_with_initial_members_yields_atomic_events():
    cmd = create_bd(
        status="being-established",
        members=[{"entity": "iom", "role": "coordinator"}, {"entity": "UNICEF"}],
        occurred_on=CREATED,
    )
    events = domain.create_network(NETWORK.initial("nat-bd"), cmd, TODAY)
    assert [e.subject for e in events] == [
        "registry.events.network.nat-bd.created",
        "registry.events.network.nat-bd.member-joined",
        "registry.events.network.nat-bd.member-joined",
    ]
    created = events[0]
    assert (created.scope, created.country, created.region) == ("national", "BD", None)
    assert created.status is S.BEING_ESTABLISHED
    assert [(e.entity, e.role) for e in events[1:]] == [("IOM", MemberRole.COORDINATOR), ("UNICEF", MemberRole.MEMBER)]
    assert {e.occurred_on for e in events} == {CREATED}


def test_create_defaults_to_under_consideration_today():
    (created,) = domain.create_network(NETWORK.initial("nat-bd"), create_bd(), TODAY)
    assert created.status is S.UNDER_CONSIDERATION
    assert created.occurred_on == TODAY


def test_create_regional_network_targets_the_id_derived_from_the_command():
    cmd = CreateNetwork(
        actor="ops",
        command_id="create-asia-pacific",
        scope="regional",
        region="asia-pacific",
        network_name="Asia-Pacific Regional UN Network on Migration",
        subregion="Pacific",
    )
    aggregate, aggregate_id = domain.target_of(cmd)
    assert aggregate is NETWORK and aggregate_id == regional_network_id("create-asia-pacific")
    (created,) = domain.create_network(NETWORK.initial(aggregate_id), cmd, TODAY)
    assert created.network_id == aggregate_id and created.region == "asia-pacific" and created.subregion == "Pacific"


def test_a_country_has_one_national_network():
    with pytest.raises(Rejected) as excinfo:
        domain.create_network(bangladesh(), create_bd(), TODAY)
    assert rejected(excinfo) == ("a national network for Bangladesh already exists: nat-bd", "country")


def test_a_retried_regional_create_on_an_existing_aggregate_is_rejected():
    cmd = CreateNetwork(actor="ops", command_id="c1", scope="regional", region="africa", network_name="Africa RNM")
    state = NETWORK.fold(cmd.network_id, domain.create_network(NETWORK.initial(cmd.network_id), cmd, TODAY))
    expected = r"^the regional network 'Africa RNM' in Africa \(reg-[0-9a-f]{12}\) already exists$"
    with pytest.raises(Rejected, match=expected):
        domain.create_network(state, cmd, TODAY)


def test_create_against_the_wrong_aggregate_is_a_wiring_bug():
    with pytest.raises(ValueError, match="nat-bd was decided against aggregate nat-np"):
        domain.create_network(NETWORK.initial("nat-np"), create_bd(), TODAY)


def test_scope_and_place_are_checked_even_without_model_validation():
    national_without_country = CreateNetwork.model_construct(
        actor="ops", command_id="c", scope="national", country=None, region="africa", network_name="n", members=[]
    )
    with pytest.raises(Rejected) as excinfo:
        domain.create_network(NETWORK.initial("nat-bd"), national_without_country, TODAY)
    assert rejected(excinfo) == ("a national network needs a country and no region", "country")
    regional_with_country = CreateNetwork.model_construct(
        actor="ops", command_id="c", scope="regional", country="BD", region=None, network_name="n", members=[]
    )
    with pytest.raises(Rejected) as excinfo:
        domain.create_network(NETWORK.initial("reg-000000000000"), regional_with_country, TODAY)
    assert rejected(excinfo) == ("a regional network needs a region and no country", "region")


def test_create_rejects_inactive_duplicates_and_two_coordinators():
    with pytest.raises(Rejected) as excinfo:
        domain.create_network(NETWORK.initial("nat-bd"), create_bd(status="inactive"), TODAY)
    assert rejected(excinfo)[1] == "status"
    duplicate = create_bd(members=[{"entity": "IOM"}, {"entity": "UNDP"}, {"entity": "iom", "role": "co-lead"}])
    with pytest.raises(Rejected) as excinfo:
        domain.create_network(NETWORK.initial("nat-bd"), duplicate, TODAY)
    assert rejected(excinfo) == ("listed more than once among the members: IOM", "members")
    two = create_bd(members=[{"entity": "IOM", "role": "coordinator"}, {"entity": "UNDP", "role": "coordinator"}])
    with pytest.raises(Rejected) as excinfo:
        domain.create_network(NETWORK.initial("nat-bd"), two, TODAY)
    assert rejected(excinfo) == ("a network has one coordinator, not IOM and UNDP", "members")


def test_create_cannot_be_dated_in_the_future():
    with pytest.raises(Rejected) as excinfo:
        domain.create_network(NETWORK.initial("nat-bd"), create_bd(occurred_on=date(2024, 6, 2)), TODAY)
    assert rejected(excinfo) == ("the date 2024-06-02 is in the future (today is 2024-06-01)", "occurred_on")


# --- status ---------------------------------------------------------------------------------

LEGAL = [
    (S.UNDER_CONSIDERATION, S.BEING_ESTABLISHED),
    (S.UNDER_CONSIDERATION, S.ESTABLISHED),
    (S.UNDER_CONSIDERATION, S.INACTIVE),
    (S.BEING_ESTABLISHED, S.ESTABLISHED),
    (S.BEING_ESTABLISHED, S.INACTIVE),
    (S.ESTABLISHED, S.INACTIVE),
    (S.INACTIVE, S.BEING_ESTABLISHED),
]


@pytest.mark.parametrize(("current", "wanted"), [(a, b) for a in S for b in S])
def test_status_transitions(current, wanted):
    state = bangladesh(status=current)
    cmd = change(wanted, reason="steering committee decision", occurred_on=date(2021, 1, 5))
    if (current, wanted) in LEGAL:
        (event,) = domain.change_network_status(state, cmd, TODAY)
        assert isinstance(event, NetworkStatusChanged)
        assert (event.from_status, event.to_status, event.reason) == (current, wanted, "steering committee decision")
        after = NETWORK.evolve(state, event)
        assert after.status is wanted and after.history[-1].on == date(2021, 1, 5)
    else:
        with pytest.raises(Rejected) as excinfo:
            domain.change_network_status(state, cmd, TODAY)
        message, field = rejected(excinfo)
        assert field == "status"
        assert message.startswith("the national network for Bangladesh (nat-bd)")


def test_status_rejections_name_the_statuses_in_words():
    state = bangladesh(status=S.ESTABLISHED)
    with pytest.raises(Rejected, match=r"^the national network for Bangladesh \(nat-bd\) is already established$"):
        domain.change_network_status(state, change(S.ESTABLISHED), TODAY)
    with pytest.raises(Rejected) as excinfo:
        domain.change_network_status(state, change(S.UNDER_CONSIDERATION), TODAY)
    assert rejected(excinfo)[0] == (
        "the national network for Bangladesh (nat-bd) cannot go from established to under consideration; "
        "from established it can only become inactive"
    )


def test_status_changes_are_recorded_in_date_order():
    state = bangladesh(status=S.BEING_ESTABLISHED)
    state = apply(state, domain.change_network_status(state, change(S.INACTIVE, occurred_on=date(2022, 1, 1)), TODAY))
    with pytest.raises(Rejected) as excinfo:
        domain.change_network_status(state, change(S.BEING_ESTABLISHED, occurred_on=date(2021, 12, 31)), TODAY)
    assert rejected(excinfo)[1] == "occurred_on"
    assert "last changed status on 2022-01-01" in rejected(excinfo)[0]
    with pytest.raises(Rejected, match="last changed status on 2020-03-01; a status change on 2019-01-01"):
        domain.change_network_status(bangladesh(), change(S.INACTIVE, occurred_on=date(2019, 1, 1)), TODAY)


def test_status_change_in_the_future_is_rejected():
    with pytest.raises(Rejected) as excinfo:
        domain.change_network_status(bangladesh(), change(S.INACTIVE, occurred_on=date(2030, 1, 1)), TODAY)
    assert rejected(excinfo)[1] == "occurred_on"


@pytest.mark.parametrize(
    "command",
    [
        change(S.ESTABLISHED),
        AddNetworkMember(command_id=new_id(), actor="ops", network_id="nat-bd", entity="IOM"),
        RemoveNetworkMember(command_id=new_id(), actor="ops", network_id="nat-bd", entity="IOM"),
        AlignTermsOfReference(
            command_id=new_id(),
            actor="ops",
            network_id="nat-bd",
            aligned_on=CREATED,
            consulted_executive_committee=True,
        ),
        AssignFocalPoint(
            command_id=new_id(), actor="ops", network_id="nat-bd", focal_point_name="A", entity="IOM", email="a@iom.int"
        ),
    ],
)
def test_commands_on_a_missing_network_are_not_found(command):
    _, decide = domain.DECIDERS[type(command)]
    with pytest.raises(NotFound) as excinfo:
        decide(NETWORK.initial("nat-bd"), command, TODAY)
    assert rejected(excinfo) == ("there is no network nat-bd", "network_id")


# --- members --------------------------------------------------------------------------------


def test_add_and_remove_members():
    state = bangladesh()
    (joined,) = domain.add_network_member(
        state,
        AddNetworkMember(command_id=new_id(), actor="ops", network_id="nat-bd", entity="un-women", role="co-lead"),
        TODAY,
    )
    assert (joined.entity, joined.role, joined.occurred_on) == ("UN-WOMEN", MemberRole.CO_LEAD, TODAY)
    state = NETWORK.evolve(state, joined)
    assert state.members == {
        "IOM": (MemberRole.COORDINATOR,),
        "UNDP": (MemberRole.MEMBER,),
        "UN-WOMEN": (MemberRole.CO_LEAD,),
    }
    (left,) = domain.remove_network_member(
        state,
        RemoveNetworkMember(
            command_id=new_id(), actor="ops", network_id="nat-bd", entity="UNDP", reason="office closed"
        ),
        TODAY,
    )
    assert (left.entity, left.reason) == ("UNDP", "office closed")
    assert set(NETWORK.evolve(state, left).members) == {"IOM", "UN-WOMEN"}


def test_no_duplicate_member_and_one_coordinator():
    state = bangladesh()
    with pytest.raises(Rejected) as excinfo:
        domain.add_network_member(
            state, AddNetworkMember(command_id=new_id(), actor="ops", network_id="nat-bd", entity="UNDP"), TODAY
        )
    assert rejected(excinfo) == (
        "UNDP is already a member of the national network for Bangladesh (nat-bd), as member; "
        "add a role with add-member-role",
        "entity",
    )
    with pytest.raises(Rejected) as excinfo:
        domain.add_network_member(
            state,
            AddNetworkMember(command_id=new_id(), actor="ops", network_id="nat-bd", entity="UNHCR", role="coordinator"),
            TODAY,
        )
    assert rejected(excinfo) == (
        "the national network for Bangladesh (nat-bd) already has a coordinator: IOM",
        "role",
    )


def test_removing_a_non_member_is_rejected():
    with pytest.raises(Rejected) as excinfo:
        domain.remove_network_member(
            bangladesh(),
            RemoveNetworkMember(command_id=new_id(), actor="ops", network_id="nat-bd", entity="UN-WOMEN"),
            TODAY,
        )
    assert rejected(excinfo) == ("UN Women is not a member of the national network for Bangladesh (nat-bd)", "entity")


def test_unknown_entity_codes_are_rejected_even_without_model_validation():
    sneaky = AddNetworkMember.model_construct(
        actor="ops", command_id="c", network_id="nat-bd", entity="NASA", role=MemberRole.MEMBER, occurred_on=None
    )
    with pytest.raises(Rejected) as excinfo:
        domain.add_network_member(bangladesh(), sneaky, TODAY)
    assert rejected(excinfo) == ("'NASA' is not a known UN entity", "entity")


def test_membership_cannot_predate_the_network():
    cmd = AddNetworkMember(
        command_id=new_id(), actor="ops", network_id="nat-bd", entity="WHO", occurred_on=date(2019, 12, 31)
    )
    with pytest.raises(Rejected) as excinfo:
        domain.add_network_member(bangladesh(), cmd, TODAY)
    assert rejected(excinfo) == (
        "WHO joining on 2019-12-31 is before the national network for Bangladesh (nat-bd) was created on 2020-03-01",
        "occurred_on",
    )


# --- terms of reference ---------------------------------------------------------------------


def align(on: date, **fields) -> AlignTermsOfReference:
    return AlignTermsOfReference(
        command_id=new_id(),
        actor="ops",
        network_id="nat-bd",
        aligned_on=on,
        **({"consulted_executive_committee": True} | fields),
    )


def test_align_terms_of_reference_defaults_occurred_on_to_the_alignment_date():
    (event,) = domain.align_terms_of_reference(bangladesh(), align(date(2020, 9, 1), note="with RC office"), TODAY)
    assert (event.aligned_on, event.occurred_on, event.consulted, event.note) == (
        date(2020, 9, 1),
        date(2020, 9, 1),
        ["ILO", "IOM", "OHCHR", "UNDESA", "UNDP", "UNHCR", "UNICEF", "UNODC"],  # the whole Executive Committee
        "with RC office",
    )
    assert event.not_consulted == [] and event.ce_type().endswith(".v2")
    assert event.subject == "registry.events.network.nat-bd.tor-aligned"
    assert NETWORK.evolve(bangladesh(), event).tor_aligned_on == date(2020, 9, 1)
    # The Network Coordinator (IOM) alone: the rest of the committee is flagged, not refused.
    (coordinator,) = domain.align_terms_of_reference(
        bangladesh(), align(date(2020, 9, 1), consulted_executive_committee=None, consulted=["IOM"]), TODAY
    )
    assert coordinator.consulted == ["IOM"] and "IOM" not in coordinator.not_consulted
    assert NETWORK.evolve(bangladesh(), coordinator).tor.consulted_executive_committee is False


@pytest.mark.parametrize(
    ("aligned_on", "fragment"),
    [
        (date(2024, 6, 2), "a date in the future"),
        (date(2020, 2, 29), "before the national network for Bangladesh (nat-bd) was created on 2020-03-01"),
    ],
)
def test_alignment_date_must_be_plausible(aligned_on, fragment):
    with pytest.raises(Rejected) as excinfo:
        domain.align_terms_of_reference(bangladesh(), align(aligned_on), TODAY)
    message, field = rejected(excinfo)
    assert fragment in message and field == "aligned_on"


def test_only_a_later_realignment_is_recorded():
    state = apply(bangladesh(), domain.align_terms_of_reference(bangladesh(), align(date(2020, 9, 1)), TODAY))
    with pytest.raises(Rejected, match="already aligned its terms of reference on 2020-09-01"):
        domain.align_terms_of_reference(state, align(date(2020, 9, 1)), TODAY)
    (event,) = domain.align_terms_of_reference(state, align(date(2023, 1, 10)), TODAY)
    assert NETWORK.evolve(state, event).tor_aligned_on == date(2023, 1, 10)


# --- focal point ----------------------------------------------------------------------------


def focal(entity="IOM", name="Amina Rahman", email="arahman@iom.int") -> AssignFocalPoint:
    return AssignFocalPoint(
        command_id=new_id(), actor="ops", network_id="nat-bd", focal_point_name=name, entity=entity, email=email
    )


def test_assign_focal_point_from_a_member_entity():
    (event,) = domain.assign_focal_point(bangladesh(), focal(), TODAY)
    assert event.public is False
    state = NETWORK.evolve(bangladesh(), event)
    assert state.focal_point == domain.FocalPoint("Amina Rahman", "IOM", "arahman@iom.int", TODAY)
    with pytest.raises(Rejected, match="this person is already the focal point"):
        domain.assign_focal_point(state, focal(), TODAY)
    (replacement,) = domain.assign_focal_point(state, focal("UNDP", "Karim Ahmed", "karim.ahmed@undp.org"), TODAY)
    assert NETWORK.evolve(state, replacement).focal_point.entity == "UNDP"


def test_focal_point_must_come_from_a_member():
    with pytest.raises(Rejected) as excinfo:
        domain.assign_focal_point(bangladesh(), focal("UNHCR"), TODAY)
    assert rejected(excinfo) == (
        "the focal point must come from a member entity; UNHCR is not a member of the national network "
        "for Bangladesh (nat-bd)",
        "entity",
    )


def test_focal_point_goes_when_its_entity_leaves():
    state = apply(bangladesh(), domain.assign_focal_point(bangladesh(), focal("UNDP"), TODAY))
    state = apply(
        state,
        domain.remove_network_member(
            state, RemoveNetworkMember(command_id=new_id(), actor="ops", network_id="nat-bd", entity="UNDP"), TODAY
        ),
    )
    assert state.focal_point is None


# --- champions ------------------------------------------------------------------------------


def champion(*events) -> ChampionState:
    return CHAMPION.fold("bd", events)


def nominated_event(**fields) -> ChampionNominated:
    defaults = {"country": "BD", "regional_group": "asia-pacific", "assessment": assessment(), "occurred_on": CREATED}
    return ChampionNominated(**(defaults | fields))


def test_nominate_records_the_existing_national_network():
    (event,) = domain.nominate_champion(champion(), nominate(), TODAY, national_network=bangladesh())
    assert event.subject == "registry.events.champion.bd.nominated"
    assert event.existing_network_id == "nat-bd"
    assert [a.criterion for a in event.assessment] == list(ref.COUNTRY_CHAMPION_CRITERIA)
    state = CHAMPION.evolve(champion(), event)
    assert (state.status, state.regional_group, state.existing_network_id, state.nominated_on) == (
        ChampionStatus.NOMINATED,
        "asia-pacific",
        "nat-bd",
        TODAY,
    )


def test_an_established_network_counts_as_existing():
    (event,) = domain.nominate_champion(champion(), nominate(), TODAY, national_network=bangladesh())
    assert event.existing_network_id == "nat-bd"


def test_a_network_being_established_does_not_exist_yet():
    # The FAQ's criterion is «وجود» (existence): being established is not yet existing.
    with pytest.raises(Rejected, match="its national network nat-bd is being established; name the similar"):
        domain.nominate_champion(champion(), nominate(), TODAY, national_network=bangladesh(status=S.BEING_ESTABLISHED))
    cmd = nominate(assessment=assessment(existing_un_network={"note": "UNCT results group on migration"}))
    (event,) = domain.nominate_champion(champion(), cmd, TODAY, national_network=bangladesh(status=S.BEING_ESTABLISHED))
    assert event.existing_network_id is None


def test_claimed_network_without_one_in_the_registry_is_rejected():
    with pytest.raises(Rejected) as excinfo:
        domain.nominate_champion(champion(), nominate(), TODAY, national_network=NETWORK.initial("nat-bd"))
    message, field = rejected(excinfo)
    assert field == "assessment"
    assert message.startswith(
        "the assessment says Bangladesh has an existing UN network on migration, "
        "but the registry has no national network for it"
    )
    with pytest.raises(Rejected, match="its national network nat-bd is under consideration"):
        domain.nominate_champion(
            champion(), nominate(), TODAY, national_network=bangladesh(status=S.UNDER_CONSIDERATION)
        )
    with pytest.raises(Rejected, match="its national network nat-bd is inactive"):
        domain.nominate_champion(champion(), nominate(), TODAY, national_network=bangladesh(status=S.INACTIVE))
    with pytest.raises(Rejected, match="no national network"):
        domain.nominate_champion(champion(), nominate(), TODAY)


def test_a_similar_mechanism_named_in_the_note_satisfies_the_criterion():
    cmd = nominate(assessment=assessment(existing_un_network={"note": "UNCT thematic group on migration"}))
    (event,) = domain.nominate_champion(champion(), cmd, TODAY, national_network=NETWORK.initial("nat-bd"))
    assert event.existing_network_id is None


def test_unmet_network_criterion_needs_no_network_but_records_one_that_exists():
    cmd = nominate(assessment=assessment(existing_un_network={"met": False}))
    (event,) = domain.nominate_champion(champion(), cmd, TODAY, national_network=None)
    assert event.existing_network_id is None
    (event,) = domain.nominate_champion(champion(), cmd, TODAY, national_network=bangladesh())
    assert event.existing_network_id == "nat-bd"


def test_nominate_with_another_countrys_network_is_a_wiring_bug():
    nepal = NETWORK.initial("nat-np")
    with pytest.raises(ValueError, match="given network nat-np"):
        domain.nominate_champion(champion(), nominate(), TODAY, national_network=nepal)


def test_assessment_must_cover_each_criterion_once():
    missing = [a for a in assessment() if a["criterion"] != "360-degree-vision"]
    with pytest.raises(Rejected) as excinfo:
        domain.nominate_champion(champion(), nominate(assessment=missing), TODAY, national_network=bangladesh())
    assert rejected(excinfo) == (
        "the assessment must cover the five criteria of a nomination (met, not met or not assessed); "
        "missing: 360-degree-vision",
        "assessment",
    )
    repeated = [*assessment(), {"criterion": "360-degree-vision", "met": False}]
    with pytest.raises(Rejected) as excinfo:
        domain.nominate_champion(champion(), nominate(assessment=repeated), TODAY, national_network=bangladesh())
    assert rejected(excinfo) == ("criteria assessed more than once: 360-degree-vision", "assessment")


@pytest.mark.parametrize(
    "history", [[nominated_event()], [nominated_event(), ChampionConfirmed(country="BD", occurred_on=CREATED)]]
)
def test_an_active_champion_cannot_be_nominated_again(history):
    with pytest.raises(Rejected) as excinfo:
        domain.nominate_champion(champion(*history), nominate(), TODAY, national_network=bangladesh())
    message, field = rejected(excinfo)
    assert message.startswith("Bangladesh is already a champion country (") and field == "country"


def test_a_withdrawn_champion_may_be_nominated_again():
    state = champion(
        nominated_event(), ChampionWithdrawn(country="BD", reason="elections", occurred_on=date(2022, 1, 1))
    )
    (event,) = domain.nominate_champion(state, nominate(), TODAY, national_network=bangladesh())
    again = CHAMPION.evolve(state, event)
    assert (again.status, again.withdrawn_on, again.withdrawal_reason) == (ChampionStatus.NOMINATED, None, None)
    assert [s for _, s in again.history] == ["nominated", "withdrawn", "nominated"]
    with pytest.raises(Rejected) as excinfo:
        domain.nominate_champion(state, nominate(occurred_on=date(2021, 6, 1)), TODAY, national_network=bangladesh())
    assert rejected(excinfo)[1] == "occurred_on"


def test_confirm_only_a_nominated_champion():
    (event,) = domain.confirm_champion(
        champion(nominated_event()), ConfirmChampion(command_id=new_id(), actor="ops", country="bd"), TODAY
    )
    assert event.subject == "registry.events.champion.bd.confirmed"
    confirmed = CHAMPION.evolve(champion(nominated_event()), event)
    assert (confirmed.status, confirmed.confirmed_on) == (ChampionStatus.CONFIRMED, TODAY)

    with pytest.raises(NotFound) as excinfo:
        domain.confirm_champion(champion(), ConfirmChampion(command_id=new_id(), actor="ops", country="BD"), TODAY)
    assert rejected(excinfo) == ("Bangladesh has not been nominated as a champion country", "country")
    with pytest.raises(Rejected, match="^Bangladesh is already a confirmed champion country$"):
        domain.confirm_champion(confirmed, ConfirmChampion(command_id=new_id(), actor="ops", country="BD"), TODAY)
    withdrawn = CHAMPION.evolve(confirmed, ChampionWithdrawn(country="BD", reason="r", occurred_on=TODAY))
    with pytest.raises(Rejected, match="withdrew as a champion country on 2024-06-01; nominate it again first"):
        domain.confirm_champion(withdrawn, ConfirmChampion(command_id=new_id(), actor="ops", country="BD"), TODAY)


def test_confirmation_cannot_precede_the_nomination():
    cmd = ConfirmChampion(command_id=new_id(), actor="ops", country="BD", occurred_on=date(2020, 2, 1))
    with pytest.raises(Rejected) as excinfo:
        domain.confirm_champion(champion(nominated_event()), cmd, TODAY)
    assert rejected(excinfo)[1] == "occurred_on"


@pytest.mark.parametrize("confirmed", [False, True])
def test_withdraw_a_nominated_or_confirmed_champion_with_a_reason(confirmed):
    events = [nominated_event()] + ([ChampionConfirmed(country="BD", occurred_on=CREATED)] if confirmed else [])
    cmd = WithdrawChampion(
        command_id=new_id(), actor="ops", country="BD", reason="government request", occurred_on=date(2023, 1, 1)
    )
    (event,) = domain.withdraw_champion(champion(*events), cmd, TODAY)
    assert (event.reason, event.occurred_on, event.subject) == (
        "government request",
        date(2023, 1, 1),
        "registry.events.champion.bd.withdrawn",
    )
    state = CHAMPION.evolve(champion(*events), event)
    assert (state.status, state.withdrawn_on, state.is_active) == (ChampionStatus.WITHDRAWN, date(2023, 1, 1), False)


def test_withdraw_rejections():
    cmd = WithdrawChampion(command_id=new_id(), actor="ops", country="BD", reason="r")
    with pytest.raises(NotFound):
        domain.withdraw_champion(champion(), cmd, TODAY)
    withdrawn = champion(nominated_event(), ChampionWithdrawn(country="BD", reason="r", occurred_on=CREATED))
    with pytest.raises(Rejected, match="^Bangladesh already withdrew as a champion country on 2020-03-01$"):
        domain.withdraw_champion(withdrawn, cmd, TODAY)
    blank = WithdrawChampion.model_construct(actor="ops", command_id="c", country="BD", reason="  ", occurred_on=None)
    with pytest.raises(Rejected) as excinfo:
        domain.withdraw_champion(champion(nominated_event()), blank, TODAY)
    assert rejected(excinfo) == ("say why Bangladesh withdraws as a champion country", "reason")


# --- fold, routing --------------------------------------------------------------------------


def test_fold_replays_a_network_history():
    events = [
        NetworkCreated(
            network_id="nat-bd",
            scope="national",
            country="BD",
            network_name="UNNM BD",
            status="under-consideration",
            occurred_on=CREATED,
        ),
        NetworkMemberJoined(network_id="nat-bd", entity="IOM", role="coordinator", occurred_on=CREATED),
        NetworkStatusChanged(
            network_id="nat-bd",
            from_status=S.UNDER_CONSIDERATION,
            to_status=S.BEING_ESTABLISHED,
            occurred_on=date(2020, 6, 1),
        ),
        NetworkStatusChanged(
            network_id="nat-bd", from_status=S.BEING_ESTABLISHED, to_status=S.ESTABLISHED, occurred_on=date(2020, 10, 1)
        ),
    ]
    state = NETWORK.fold("nat-bd", events)
    assert state.exists and state.name == "UNNM BD" and state.country == "BD" and state.created_on == CREATED
    assert state.status is S.ESTABLISHED and state.coordinator == "IOM"
    assert [(c.on, c.from_status, c.to_status) for c in state.history] == [
        (CREATED, None, S.UNDER_CONSIDERATION),
        (date(2020, 6, 1), S.UNDER_CONSIDERATION, S.BEING_ESTABLISHED),
        (date(2020, 10, 1), S.BEING_ESTABLISHED, S.ESTABLISHED),
    ]
    assert NETWORK.initial("nat-bd") == NetworkState(id="nat-bd") and not NETWORK.initial("nat-bd").exists


def test_evolve_ignores_other_aggregates_events_and_never_mutates_state():
    state = bangladesh()
    members_before = dict(state.members)
    assert NETWORK.evolve(state, nominated_event()) is state
    NETWORK.evolve(state, NetworkMemberJoined(network_id="nat-bd", entity="WFP", role="member", occurred_on=TODAY))
    assert state.members == members_before
    assert CHAMPION.initial("bd") == ChampionState(id="bd", country="BD")


def test_every_command_has_a_decider_and_a_target():
    assert set(domain.DECIDERS) == {*REGISTRY_COMMANDS, *WORKING_GROUP_COMMANDS, *SUPPORT_COMMANDS}
    assert domain.target_of(change(S.ESTABLISHED)) == (NETWORK, "nat-bd")
    assert domain.target_of(ConfirmChampion(command_id=new_id(), actor="ops", country="GW")) == (CHAMPION, "gw")
    assert domain.target_of(create_bd()) == (NETWORK, "nat-bd")
    assert (NETWORK.service, NETWORK.name, CHAMPION.name) == ("registry", "network", "champion")
    assert NETWORK.wildcard("nat-bd") == "registry.events.network.nat-bd.*"


# --- the global Network ---------------------------------------------------------------------


def test_global_network_has_fixed_id_and_no_place():
    from datetime import date as _date

    from mignet_contracts import registry as _c
    from mignet_registry import domain as _d

    cmd = _c.CreateNetwork(
        command_id=new_id(),
        actor="t",
        scope="global",
        network_name="United Nations Network on Migration",
        status="established",
        members=[{"entity": "IOM", "role": "coordinator"}, {"entity": "ILO", "role": "executive-committee"}],
    )
    assert cmd.network_id == "global"
    events = _d.create_network(_d.NETWORK.initial("global"), cmd, _date(2026, 1, 1))
    assert [e.subject for e in events] == [
        "registry.events.network.global.created",
        "registry.events.network.global.member-joined",
        "registry.events.network.global.member-joined",
    ]
    state = _d.NETWORK.fold("global", events)
    assert _d.describe_network(state) == "the global UN Network on Migration (global)"
    import pytest as _pytest
    from pydantic import ValidationError as _VE

    with _pytest.raises(_VE):
        _c.CreateNetwork(command_id=new_id(), actor="t", scope="global", country="BD", network_name="x")


# --- confirming with unmet criteria -----------------------------------------------------------


def test_confirming_a_nomination_short_of_the_criteria_needs_an_override_reason():
    short = champion(
        nominated_event(
            assessment=assessment(host_government_commitment={"met": False}, resident_coordinator_support={"met": None})
        )
    )
    with pytest.raises(Rejected) as excinfo:
        domain.confirm_champion(short, ConfirmChampion(command_id=new_id(), actor="ops", country="BD"), TODAY)
    message, field = rejected(excinfo)
    assert field == "override_reason"
    assert message == (
        "Bangladesh's nomination met 3 of the 5 criteria (not met: host-government-commitment; "
        "not assessed: resident-coordinator-support); to confirm it anyway, give the reason in override_reason"
    )

    cmd = ConfirmChampion(
        command_id=new_id(), actor="ops", country="BD", override_reason="Executive Committee decision of 2024-05-02"
    )
    (event,) = domain.confirm_champion(short, cmd, TODAY)
    assert (event.criteria_met, event.override_reason) == (3, "Executive Committee decision of 2024-05-02")


def test_confirming_a_nomination_meeting_every_criterion_needs_no_reason():
    (event,) = domain.confirm_champion(
        champion(nominated_event()), ConfirmChampion(command_id=new_id(), actor="ops", country="BD"), TODAY
    )
    assert (event.criteria_met, event.override_reason) == (5, None)


def test_a_nomination_recorded_with_geographic_balance_still_confirms_on_the_other_five():
    # Events are immutable: nominations from before balance became a property of the set carry it.
    old = [{"criterion": "geographic-balance", "met": False}, *assessment()]
    (event,) = domain.confirm_champion(
        champion(nominated_event(assessment=old)),
        ConfirmChampion(command_id=new_id(), actor="ops", country="BD"),
        TODAY,
    )
    assert event.criteria_met == 5


# --- renaming and describing -------------------------------------------------------------------


def test_rename_a_network_records_the_old_and_new_name():
    from mignet_contracts.registry import NetworkRenamed, RenameNetwork

    state = bangladesh()
    (event,) = domain.rename_network(
        state,
        RenameNetwork(
            command_id=new_id(), actor="ops", network_id="nat-bd", network_name="UN Migration Network Bangladesh"
        ),
        TODAY,
    )
    assert isinstance(event, NetworkRenamed)
    assert event.subject == "registry.events.network.nat-bd.renamed"
    assert (event.from_name, event.network_name) == (state.name, "UN Migration Network Bangladesh")
    assert NETWORK.evolve(state, event).name == "UN Migration Network Bangladesh"

    with pytest.raises(Rejected, match="is already named"):
        domain.rename_network(
            state, RenameNetwork(command_id=new_id(), actor="ops", network_id="nat-bd", network_name=state.name), TODAY
        )
    with pytest.raises(NotFound, match="^there is no network nat-np$"):
        domain.rename_network(
            NETWORK.initial("nat-np"),
            RenameNetwork(command_id=new_id(), actor="ops", network_id="nat-np", network_name="x"),
            TODAY,
        )
    early = RenameNetwork(
        command_id=new_id(), actor="ops", network_id="nat-bd", network_name="x", occurred_on=date(2000, 1, 1)
    )
    with pytest.raises(Rejected) as excinfo:
        domain.rename_network(state, early, TODAY)
    assert rejected(excinfo)[1] == "occurred_on"


def test_change_and_remove_a_network_description():
    from mignet_contracts.registry import ChangeNetworkDescription

    def describe(state, text):
        cmd = ChangeNetworkDescription(command_id=new_id(), actor="ops", network_id="nat-bd", description=text)
        (event,) = domain.change_network_description(state, cmd, TODAY)
        return NETWORK.evolve(state, event)

    described = describe(bangladesh(), "Meets monthly in Dhaka.")
    assert described.description == "Meets monthly in Dhaka."
    assert describe(described, None).description is None
    with pytest.raises(Rejected, match="has that description already"):
        describe(described, "Meets monthly in Dhaka.")
    with pytest.raises(Rejected, match="has no description already"):
        describe(describe(described, None), None)
