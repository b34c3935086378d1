"""The public pages' mirror of the working groups, and what the pages make of it, without a database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from mignet_contracts import working_groups as wg
from mignet_reviews import i18n
from mignet_reviews.directory import pilots_on
from mignet_reviews.localized import Localized
from mignet_reviews.working_group_mirror import WORKING_GROUPS
from mignet_reviews.working_groups_page import current_network, ordered, summary
from mignet_runtime.codec import RecordedEvent
from mignet_runtime.projection import fold

OUTPUT = "o-0123456789ab"
OTHER = "o-ba9876543210"
PRIVATE_NOTE = "ended early: ask jane.doe@example.org"


def recorded(seq: int, event) -> RecordedEvent:
    return RecordedEvent(
        seq, event.subject, event, f"e{seq}", datetime(2026, 1, 1, tzinfo=UTC), f"c{seq}", "test", None, None
    )


def history() -> list[RecordedEvent]:
    data = dict(group_id="data")
    first = dict(group_id="data", occurred_on=date(2020, 1, 1))
    events = [
        wg.WorkingGroupCreated(**first, group_name="Data", core=False, workstream="data"),
        wg.WorkingGroupMemberJoined(**first, member={"kind": "un-entity", "entity": "IOM"}, lead=True),
        wg.WorkingGroupMemberJoined(
            **first, member={"kind": "stakeholder", "category": "academia", "organization": "A University"}
        ),
        wg.WorkingGroupMemberJoined(**first, member={"kind": "un-entity", "entity": "UNDESA"}),
        wg.WorkingGroupMemberLeft(**first, member={"kind": "un-entity", "entity": "UNDESA"}),
        wg.OutputAdded(**data, output_id=OUTPUT, kind="tool", title="Toolkit", occurred_on=date(2020, 2, 1)),
        wg.OutputStatusChanged(
            **data, output_id=OUTPUT, from_status="draft", to_status="published", occurred_on=date(2020, 3, 1)
        ),
        wg.OutputPilotStarted(**first, output_id=OUTPUT, network_id="nat-bd", started_on=date(2020, 4, 1)),
        wg.OutputPilotEnded(
            **first, output_id=OUTPUT, network_id="nat-bd", ended_on=date(2020, 9, 30), note=PRIVATE_NOTE
        ),
        wg.OutputPilotStarted(**first, output_id=OUTPUT, network_id="nat-ph", started_on=date(2021, 1, 1)),
        wg.OutputStatusChanged(**first, output_id=OTHER, from_status="draft", to_status="published"),  # unknown output
    ]
    return [recorded(seq, event) for seq, event in enumerate(events, start=1)]


def test_the_mirror_keeps_members_outputs_and_pilots_but_no_pilot_note():
    doc = fold(WORKING_GROUPS, history())["data"]
    assert [m["key"] for m in doc["members"]] == ["IOM", "academia:a university"]
    [output] = doc["outputs"]
    assert (output["status"], output["status_since"], output["added_on"]) == ("published", "2020-03-01", "2020-02-01")
    assert output["pilots"] == [
        {"network_id": "nat-bd", "started_on": "2020-04-01", "ended_on": "2020-09-30"},
        {"network_id": "nat-ph", "started_on": "2021-01-01", "ended_on": None},
    ]
    assert doc["pilot_networks"] == ["nat-bd", "nat-ph"]
    assert PRIVATE_NOTE not in json.dumps(doc)
    assert doc["_seq"] == 10  # the last event, about an output the group does not have, changed nothing


def test_events_before_the_groups_creation_are_ignored():
    late = history()[1:]
    assert fold(WORKING_GROUPS, late) == {}


def test_the_list_puts_core_groups_first_in_the_faqs_order():
    groups = [
        {"group_id": "zeta", "name": "Zeta", "core": False},
        {"group_id": "data", "name": "Data", "core": False},
        {"group_id": "national-implementation-plans", "name": "GCM national implementation plans", "core": True},
        {"group_id": "knowledge-platform", "name": "Knowledge platform and connection hub", "core": True},
        {"group_id": "access-to-services", "name": "Access to services", "core": False},
    ]
    assert [g["group_id"] for g in ordered(groups)] == [
        "knowledge-platform",
        "national-implementation-plans",
        "data",
        "access-to-services",
        "zeta",
    ]


def test_a_summary_counts_and_orders_the_leads():
    doc = fold(WORKING_GROUPS, history())["data"]
    doc["members"].append(
        {"key": "x", "kind": "stakeholder", "category": "media", "organization": "B Media", "lead": True}
    )
    found = summary(doc)
    assert [m.get("entity") or m["organization"] for m in found["leads"]] == ["IOM", "B Media"]
    assert (found["member_count"], found["output_count"], found["published_count"], found["pilot_count"]) == (
        3,
        1,
        1,
        2,
    )


def test_a_piloting_network_shows_its_latest_name_or_its_id_when_not_mirrored():
    doc = {
        "network_id": "nat-bd",
        "country": "BD",
        "region": "asia-pacific",
        "names": [{"since": "2019-06-01", "name": "Old"}, {"since": "2022-01-01", "name": "New"}],
        "statuses": [{"since": "2019-06-01", "status": "established"}],
    }
    assert current_network(doc, "nat-bd")["name"] == "New"
    assert current_network(None, "nat-xx") == {
        "network_id": "nat-xx",
        "name": "nat-xx",
        "country": None,
        "region": None,
    }


def test_the_faqs_groups_are_translated_and_others_shown_as_recorded():
    arabic = Localized("ar")
    assert arabic.working_group_name(
        {"group_id": "knowledge-platform", "name": "Knowledge platform and connection hub"}
    ) == ("منصة المعارف ومركز الاتصال")
    # Renamed in the registry: the recorded name, isolated, not a translation of the old one.
    renamed = {"group_id": "data", "name": "Data <and> statistics"}
    assert str(arabic.working_group_name(renamed)) == "<bdi>Data &lt;and&gt; statistics</bdi>"
    assert arabic.working_group_name(renamed, isolate=False) == "Data <and> statistics"
    assert str(arabic.workstream_name("2.1")).startswith("<bdi>2.1</bdi> تعزيز قدرات الأمم المتحدة")
    assert Localized(i18n.SOURCE_LANGUAGE).workstream_name("data") == "Data"


def test_the_directory_shows_what_each_network_was_piloting_on_the_day():
    groups = [fold(WORKING_GROUPS, history())["data"]]
    assert pilots_on(groups, "2020-03-31") == {}
    [bd] = pilots_on(groups, "2020-09-30")["nat-bd"]  # the day it ended still counts
    assert (bd["group"], bd["output_id"], bd["title"]) == ({"group_id": "data", "name": "Data"}, OUTPUT, "Toolkit")
    assert set(pilots_on(groups, "2020-10-01")) == set()
    assert set(pilots_on(groups, "2021-06-01")) == {"nat-ph"}
