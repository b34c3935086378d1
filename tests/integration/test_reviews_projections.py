"""The reviews read models and page helpers as pure functions (no servers needed).

Kept beside the other reviews tests; they would sit as well in tests/unit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from mignet_contracts import registry as r
from mignet_contracts import reviews as c
from mignet_reviews.projections import CONTRIBUTIONS, REVIEWS
from mignet_reviews.registry_mirror import CHAMPIONS, NETWORKS, facts
from mignet_reviews.templating import date_range, web_url
from mignet_runtime.codec import RecordedEvent
from mignet_runtime.projection import fold

AP = "asia-pacific-2024-2025"
CID = "c-0123456789abcdef"
ON = date(2024, 11, 1)


def recorded(events) -> list[RecordedEvent]:
    at = datetime(2024, 11, 1, 12, tzinfo=UTC)
    return [
        RecordedEvent(seq, e.subject, e, f"id-{seq}", at, f"cmd-{seq}", "test", None, None)
        for seq, e in enumerate(events, start=1)
    ]


def submitted(**fields) -> c.ContributionSubmitted:
    values = dict(
        contribution_id=CID,
        review_id=AP,
        region="asia-pacific",
        cycle="2024-2025",
        contributor={"kind": "stakeholder", "category": "nhri", "organization": "Commission X", "country": "PH"},
        level="national",
        title="T",
        summary="S",
        objectives=[7, 3],
        language="en",
        occurred_on=ON,
    )
    return c.ContributionSubmitted(**{**values, **fields})


def test_contribution_read_model_never_holds_the_contact():
    events = recorded(
        [
            submitted(),
            c.ContributionContactRecorded(
                contribution_id=CID, occurred_on=ON, contact={"name": "Private Name", "email": "private@example.org"}
            ),
            c.ContributionPublished(contribution_id=CID, note="Thanks.", occurred_on=date(2024, 11, 5)),
        ]
    )
    doc = fold(CONTRIBUTIONS, events)[CID]
    assert "Private Name" not in repr(doc) and "private@example.org" not in repr(doc)
    assert doc["_seq"] == 3 and doc["status"] == "published" and doc["published_on"] == "2024-11-05"
    assert doc["contributor"]["category_label"] == "National human rights institutions"
    assert (doc["contributor_kind"], doc["contributor_name"], doc["country"]) == ("stakeholder", "Commission X", "PH")
    assert doc["objectives"] == [3, 7]
    assert [h["status"] for h in doc["status_history"]] == ["submitted", "published"]


def test_contact_alone_writes_nothing():
    events = recorded(
        [
            submitted(),
            c.ContributionContactRecorded(
                contribution_id=CID, occurred_on=ON, contact={"name": "N", "email": "n@example.org"}
            ),
        ]
    )
    assert fold(CONTRIBUTIONS, events)[CID]["_seq"] == 1  # the contact event was skipped, not applied


def test_withdrawal_keeps_the_reason_but_not_who_withdrew():
    events = recorded(
        [
            submitted(),
            c.ContributionWithdrawn(
                contribution_id=CID, reason="Replaced.", withdrawn_by="someone:private", occurred_on=ON
            ),
        ]
    )
    doc = fold(CONTRIBUTIONS, events)[CID]
    assert doc["status"] == "withdrawn" and doc["withdrawal_reason"] == "Replaced."
    assert "someone:private" not in repr(doc)


def test_review_read_model_follows_the_lifecycle():
    events = recorded(
        [
            c.RegionalReviewScheduled(
                review_id=AP,
                region="asia-pacific",
                cycle="2024-2025",
                commission="ESCAP",
                meeting_start=date(2025, 2, 4),
                meeting_end=date(2025, 2, 6),
                venue="Bangkok",
                occurred_on=date(2024, 6, 1),
            ),
            c.ReviewOpenedForContributions(review_id=AP, occurred_on=date(2024, 9, 1)),
            c.ReviewClosed(review_id=AP, occurred_on=date(2025, 2, 6)),
        ]
    )
    doc = fold(REVIEWS, events)[AP]
    assert doc["commission_name"] == "Economic and Social Commission for Asia and the Pacific"
    assert (doc["status"], doc["opened_on"], doc["closed_on"]) == ("closed", "2024-09-01", "2025-02-06")


def test_registry_mirror_keeps_national_networks_and_champions_only():
    network_events = recorded(
        [
            r.NetworkCreated(
                network_id="nat-bd",
                scope="national",
                country="BD",
                network_name="N",
                status="under-consideration",
                occurred_on=ON,
            ),
            r.NetworkCreated(
                network_id="reg-0123456789ab",
                scope="regional",
                region="asia-pacific",
                network_name="R",
                status="established",
                occurred_on=ON,
            ),
            r.NetworkFocalPointAssigned(
                network_id="nat-bd", focal_point_name="F", entity="IOM", email="focal@example.org", occurred_on=ON
            ),
            r.NetworkStatusChanged(
                network_id="nat-bd",
                from_status="under-consideration",
                to_status="established",
                occurred_on=date(2024, 12, 1),
            ),
        ]
    )
    networks = fold(NETWORKS, network_events)
    assert networks == {
        "BD": {
            "_id": "BD",
            "_seq": 4,
            "country": "BD",
            "network_id": "nat-bd",
            "status": "established",
            "status_since": "2024-12-01",
        }
    }
    champions = fold(
        CHAMPIONS,
        recorded(
            [
                r.ChampionConfirmed(country="TH", occurred_on=ON),  # without a nomination: ignored
                r.ChampionNominated(country="BD", regional_group="asia-pacific", assessment=[], occurred_on=ON),
                r.ChampionConfirmed(country="BD", occurred_on=ON),
            ]
        ),
    )
    assert list(champions) == ["BD"] and champions["BD"]["status"] == "confirmed"

    assert facts("BD", networks, champions) == {
        "country_has_network": True,
        "network_status": "established",
        "country_is_champion": True,
        "champion_status": "confirmed",
    }
    assert facts("PH", networks, champions) == {
        "country_has_network": False,
        "network_status": None,
        "country_is_champion": False,
        "champion_status": None,
    }
    assert set(facts(None, networks, champions).values()) == {None}


def test_only_web_links_become_links():
    assert web_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert web_url("HTTP://example.org") == "HTTP://example.org"
    for unsafe in ("javascript:alert(1)", "data:text/html,x", "//example.org", "https://", "mailto:a@b.org", None):
        assert web_url(unsafe) is None, unsafe


def test_meeting_dates_read_naturally():
    assert date_range("2024-03-11", "2024-03-11") == "11 March 2024"
    assert date_range("2025-02-04", "2025-02-06") == "4–6 February 2025"
    assert date_range("2021-08-31", "2021-09-01") == "31 August – 1 September 2021"
    assert date_range("2024-12-30", "2025-01-02") == "30 December 2024 – 2 January 2025"
    assert date_range(None, None) == "dates to be announced"
