"""The registry's read models as pure functions of (document, event): no database needed."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

from mignet_contracts import registry as c
from mignet_contracts.catalog import upcast
from mignet_registry.projections import CHAMPIONS, NETWORKS
from mignet_registry.queries import summarize
from mignet_runtime.codec import RecordedEvent
from mignet_runtime.projection import fold

D = date(2020, 10, 31)


def recorded(seq: int, event) -> RecordedEvent:
    return RecordedEvent(
        seq, event.subject, event, f"e{seq}", datetime(2026, 1, 1, tzinfo=UTC), f"c{seq}", "test", None, None
    )


def network_history():
    return [
        recorded(
            1,
            c.NetworkCreated(
                network_id="nat-bd",
                scope="national",
                country="BD",
                status="under-consideration",
                network_name="UN Network on Migration in Bangladesh",
                occurred_on=D,
            ),
        ),
        recorded(2, c.NetworkMemberJoined(network_id="nat-bd", entity="IOM", role="coordinator", occurred_on=D)),
        recorded(3, c.NetworkMemberJoined(network_id="nat-bd", entity="UNICEF", role="member", occurred_on=D)),
        recorded(
            4,
            c.NetworkFocalPointAssigned(
                network_id="nat-bd",
                focal_point_name="A. Rahman",
                entity="UNICEF",
                email="a.rahman@example.org",
                occurred_on=D,
            ),
        ),
        recorded(
            5,
            c.NetworkStatusChanged(
                network_id="nat-bd",
                from_status="under-consideration",
                to_status="established",
                occurred_on=date(2021, 2, 1),
            ),
        ),
        recorded(6, c.NetworkMemberLeft(network_id="nat-bd", entity="UNICEF", occurred_on=date(2021, 3, 1))),
    ]


def test_network_document_follows_its_events():
    doc = fold(NETWORKS, network_history())["nat-bd"]
    assert doc["_seq"] == 6
    assert doc["region"] == "asia-pacific" and doc["country_name"] == "Bangladesh"
    assert doc["status"] == "established" and doc["status_since"] == "2021-02-01"
    assert [h["status"] for h in doc["status_history"]] == ["under-consideration", "established"]
    assert doc["members"] == [
        {"entity": "IOM", "role": "coordinator", "roles": ["coordinator"], "joined_on": "2020-10-31"}
    ]
    assert doc["roles"] == {"coordinator": ["IOM"]}
    assert doc["member_count"] == 1
    assert doc["focal_point"] is None  # the focal point's entity left


def test_applying_the_same_events_again_changes_nothing():
    once = fold(NETWORKS, network_history())
    # A redelivery of everything after the creation (which would rebuild the document from scratch
    # and hide a double application), onto a deep copy (a shallow one would share the member lists
    # with ``once``): only the ``_seq`` check keeps the members and the status history from doubling.
    twice = fold(NETWORKS, network_history()[1:], docs=copy.deepcopy(once))
    assert twice == once
    assert [h["status"] for h in twice["nat-bd"]["status_history"]] == ["under-consideration", "established"]


def test_event_before_creation_is_ignored():
    joined = recorded(1, c.NetworkMemberJoined(network_id="nat-mx", entity="IOM", role="member", occurred_on=D))
    assert fold(NETWORKS, [joined]) == {}


def test_champion_lifecycle():
    criteria = [{"criterion": code, "met": code != "geographic-balance"} for code in c.reference.CHAMPION_CRITERIA]
    events = [
        recorded(
            1,
            c.ChampionNominated(
                country="PT", regional_group="western-european-and-others", assessment=criteria, occurred_on=D
            ),
        ),
        recorded(2, c.ChampionConfirmed(country="PT", occurred_on=D)),
        recorded(3, c.ChampionWithdrawn(country="PT", reason="asked to step down", occurred_on=date(2022, 1, 1))),
    ]
    doc = fold(CHAMPIONS, events)["pt"]
    assert (doc["status"], doc["criteria_met"], doc["withdrawn_on"]) == ("withdrawn", 5, "2022-01-01")
    assert doc["region"] == "europe-north-america-central-asia"


def test_directory_summary_counts_by_status_region_and_group():
    networks = fold(NETWORKS, network_history()).values()
    nominated = recorded(
        7,
        c.ChampionNominated(
            country="BD",
            regional_group="asia-pacific",
            occurred_on=D,
            assessment=[{"criterion": code, "met": True} for code in c.reference.CHAMPION_CRITERIA],
        ),
    )
    champions = fold(CHAMPIONS, [nominated]).values()
    summary = summarize(networks, champions, D)
    assert summary["as_of"] == "2020-10-31"
    assert summary["networks"]["by_status"] == {"established": 1}
    assert summary["networks"]["by_region"] == {"asia-pacific": {"national/established": 1}}
    assert summary["champions"]["by_regional_group"] == {"asia-pacific": {"nominated": 1}}
    assert summary["champions"]["countries"][0]["country_name"] == "Bangladesh"


def test_rename_and_description_change_show_in_the_network_document():
    history = [
        *network_history(),
        recorded(
            7,
            c.NetworkRenamed(
                network_id="nat-bd",
                from_name="UN Network on Migration in Bangladesh",
                network_name="Bangladesh Migration Network",
                occurred_on=D,
            ),
        ),
        recorded(8, c.NetworkDescriptionChanged(network_id="nat-bd", description="Meets in Dhaka.", occurred_on=D)),
    ]
    doc = fold(NETWORKS, history)["nat-bd"]
    assert (doc["name"], doc["description"], doc["_seq"]) == ("Bangladesh Migration Network", "Meets in Dhaka.", 8)
    removed = fold(NETWORKS, [*history, recorded(9, c.NetworkDescriptionChanged(network_id="nat-bd", occurred_on=D))])[
        "nat-bd"
    ]
    assert removed["description"] is None


def test_a_confirmation_override_reason_shows_on_the_champion():
    assessment = [
        {"criterion": code, "met": code != "geographic-balance"}
        for code in (
            "geographic-balance",
            "360-degree-vision",
            "host-government-commitment",
            "existing-un-network",
            "resident-coordinator-support",
            "alignment-with-processes",
        )
    ]
    doc = fold(
        CHAMPIONS,
        [
            recorded(
                1,
                c.ChampionNominated(country="BD", regional_group="asia-pacific", assessment=assessment, occurred_on=D),
            ),
            recorded(
                2, c.ChampionConfirmed(country="BD", criteria_met=5, override_reason="EC decision", occurred_on=D)
            ),
        ],
    )["bd"]
    assert (doc["status"], doc["criteria_met"], doc["override_reason"]) == ("confirmed", 5, "EC decision")


def test_a_member_holds_several_roles_and_the_document_lists_them_by_role():
    def role(seq, event_type, entity, role_name):
        return recorded(seq, event_type(network_id="global", entity=entity, role=role_name, occurred_on=D))

    created = c.NetworkCreated(
        network_id="global", scope="global", network_name="UN Network on Migration", status="established", occurred_on=D
    )
    events = [
        recorded(1, created),
        role(2, c.NetworkMemberJoined, "IOM", "coordinator"),
        role(3, c.NetworkMemberJoined, "ILO", "executive-committee"),
        role(4, c.NetworkMemberRoleAdded, "IOM", "executive-committee"),
        role(5, c.NetworkMemberRoleAdded, "IOM", "secretariat"),
        role(6, c.NetworkMemberJoined, "UNDP", "member"),
        role(7, c.NetworkMemberRoleAdded, "UNDP", "co-lead"),
        role(8, c.NetworkMemberRoleRemoved, "UNDP", "co-lead"),
    ]
    doc = fold(NETWORKS, events)["global"]
    assert {m["entity"]: m["roles"] for m in doc["members"]} == {
        "IOM": ["coordinator", "executive-committee", "secretariat"],
        "ILO": ["executive-committee"],
        "UNDP": ["member"],
    }
    assert doc["roles"] == {
        "coordinator": ["IOM"],
        "member": ["UNDP"],
        "secretariat": ["IOM"],
        "executive-committee": ["IOM", "ILO"],
    }


def test_terms_of_reference_keep_who_agreed_and_who_was_consulted_and_old_events_still_fold():
    # A v1 event from before who agreed was recorded, upcast as the codec does when it reads one.
    old = upcast(
        c.NetworkTermsOfReferenceAlignedV1(
            network_id="nat-bd",
            aligned_on=date(2021, 1, 5),
            consulted_executive_committee=True,
            occurred_on=date(2021, 1, 5),
        )
    )
    doc = fold(NETWORKS, [*network_history(), recorded(7, old)])["nat-bd"]
    assert doc["tor"]["complete"] is None and doc["tor"]["agreed_by"] is None
    assert doc["tor_aligned_on"] == "2021-01-05" and doc["tor_consulted_executive_committee"] is True
    assert doc["tor"]["consulted"] == ["ILO", "IOM", "OHCHR", "UNDESA", "UNDP", "UNHCR", "UNICEF", "UNODC"]
    assert doc["tor"]["not_consulted"] == []
    new = c.NetworkTermsOfReferenceAligned(
        network_id="nat-bd",
        aligned_on=date(2022, 1, 5),
        agreed_by=["IOM"],
        consulted=["IOM", "UNHCR"],
        not_agreed=[],
        not_consulted=["ILO", "OHCHR", "UNDESA", "UNDP", "UNICEF", "UNODC"],
        occurred_on=date(2022, 1, 5),
    )
    doc = fold(NETWORKS, [*network_history(), recorded(7, old), recorded(8, new)])["nat-bd"]
    assert doc["tor"]["complete"] is False
    assert doc["tor"]["not_consulted"] == ["ILO", "OHCHR", "UNDESA", "UNDP", "UNICEF", "UNODC"]
    assert doc["tor"]["agreed_by"] == ["IOM"]


def test_the_kind_is_projected_and_can_change():
    created = c.NetworkCreated(
        network_id="reg-0123456789ab",
        scope="regional",
        region="asia-pacific",
        network_name="Issue-based coalition on migration",
        status="established",
        kind="issue-based-coalition",
        occurred_on=D,
    )
    changed = c.NetworkKindChanged(
        network_id="reg-0123456789ab", from_kind="issue-based-coalition", kind="new-network", occurred_on=D
    )
    assert fold(NETWORKS, [recorded(1, created)])["reg-0123456789ab"]["kind"] == "issue-based-coalition"
    assert fold(NETWORKS, [recorded(1, created), recorded(2, changed)])["reg-0123456789ab"]["kind"] == "new-network"
