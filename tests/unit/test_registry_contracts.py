"""Reference data and the registry's commands, events and queries."""

from __future__ import annotations

import re
from datetime import date

import pytest
from pydantic import ValidationError

from mignet_contracts import reference as ref
from mignet_contracts import registry as reg
from mignet_contracts.envelope import new_id
from mignet_contracts.reference import RegionCode
from mignet_contracts.registry import (
    AddNetworkMember,
    AssignFocalPoint,
    ChampionNominated,
    ChampionWithdrawn,
    CreateNetwork,
    DirectorySummary,
    GetChampion,
    ListNetworks,
    NetworkCreated,
    NetworkFocalPointAssigned,
    NetworkMemberJoined,
    NominateChampion,
)

ON = date(2020, 10, 1)
ALL_MET = [{"criterion": c, "met": True} for c in ref.CHAMPION_CRITERIA]


def errors_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in excinfo.value.errors()}


# --- reference data ---------------------------------------------------------------------


def test_countries_are_the_193_member_states_and_two_observers():
    assert len(ref.COUNTRIES) == 195
    assert set(ref.OBSERVER_STATES) == {"PS", "VA"}
    assert ref.COUNTRIES["PS"].name == "State of Palestine"
    assert ref.COUNTRIES["VA"].name == "Holy See"
    assert "TW" not in ref.COUNTRIES and "HK" not in ref.COUNTRIES and "PR" not in ref.COUNTRIES


def test_every_country_has_distinct_regions_each_with_a_commission():
    for c in ref.COUNTRIES.values():
        assert c.code == c.code.upper() and len(c.code) == 2
        assert c.regions and len(set(c.regions)) == len(c.regions)
        assert all(ref.commission_for_region(r).region is r for r in c.regions)


@pytest.mark.parametrize(
    ("code", "regions"),
    [
        ("EG", ("arab-region", "africa")),
        ("MA", ("arab-region", "africa")),
        ("JO", ("arab-region",)),
        ("US", ("europe-north-america-central-asia",)),
        ("CA", ("europe-north-america-central-asia",)),
        ("KZ", ("europe-north-america-central-asia", "asia-pacific")),
        ("FJ", ("asia-pacific",)),
        ("TV", ("asia-pacific",)),
        ("BD", ("asia-pacific",)),
        ("SV", ("latin-america-caribbean",)),
        ("ET", ("africa",)),
        ("IL", ("europe-north-america-central-asia",)),
    ],
)
def test_country_regions_follow_regional_commission_membership(code, regions):
    assert ref.country(code).regions == tuple(RegionCode(r) for r in regions)
    assert ref.country(code).primary_region == regions[0]


def test_region_counts_per_primary_region():
    by_region = {r: sum(c.primary_region is r for c in ref.COUNTRIES.values()) for r in RegionCode}
    assert by_region == {
        RegionCode.AFRICA: 45,
        RegionCode.ARAB_REGION: 21,
        RegionCode.ASIA_PACIFIC: 39,
        RegionCode.EUROPE_NORTH_AMERICA_CENTRAL_ASIA: 57,
        RegionCode.LATIN_AMERICA_CARIBBEAN: 33,
    }


def test_country_lookup_is_case_insensitive_and_strict():
    assert ref.country("bd").name == "Bangladesh"
    assert ref.country(" Bd ").code == "BD"
    assert ref.country("KR").name == "Republic of Korea"
    assert ref.is_country("gw") and not ref.is_country("XX") and not ref.is_country("")
    with pytest.raises(KeyError, match="XX"):
        ref.country("XX")


def test_faq_champions_are_countries():
    for code in ["BD", "ID", "TH", "PH", "NP", "ET", "SV", "MX", "MA", "GH", "GW", "SN", "CA", "PT"]:
        assert ref.is_country(code)


def test_regional_commissions():
    assert set(ref.REGIONAL_COMMISSIONS) == {"ECA", "ECE", "ECLAC", "ESCAP", "ESCWA"}
    assert ref.commission_for_region("arab-region").code == "ESCWA"
    assert ref.commission_for_region(RegionCode.EUROPE_NORTH_AMERICA_CENTRAL_ASIA).code == "ECE"
    assert ref.REGIONS[RegionCode.ASIA_PACIFIC] == "Asia and the Pacific"
    with pytest.raises(ValueError):
        ref.commission_for_region("antarctica")


def test_un_entities():
    assert ref.EXECUTIVE_COMMITTEE == ("ILO", "IOM", "OHCHR", "UNDESA", "UNDP", "UNHCR", "UNICEF", "UNODC")
    assert [e.code for e in ref.UN_ENTITIES.values() if e.executive_committee] == list(ref.EXECUTIVE_COMMITTEE)
    assert [e.code for e in ref.UN_ENTITIES.values() if e.invited_to_executive_committee] == ["WHO"]
    assert ref.UN_ENTITIES["UNDESA"].name == "UN DESA"
    assert ref.NETWORK_COORDINATOR == "IOM"
    assert 35 <= len(ref.UN_ENTITIES) <= 40
    # The FAQ names the Executive Committee and WHO; the rest of the catalogue is assumed.
    assert {e.code for e in ref.UN_ENTITIES.values() if e.confirmed} == {*ref.EXECUTIVE_COMMITTEE, "WHO"}
    assert ref.NETWORK_SECRETARIAT == "IOM" and ref.SECRETARIAT_SECONDMENTS == ("UNHCR", "UNICEF")
    assert set(ref.REGIONAL_COMMISSIONS) <= set(ref.UN_ENTITIES)
    assert {"FAO", "UN-HABITAT", "UNITAR", "UNU", "WFP", "UN-WOMEN"} <= set(ref.UN_ENTITIES)
    assert all(re.fullmatch(r"[A-Z][A-Z0-9-]{1,15}", code) and e.code == code for code, e in ref.UN_ENTITIES.items())


def test_vocabularies():
    assert len(ref.STAKEHOLDER_CATEGORIES) == 12
    assert ref.STAKEHOLDER_CATEGORIES["others"] == "Others, such as women, children and youth"
    assert "nhri" in ref.STAKEHOLDER_CATEGORIES and "red-cross-red-crescent" in ref.STAKEHOLDER_CATEGORIES
    assert sorted(ref.GCM_OBJECTIVES) == list(range(1, 24))
    assert ref.GCM_OBJECTIVES[13].label == "Alternatives to detention"
    assert ref.GCM_OBJECTIVES[23].title.startswith("Strengthen international cooperation")
    assert len(ref.GUIDING_PRINCIPLES) == 10
    assert {"people-centred", "international-cooperation", "whole-of-society"} <= set(ref.GUIDING_PRINCIPLES)
    assert len(ref.WORKSTREAMS) == 8 and set(ref.CORE_WORKSTREAMS) == {"2.1", "2.2"} <= set(ref.WORKSTREAMS)
    assert len(ref.WORKING_GROUPS) == 9 and set(ref.CORE_WORKING_GROUPS) <= set(ref.WORKING_GROUPS)
    # Section 6's names for the thematic workstreams; the thematic priorities are their own list, same keys.
    assert ref.THEMATIC_WORKSTREAMS["bilateral-labour-migration-agreements"] == "Bilateral labour migration agreements"
    assert list(ref.THEMATIC_PRIORITIES) == list(ref.THEMATIC_WORKSTREAMS)
    assert ref.THEMATIC_PRIORITIES["data"] == "National capacity for data collection, analysis and dissemination"
    # Working groups exist "for some workstreams": the thematic ones share their workstream's key.
    assert all(ref.WORKING_GROUPS[code].workstream == code for code in ref.THEMATIC_WORKSTREAMS)
    assert {g.workstream for g in ref.WORKING_GROUPS.values()} - {None} <= set(ref.WORKSTREAMS)
    faq_groups = {
        "asia-pacific",
        "east-africa",
        "latin-america-caribbean",
        "middle-east-north-africa",
        "west-africa",
        "western-european-and-others",
    }
    assert faq_groups == set(ref.CHAMPION_REGIONAL_GROUPS) == set(ref.CHAMPION_GROUP_COUNTRIES)
    assert not faq_groups & set(ref.RETIRED_CHAMPION_REGIONAL_GROUPS)
    assert all(set(members) <= set(ref.COUNTRIES) for members in ref.CHAMPION_GROUP_COUNTRIES.values())
    assert ref.champion_groups_of("CA") == ("western-european-and-others",)
    assert set(ref.champion_groups_of("AU")) == {"asia-pacific", "western-european-and-others"}
    assert list(ref.CHAMPION_CRITERIA) == [
        "geographic-balance",
        "360-degree-vision",
        "host-government-commitment",
        "existing-un-network",
        "resident-coordinator-support",
        "alignment-with-processes",
    ]


def test_languages():
    assert ref.LANGUAGES == {
        "ar": "Arabic",
        "en": "English",
        "es": "Spanish",
        "fr": "French",
        "ru": "Russian",
        "zh": "Chinese",
    }
    assert ref.is_language("pt") and ref.is_language("EN") and ref.is_language("sw")
    assert not ref.is_language("xx") and not ref.is_language("eng") and not ref.is_language("")


# --- ids --------------------------------------------------------------------------------


def test_network_and_champion_ids():
    assert reg.national_network_id("BD") == "nat-bd"
    assert reg.national_network_id("gw") == "nat-gw"
    assert reg.champion_id("BD") == "bd"
    with pytest.raises(KeyError):
        reg.national_network_id("XX")


def test_regional_network_id_is_stable_per_command():
    assert reg.regional_network_id("abc") == "reg-6f1d8305abb8"
    assert reg.regional_network_id("abc") == reg.regional_network_id("abc")
    assert reg.regional_network_id("abd") != reg.regional_network_id("abc")
    assert re.fullmatch(r"reg-[0-9a-f]{12}", reg.regional_network_id("x"))


def test_create_network_derives_its_aggregate_id():
    national = CreateNetwork(
        command_id=new_id(), actor="ops", scope="national", country="bd", network_name="UNNM Bangladesh"
    )
    regional = CreateNetwork(
        actor="ops", command_id="c1", scope="regional", region="asia-pacific", network_name="APRNM"
    )
    assert national.network_id == "nat-bd"
    assert regional.network_id == reg.regional_network_id("c1")


# --- validation -----------------------------------------------------------------------


def test_unknown_country_is_a_validation_error():
    with pytest.raises(ValidationError) as excinfo:
        CreateNetwork(command_id=new_id(), actor="ops", scope="national", country="XX", network_name="n")
    assert "unknown country code 'XX'" in errors_of(excinfo)["country"]


def test_country_codes_are_normalised_to_upper_case():
    assert (
        CreateNetwork(command_id=new_id(), actor="ops", scope="national", country="bd", network_name="n").country
        == "BD"
    )
    assert GetChampion(country="gh").country == "GH"
    with pytest.raises(ValidationError):
        GetChampion(country="BGD")


def test_entity_codes_are_checked_and_normalised():
    cmd = AddNetworkMember(command_id=new_id(), actor="ops", network_id="nat-bd", entity="iom")
    assert cmd.entity == "IOM" and cmd.role == "member"
    with pytest.raises(ValidationError) as excinfo:
        AddNetworkMember(command_id=new_id(), actor="ops", network_id="nat-bd", entity="NASA")
    assert "unknown UN entity 'NASA'" in errors_of(excinfo)["entity"]


def test_extra_fields_are_forbidden():
    with pytest.raises(ValidationError) as excinfo:
        AddNetworkMember(command_id=new_id(), actor="ops", network_id="nat-bd", entity="IOM", colour="blue")
    assert errors_of(excinfo)["colour"] == "Extra inputs are not permitted"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"scope": "national", "region": "africa"}, "a national network needs a country and no region"),
        ({"scope": "national", "country": "BD", "region": "asia-pacific"}, "a national network needs a country"),
        ({"scope": "regional"}, "a regional network needs a region and no country"),
        ({"scope": "regional", "region": "africa", "country": "ET"}, "a regional network needs a region"),
        ({"scope": "national", "country": "BD", "subregion": "South Asia"}, "subregion applies to regional"),
    ],
)
def test_create_network_scope_must_match_its_place(fields, message):
    with pytest.raises(ValidationError, match=message):
        CreateNetwork(command_id=new_id(), actor="ops", network_name="n", **fields)


def test_invalid_values_are_rejected_by_the_models():
    with pytest.raises(ValidationError):
        CreateNetwork(command_id=new_id(), actor="ops", scope="regional", region="antarctica", network_name="n")
    with pytest.raises(ValidationError):
        CreateNetwork(command_id=new_id(), actor="ops", scope="national", country="BD", network_name="")
    with pytest.raises(ValidationError):
        CreateNetwork(command_id=new_id(), actor="ops", scope="national", country="BD", network_name="n" * 201)
    with pytest.raises(ValidationError):
        CreateNetwork(
            command_id=new_id(), actor="ops", scope="national", country="BD", network_name="n", status="dormant"
        )
    with pytest.raises(ValidationError):
        CreateNetwork(
            command_id=new_id(),
            actor="ops",
            scope="national",
            country="BD",
            network_name="n",
            members=[{"entity": "IOM", "role": "chair"}],
        )
    with pytest.raises(ValidationError):
        CreateNetwork(command_id=new_id(), actor="ops", scope="national", country="BD", network_name="UNNM\x07")
    with pytest.raises(ValidationError):
        AddNetworkMember(command_id=new_id(), actor="ops", network_id="nat-bgd", entity="IOM")
    with pytest.raises(ValidationError):
        AddNetworkMember(command_id=new_id(), actor="ops", network_id="nat-bd.x", entity="IOM")


@pytest.mark.parametrize("email", ["no-at-sign", "a@b", "a b@c.org", "a@b.", "@un.org"])
def test_focal_point_email_must_look_like_an_email(email):
    with pytest.raises(ValidationError, match="not an e-mail address"):
        AssignFocalPoint(
            command_id=new_id(), actor="ops", network_id="nat-bd", focal_point_name="A", entity="IOM", email=email
        )


def test_focal_point_email_accepts_a_plain_address():
    cmd = AssignFocalPoint(
        command_id=new_id(), actor="ops", network_id="nat-bd", focal_point_name="A B", entity="IOM", email="ab@iom.int"
    )
    assert cmd.email == "ab@iom.int"


def test_champion_commands_check_criteria_and_regional_groups():
    cmd = NominateChampion(
        command_id=new_id(), actor="ops", country="bd", regional_group="asia-pacific", assessment=ALL_MET
    )
    assert cmd.country == "BD" and len(cmd.assessment) == 6
    with pytest.raises(ValidationError, match="unknown champion criterion 'beauty'"):
        NominateChampion(
            command_id=new_id(),
            actor="ops",
            country="BD",
            regional_group="asia-pacific",
            assessment=[{"criterion": "beauty", "met": True}],
        )
    with pytest.raises(ValidationError, match="unknown champion regional group 'oceania'"):
        NominateChampion(command_id=new_id(), actor="ops", country="BD", regional_group="oceania", assessment=ALL_MET)


def test_query_models():
    q = ListNetworks(country="bd", member="iom")
    assert (q.country, q.member, q.limit, q.offset) == ("BD", "IOM", 50, 0)
    assert ListNetworks(limit=200, offset=100_000).limit == 200
    for bad in (
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"offset": 100_001},
        {"offset": 2**63},
        {"status": "dormant"},
        {"member": "NASA"},
    ):
        with pytest.raises(ValidationError):
            ListNetworks(**bad)
    assert DirectorySummary().as_of is None
    assert DirectorySummary(as_of="2020-10-01").as_of == ON
    assert ListNetworks.subject() == "registry.queries.list-networks"


# --- events, subjects, catalogues -------------------------------------------------------


def test_event_subjects_and_types():
    created = NetworkCreated(
        network_id="nat-bd", scope="national", country="BD", network_name="n", status="established", occurred_on=ON
    )
    assert created.subject == "registry.events.network.nat-bd.created"
    assert created.aggregate_id == "nat-bd"
    assert NetworkCreated.ce_type() == "int.un-migration.mignet.registry.network.created.v1"
    assert NetworkCreated.dataschema() == (
        "https://mignet.un-migration.int/schemas/events/registry.network.created.v1.json"
    )
    nominated = ChampionNominated(country="bd", regional_group="asia-pacific", assessment=ALL_MET, occurred_on=ON)
    assert nominated.country == "BD"
    assert nominated.aggregate_id == "bd"
    assert nominated.subject == "registry.events.champion.bd.nominated"
    assert ChampionWithdrawn.ce_type() == "int.un-migration.mignet.registry.champion.withdrawn.v1"


def test_only_focal_point_events_are_private():
    assert [e.name for e in reg.REGISTRY_EVENTS if not e.public] == ["focal-point-assigned", "personal-data-erased"]
    assert NetworkFocalPointAssigned.public is False


def test_event_json_round_trip():
    joined = NetworkMemberJoined(network_id="reg-0123456789ab", entity="un-women", role="co-lead", occurred_on=ON)
    payload = joined.model_dump_json()
    assert '"entity":"UN-WOMEN"' in payload
    assert NetworkMemberJoined.model_validate_json(payload) == joined


def test_catalogues():
    assert len(reg.REGISTRY_EVENTS) == 15 and len(reg.REGISTRY_COMMANDS) == 15 and len(reg.REGISTRY_QUERIES) == 5
    assert [c.name for c in reg.REGISTRY_COMMANDS] == [
        "create-network",
        "change-network-status",
        "rename-network",
        "change-network-description",
        "add-network-member",
        "remove-network-member",
        "align-terms-of-reference",
        "assign-focal-point",
        "add-member-role",
        "remove-member-role",
        "classify-network",
        "erase-personal-data",
        "nominate-champion",
        "confirm-champion",
        "withdraw-champion",
    ]
    assert CreateNetwork.subject() == "registry.commands.create-network"
    assert all(
        e.service == c.service == "registry" for e, c in zip(reg.REGISTRY_EVENTS, reg.REGISTRY_COMMANDS, strict=False)
    )
    assert reg.event_class("network", "tor-aligned") is reg.NetworkTermsOfReferenceAligned
    assert reg.event_class("champion", "confirmed") is reg.ChampionConfirmed
    with pytest.raises(KeyError):
        reg.event_class("network", "confirmed")
    assert len({e.ce_type() for e in reg.REGISTRY_EVENTS}) == 15


def test_every_model_publishes_a_json_schema():
    for model in (*reg.REGISTRY_COMMANDS, *reg.REGISTRY_QUERIES):
        schema = model.model_json_schema()
        assert schema["type"] == "object" and schema["additionalProperties"] is False
    for event in reg.REGISTRY_EVENTS:  # open to fields added later within a version
        schema = event.model_json_schema()
        assert schema["type"] == "object" and "additionalProperties" not in schema


@pytest.mark.parametrize(
    ("model", "fields", "expected"),
    [
        ("GetNetwork", {"network_id": "nat-zzz"}, "'nat-zzz' is not a network id: expected 'global', 'nat-'"),
        ("GetChampion", {"country": "BGD"}, "'BGD' is not a country code: expected two letters (ISO 3166-1 alpha-2)"),
        ("ListNetworks", {"member": "I"}, "'I' is not a UN entity code: expected an acronym such as 'IOM'"),
    ],
)
def test_malformed_ids_say_what_is_expected_not_the_regex(model, fields, expected):
    with pytest.raises(ValidationError) as excinfo:
        getattr(reg, model)(**fields)
    [error] = excinfo.value.errors()
    assert expected in error["msg"] and "pattern" not in error["msg"]
