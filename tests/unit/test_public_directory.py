"""The public directory as of a date: its mirror's documents and the view of one day, without a database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from mignet_contracts import registry as c
from mignet_reviews.directory import directory
from mignet_reviews.directory_mirror import DIRECTORY_CHAMPIONS, DIRECTORY_NETWORKS
from mignet_reviews.directory_page import BadDate, chosen_day
from mignet_runtime.codec import RecordedEvent
from mignet_runtime.projection import fold

EMAIL = "focal.point.private@example.org"


def recorded(seq: int, event) -> RecordedEvent:
    return RecordedEvent(
        seq, event.subject, event, f"e{seq}", datetime(2026, 1, 1, tzinfo=UTC), f"c{seq}", "test", None, None
    )


def history() -> list[RecordedEvent]:
    bd = dict(network_id="nat-bd")
    events = [
        c.NetworkCreated(
            **bd,
            scope="national",
            country="BD",
            status="under-consideration",
            network_name="UN Network on Migration in Bangladesh",
            occurred_on=date(2019, 6, 1),
        ),
        c.NetworkFocalPointAssigned(
            **bd, focal_point_name="F. Point", entity="IOM", email=EMAIL, occurred_on=date(2019, 7, 1)
        ),
        c.NetworkStatusChanged(
            **bd, from_status="under-consideration", to_status="established", occurred_on=date(2021, 3, 1)
        ),
        c.NetworkRenamed(
            **bd,
            from_name="UN Network on Migration in Bangladesh",
            network_name="Bangladesh Network on Migration",
            occurred_on=date(2022, 1, 1),
        ),
        c.NetworkCreated(
            network_id="reg-000000000001",
            scope="regional",
            region="asia-pacific",
            status="established",
            network_name="Asia-Pacific Regional UN Network on Migration",
            occurred_on=date(2020, 11, 15),
        ),
        c.NetworkCreated(
            network_id="global",
            scope="global",
            status="established",
            network_name="United Nations Network on Migration",
            occurred_on=date(2018, 5, 1),
        ),
        # Back-filled later in the stream, but it happened earlier: the business date counts.
        c.NetworkCreated(
            network_id="nat-ma",
            scope="national",
            country="MA",
            status="being-established",
            network_name="UN Network on Migration in Morocco",
            occurred_on=date(2020, 2, 1),
        ),
    ]
    return [recorded(seq, event) for seq, event in enumerate(events, start=1)]


def champions() -> list[RecordedEvent]:
    assessment = [{"criterion": "geographic-balance", "met": True}]
    events = [
        c.ChampionNominated(
            country="PT",
            regional_group="western-european-and-others",
            assessment=assessment,
            occurred_on=date(2020, 10, 31),
        ),
        c.ChampionConfirmed(country="PT", occurred_on=date(2020, 10, 31)),
        c.ChampionNominated(
            country="NP", regional_group="asia-pacific", assessment=assessment, occurred_on=date(2020, 10, 31)
        ),
        c.ChampionWithdrawn(country="NP", reason="Stepped down.", occurred_on=date(2022, 5, 1)),
    ]
    return [recorded(seq, event) for seq, event in enumerate(events, start=100)]


def view(day: date) -> dict:
    networks = list(fold(DIRECTORY_NETWORKS, history()).values())
    champion_docs = list(fold(DIRECTORY_CHAMPIONS, champions()).values())
    return directory(networks, champion_docs, day)


def region(found: dict, code: str) -> dict:
    return next(r for r in found["regions"] if r["region"] == code)


def test_a_network_shows_the_status_and_name_it_had_on_the_day():
    then = region(view(date(2020, 10, 31)), "asia-pacific")
    assert [(n["network_id"], n["status"], n["name"]) for n in then["networks"]] == [
        ("nat-bd", "under-consideration", "UN Network on Migration in Bangladesh")
    ]
    assert then["counts"] == {"under-consideration": 1}
    later = region(view(date(2023, 1, 1)), "asia-pacific")
    assert [(n["network_id"], n["status"], n["name"]) for n in later["networks"]] == [
        ("reg-000000000001", "established", "Asia-Pacific Regional UN Network on Migration"),
        ("nat-bd", "established", "Bangladesh Network on Migration"),
    ]
    assert later["counts"] == {"established": 2}


def test_networks_created_after_the_day_are_not_listed_and_back_filled_ones_are():
    before = view(date(2019, 1, 1))
    assert before["network_total"] == 0 and [n["network_id"] for n in before["global"]] == ["global"]
    arab = region(view(date(2020, 10, 31)), "arab-region")
    assert [(n["network_id"], n["status"], n["status_since"]) for n in arab["networks"]] == [
        ("nat-ma", "being-established", "2020-02-01")
    ]


def test_champions_by_group_as_of_the_day_without_the_withdrawn():
    then = view(date(2020, 10, 31))
    assert [(g["group"], [ch["country"] for ch in g["countries"]]) for g in then["champion_groups"]] == [
        ("asia-pacific", ["NP"]),
        ("western-european-and-others", ["PT"]),
    ]
    assert then["champion_total"] == 2
    assert [ch["status"] for g in then["champion_groups"] for ch in g["countries"]] == ["nominated", "confirmed"]
    after = view(date(2022, 5, 1))
    assert after["champion_total"] == 1 and after["champion_groups"][0]["group"] == "western-european-and-others"
    assert view(date(2020, 10, 30))["champion_total"] == 0


def test_the_mirror_holds_no_focal_point():
    docs = fold(DIRECTORY_NETWORKS, history())
    assert EMAIL not in json.dumps(docs) and "F. Point" not in json.dumps(docs)


@pytest.mark.parametrize(
    "value", ["2999-01-01", "2026-12-08", "2017-12-31", "2018-04-30", "31/10/2020", "2020-1-1", "x"]
)
def test_a_date_outside_the_networks_life_or_malformed_is_refused(value):
    with pytest.raises(BadDate):
        chosen_day(value, today=date(2026, 12, 7))


def test_the_day_defaults_to_today():
    today = date(2026, 12, 7)
    assert chosen_day("", today) == today and chosen_day("2020-10-31", today) == date(2020, 10, 31)
    assert chosen_day("2018-05-01", today) == date(2018, 5, 1)
