"""The reviews service's commands, events and queries: ids, subjects, validation, personal data."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest
from pydantic import ValidationError

from mignet_contracts import reviews as rv
from mignet_contracts.envelope import new_id
from mignet_contracts.reference import RegionCode
from mignet_contracts.reviews import (
    Compilation,
    ContributionContactRecorded,
    ContributionSubmitted,
    ContributionWithdrawn,
    ListContributions,
    PublishedContribution,
    PublishReviewReport,
    RegionalReviewScheduled,
    ReviewReportPublished,
    ScheduleReview,
    SubmitContribution,
)

ON = date(2025, 1, 15)
REVIEW_ID = "asia-pacific-2024-2025"
CONTACT = {"name": "Ana Reyes", "email": "ana.reyes@example.org"}


def errors_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in excinfo.value.errors()}


def submission(**overrides) -> dict:
    fields = {
        "command_id": new_id(),
        "actor": "portal",
        "review_id": REVIEW_ID,
        "contributor": {"kind": "stakeholder", "category": "civil-society", "organization": "Migrant Forum in Asia"},
        "level": "regional",
        "title": "Fair recruitment in the Gulf corridor",
        "summary": "What worked.",
        "body": "Line one.\n\tIndented line two.",
        "objectives": [6, 23],
        "guiding_principles": ["whole-of-society"],
        "language": "en",
        "links": ["https://mfasia.org/report.pdf"],
        "contact": CONTACT,
    }
    return {**fields, **overrides}


def submitted_event(**overrides) -> ContributionSubmitted:
    fields = submission()
    for name in ("command_id", "actor", "contact"):
        fields.pop(name)
    return ContributionSubmitted(
        **{
            **fields,
            "contribution_id": "c-0123456789abcdef",
            "region": "asia-pacific",
            "cycle": "2024-2025",
            "occurred_on": ON,
            **overrides,
        }
    )


# --- ids and subjects ----------------------------------------------------------------------


def test_review_id_joins_region_and_cycle():
    assert rv.review_id(RegionCode.ASIA_PACIFIC, "2024-2025") == "asia-pacific-2024-2025"
    enaca = "europe-north-america-central-asia"
    assert rv.review_id(enaca, "2020-2021") == "europe-north-america-central-asia-2020-2021"


def test_review_id_refuses_unknown_region_and_bad_cycle():
    with pytest.raises(ValueError):
        rv.review_id("oceania", "2024-2025")
    with pytest.raises(ValueError, match="consecutive"):
        rv.review_id("africa", "2024-2026")


def test_parse_review_id_round_trips_every_region():
    for region in RegionCode:
        assert rv.parse_review_id(rv.review_id(region, "2028-2029")) == (region, "2028-2029")


@pytest.mark.parametrize(
    "bad", ["asia-2024-2025", "asia-pacific", "asia-pacific-2024", "Asia-Pacific-2024-2025", "africa-2024-2026"]
)
def test_parse_review_id_refuses_what_names_no_review(bad):
    with pytest.raises(ValueError):
        rv.parse_review_id(bad)


def test_contribution_id_is_stable_per_command_id():
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "https://mignet.un-migration.int/reviews/contributions")
    assert namespace == rv.CONTRIBUTION_ID_NAMESPACE
    assert rv.contribution_id("cmd-1") == "c-" + uuid.uuid5(namespace, "cmd-1").hex[:16]
    assert rv.contribution_id("cmd-1") == rv.contribution_id("cmd-1")
    assert rv.contribution_id("cmd-1") != rv.contribution_id("cmd-2")
    assert len(rv.contribution_id("cmd-1")) == 18


def test_submit_command_targets_the_contribution_its_command_id_names():
    command = SubmitContribution(**submission(command_id="retry-me"))
    assert command.contribution_id == rv.contribution_id("retry-me")
    assert SubmitContribution(**submission(command_id="retry-me")).contribution_id == command.contribution_id


def test_schedule_command_targets_region_and_cycle():
    command = ScheduleReview(command_id=new_id(), actor="ops", region="arab-region", cycle="2024-2025")
    assert command.review_id == "arab-region-2024-2025"


def test_event_subjects_and_types():
    scheduled = RegionalReviewScheduled(
        review_id=REVIEW_ID, region="asia-pacific", cycle="2024-2025", commission="ESCAP", occurred_on=ON
    )
    assert scheduled.subject == "reviews.events.review.asia-pacific-2024-2025.scheduled"
    assert scheduled.aggregate_id == REVIEW_ID
    assert scheduled.ce_type() == "int.un-migration.mignet.reviews.review.scheduled.v1"
    assert submitted_event().subject == "reviews.events.contribution.c-0123456789abcdef.submitted"
    contact = ContributionContactRecorded(contribution_id="c-0123456789abcdef", contact=CONTACT, occurred_on=ON)
    assert contact.subject == "reviews.events.contribution.c-0123456789abcdef.contact-recorded"


def test_command_and_query_subjects():
    assert [c.subject() for c in rv.REVIEWS_COMMANDS] == [
        "reviews.commands.schedule-review",
        "reviews.commands.open-review",
        "reviews.commands.close-review",
        "reviews.commands.publish-review-report",
        "reviews.commands.submit-contribution",
        "reviews.commands.publish-contribution",
        "reviews.commands.reject-contribution",
        "reviews.commands.withdraw-contribution",
        "reviews.commands.erase-personal-data",
    ]
    assert [q.subject() for q in rv.REVIEWS_QUERIES] == [
        "reviews.queries.list-reviews",
        "reviews.queries.get-review",
        "reviews.queries.list-contributions",
        "reviews.queries.get-contribution",
        "reviews.queries.review-figures",
        "reviews.queries.compilation",
    ]


def test_event_catalogue():
    names = {(e.aggregate, e.name) for e in rv.REVIEWS_EVENTS}
    assert names == {
        ("review", "scheduled"),
        ("review", "opened"),
        ("review", "closed"),
        ("review", "report-published"),
        ("contribution", "submitted"),
        ("contribution", "contact-recorded"),
        ("contribution", "published"),
        ("contribution", "rejected"),
        ("contribution", "withdrawn"),
        ("contribution", "personal-data-erased"),
        ("contribution", "unpublished"),
    }
    assert all(e.service == "reviews" for e in rv.REVIEWS_EVENTS)
    assert rv.event_class("contribution", "contact-recorded") is ContributionContactRecorded
    assert rv.event_class("review", "report-published") is ReviewReportPublished
    with pytest.raises(KeyError, match="no reviews event review.reopened"):
        rv.event_class("review", "reopened")


def test_every_message_has_a_json_schema_naming_its_fields():
    for message in (*rv.REVIEWS_EVENTS, *rv.REVIEWS_COMMANDS, *rv.REVIEWS_QUERIES):
        schema = message.model_json_schema()
        assert schema["type"] == "object"
        # Every field is published, and the required ones are exactly the fields without a default.
        assert set(schema["properties"]) == set(message.model_fields), message.__name__
        required = {name for name, field in message.model_fields.items() if field.is_required()}
        assert set(schema.get("required", [])) == required, message.__name__
    submit = rv.SubmitContribution.model_json_schema()
    assert submit["properties"]["objectives"]["minItems"] == 1  # kept although the check is a validator now


# --- personal data -----------------------------------------------------------------------------


def test_the_contact_travels_in_contribution_submitted_only_as_personal_fields():
    event = submitted_event(contact=CONTACT)
    assert "ana.reyes" not in repr(event) and "Ana Reyes" not in repr(event)
    schema = ContributionSubmitted.model_json_schema()["$defs"]["ContributionContact"]["properties"]
    assert schema["email"]["x-personal"] and schema["name"]["x-personal"]
    # Submissions recorded before encryption have no contact in them (it was a contact-recorded event).
    assert submitted_event().contact is None
    # ... and never in what a published contribution says (public from then on).
    assert "contact" not in PublishedContribution.model_fields


def test_contact_and_unmoderated_events_are_not_public():
    assert ContributionContactRecorded.public is False
    assert ContributionSubmitted.public is False
    assert rv.ContributionRejected.public is False
    assert ContributionWithdrawn.public is False
    assert rv.ContributionPublished.public is True
    assert all(e.public for e in rv.REVIEWS_EVENTS if e.aggregate == "review")


def test_contact_is_kept_out_of_repr():
    command = SubmitContribution(**submission())
    assert "ana.reyes" not in repr(command) and "Ana Reyes" not in repr(command)
    assert command.contact.email == "ana.reyes@example.org"


@pytest.mark.parametrize("email", ["not-an-address", "a@b", "two@@example.org", "a b@example.org"])
def test_contact_email_must_be_an_address(email):
    with pytest.raises(ValidationError) as excinfo:
        SubmitContribution(**submission(contact={"name": "X", "email": email}))
    assert "contact.email" in errors_of(excinfo)


# --- review validation -------------------------------------------------------------------------


def test_schedule_review_normalises_its_plan():
    command = ScheduleReview(
        command_id=new_id(),
        actor="ops",
        region="europe-north-america-central-asia",
        cycle="2024-2025",
        commission="ece",
        stakeholder_consultations=["2024-02-28", "2024-01-29", "2024-02-28"],
        meeting_start="2024-03-11",
        meeting_end="2024-03-11",
        venue="  Geneva ",
        partners=["IOM", "IOM"],
    )
    assert command.commission == "ECE"
    assert command.stakeholder_consultations == (date(2024, 1, 29), date(2024, 2, 28))
    assert command.venue == "Geneva"
    assert command.partners == ("IOM",)


@pytest.mark.parametrize(
    ("cycle", "message"),
    [
        ("2024-2026", "consecutive"),
        ("2025-2024", "consecutive"),
        ("2024/2025", "two years joined by a hyphen"),
        ("24-25", "two years joined by a hyphen"),
        ("2016-2017", "began in 2020"),
    ],
)
def test_bad_cycles_are_refused(cycle, message):
    with pytest.raises(ValidationError) as excinfo:
        ScheduleReview(command_id=new_id(), actor="ops", region="africa", cycle=cycle)
    assert message in errors_of(excinfo)["cycle"]


def test_unknown_commission_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        ScheduleReview(command_id=new_id(), actor="ops", region="africa", cycle="2024-2025", commission="UNECA")
    assert "unknown regional commission 'UNECA'" in errors_of(excinfo)["commission"]


def test_meeting_cannot_end_before_it_starts():
    with pytest.raises(ValidationError, match="cannot end"):
        ScheduleReview(
            command_id=new_id(),
            actor="ops",
            region="africa",
            cycle="2024-2025",
            meeting_start="2024-10-10",
            meeting_end="2024-10-09",
        )


def test_meeting_end_needs_a_start():
    with pytest.raises(ValidationError, match="needs a meeting_start"):
        ScheduleReview(command_id=new_id(), actor="ops", region="africa", cycle="2024-2025", meeting_end="2024-10-10")


def test_meeting_must_fall_within_the_cycle():
    with pytest.raises(ValidationError, match="outside the 2024-2025 cycle"):
        ScheduleReview(command_id=new_id(), actor="ops", region="africa", cycle="2024-2025", meeting_start="2026-05-05")


def test_venue_must_be_one_line():
    with pytest.raises(ValidationError) as excinfo:
        ScheduleReview(command_id=new_id(), actor="ops", region="africa", cycle="2024-2025", venue="Addis\nAbaba")
    assert "single line" in errors_of(excinfo)["venue"]


def test_review_report_must_be_https():
    with pytest.raises(ValidationError) as excinfo:
        PublishReviewReport(
            command_id=new_id(), actor="ops", review_id=REVIEW_ID, report_url="http://unescap.org/report.pdf"
        )
    assert "only https links" in errors_of(excinfo)["report_url"]
    ok = PublishReviewReport(
        command_id=new_id(), actor="ops", review_id=REVIEW_ID, report_url="https://unescap.org/report.pdf"
    )
    assert ok.report_url == "https://unescap.org/report.pdf"


def test_unknown_review_id_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        rv.OpenReview(command_id=new_id(), actor="ops", review_id="oceania-2024-2025")
    assert "review id 'oceania-2024-2025'" in errors_of(excinfo)["review_id"]


# --- contribution validation -------------------------------------------------------------------


def test_submission_is_normalised():
    command = SubmitContribution(
        **submission(
            contributor={"kind": "member-state", "country": " th "},
            title="  Thailand's national report  ",
            summary="Para one.\r\nPara two.",
            objectives=[23, 6, 6, 1],
            guiding_principles=["Human-Rights", "child-sensitive", "human-rights"],
            language="EN",
            links=["https://a.example/1", "https://a.example/1", "http://b.example/2"],
        )
    )
    assert command.contributor == rv.MemberStateContributor(country="TH")
    assert command.title == "Thailand's national report"
    assert command.summary == "Para one.\nPara two."
    assert command.objectives == (1, 6, 23)
    assert command.guiding_principles == ("child-sensitive", "human-rights")
    assert command.language == "en"
    assert command.links == ("https://a.example/1", "http://b.example/2")


def test_body_keeps_newlines_and_tabs():
    assert SubmitContribution(**submission()).body == "Line one.\n\tIndented line two."


def test_body_is_optional():
    fields = submission()
    del fields["body"]
    assert SubmitContribution(**fields).body is None


@pytest.mark.parametrize(
    ("overrides", "location", "message"),
    [
        ({"objectives": [24]}, "objectives.0", "unknown GCM objective 24"),
        ({"objectives": [0]}, "objectives.0", "unknown GCM objective 0"),
        ({"objectives": []}, "objectives", "give at least one GCM objective, a number from 1 to 23"),
        ({"objectives": ["5"]}, "objectives.0", "valid integer"),
        ({"guiding_principles": ["solidarity"]}, "guiding_principles.0", "unknown guiding principle 'solidarity'"),
        ({"links": ["javascript:alert(1)"]}, "links.0", "only http and https links"),
        ({"links": ["data:text/html,hi"]}, "links.0", "only http and https links"),
        ({"links": ["ftp://files.example/x"]}, "links.0", "only http and https links"),
        ({"links": ["https:///no-host"]}, "links.0", "has no host"),
        ({"links": ["https://a.example/with space"]}, "links.0", "spaces"),
        ({"links": ["https://a.example:99999/"]}, "links.0", "not a valid link"),
        ({"links": ["https://a.example/" + "x" * 2000]}, "links.0", "at most 2000"),
        ({"links": [f"https://a.example/{i}" for i in range(21)]}, "links", "at most 20"),
        ({"language": "xx"}, "language", "unknown language 'xx'"),
        ({"language": "eng"}, "language", "'eng' is not a language code: expected two letters (ISO 639-1)"),
        ({"title": "x" * 201}, "title", "at most 200"),
        ({"title": "a\ttab"}, "title", "single line"),
        ({"title": "   "}, "title", "at least 1"),
        ({"summary": "x" * 2001}, "summary", "at most 2000"),
        ({"summary": "bell\x07"}, "summary", "control characters"),
        ({"body": "x" * 50_001}, "body", "at most 50000"),
        ({"body": "nul\x00byte"}, "body", "control characters"),
        ({"level": "continental"}, "level", "'local', 'national', 'regional' or 'global'"),
        ({"review_id": "asia-pacific-2024-2026"}, "review_id", "consecutive"),
    ],
)
def test_bad_submissions_are_refused(overrides, location, message):
    with pytest.raises(ValidationError) as excinfo:
        SubmitContribution(**submission(**overrides))
    errors = errors_of(excinfo)
    assert location in errors, errors
    assert message in errors[location]


def test_unknown_stakeholder_category_is_refused():
    contributor = {"kind": "stakeholder", "category": "lobbyists", "organization": "X"}
    with pytest.raises(ValidationError) as excinfo:
        SubmitContribution(**submission(contributor=contributor))
    assert "unknown stakeholder category 'lobbyists'" in errors_of(excinfo)["contributor.stakeholder.category"]


def test_unknown_contributor_kind_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        SubmitContribution(**submission(contributor={"kind": "company", "organization": "X"}))
    assert "contributor" in errors_of(excinfo)


@pytest.mark.parametrize("code", ["XX", "TW", "THA"])
def test_member_state_country_must_be_known(code):
    with pytest.raises(ValidationError) as excinfo:
        SubmitContribution(**submission(contributor={"kind": "member-state", "country": code}))
    assert "contributor.member-state.country" in errors_of(excinfo)


def test_stakeholder_country_is_optional_and_normalised():
    contributor = {"kind": "stakeholder", "category": "nhri", "organization": "Komnas HAM", "country": "id"}
    command = SubmitContribution(**submission(contributor=contributor))
    assert command.contributor.country == "ID"
    assert command.contributor.category == "nhri"


def test_unknown_fields_are_refused():
    with pytest.raises(ValidationError) as excinfo:
        SubmitContribution(**submission(priority="high"))
    assert errors_of(excinfo) == {"priority": "Extra inputs are not permitted"}


def test_withdrawn_event_records_the_actor():
    event = ContributionWithdrawn(contribution_id="c-0123456789abcdef", withdrawn_by="portal", occurred_on=ON)
    assert json.loads(event.model_dump_json())["withdrawn_by"] == "portal"


def test_events_round_trip_through_json():
    event = submitted_event()
    assert ContributionSubmitted.model_validate_json(event.model_dump_json()) == event


# --- queries ------------------------------------------------------------------------------------


def test_list_contributions_needs_a_review_and_validates_filters():
    with pytest.raises(ValidationError, match="give exactly one of review_id or imrf"):
        ListContributions()
    with pytest.raises(ValidationError, match="give exactly one of review_id or imrf"):
        ListContributions(review_id=REVIEW_ID, imrf="imrf-2026")
    assert ListContributions(imrf="imrf-2026").imrf == "imrf-2026"
    query = ListContributions(review_id=REVIEW_ID, country="ph", stakeholder_category="Academia", objective=8)
    assert (query.country, query.stakeholder_category, query.objective, query.limit) == ("PH", "academia", 8, 50)
    with pytest.raises(ValidationError):
        ListContributions(review_id=REVIEW_ID, objective=24)
    with pytest.raises(ValidationError):
        ListContributions(review_id=REVIEW_ID, limit=0)


def test_compilation_filters():
    query = Compilation(cycle="2020-2021", region="africa", objective=23, offset=100)
    assert (query.cycle, query.region, query.objective, query.offset) == ("2020-2021", RegionCode.AFRICA, 23, 100)
    with pytest.raises(ValidationError):
        Compilation(cycle="2020-2022")
    assert Compilation().limit == 50
    for bad in ({"limit": 201}, {"offset": 2**63}, {"offset": -1}):
        with pytest.raises(ValidationError):
            Compilation(**bad)
        with pytest.raises(ValidationError):
            ListContributions(review_id=REVIEW_ID, **bad)


def test_an_out_of_range_objective_is_reported_once_without_pydantic_noise():
    with pytest.raises(ValidationError) as excinfo:
        SubmitContribution(**submission(objectives=[99]))
    messages = [e["msg"] for e in excinfo.value.errors()]
    assert messages == ["Value error, unknown GCM objective 99: the GCM's objectives are numbered 1 to 23"]


def test_a_malformed_contribution_id_says_what_is_expected_not_the_regex():
    from mignet_contracts.reviews import GetContribution

    with pytest.raises(ValidationError) as excinfo:
        GetContribution(contribution_id="c-a968314320")
    [error] = excinfo.value.errors()
    assert error["msg"] == (
        "Value error, 'c-a968314320' is not a contribution id: "
        "expected 'c-' and 16 lower-case hex digits, such as c-0123456789abcdef"
    )
    # Integrators still get the pattern in the published schema.
    assert GetContribution.model_json_schema()["properties"]["contribution_id"]["pattern"] == "^c-[0-9a-f]{16}$"
