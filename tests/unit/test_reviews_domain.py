"""The reviews service's rules: review lifecycle, contributions, moderation, personal data."""

from __future__ import annotations

from datetime import date

import pytest

from mignet_contracts import reviews as rv
from mignet_contracts.envelope import new_id
from mignet_contracts.fields import ERASED
from mignet_contracts.reviews import (
    CloseReview,
    ContributionContactRecorded,
    ContributionPublished,
    ContributionRejected,
    ContributionStatus,
    ContributionSubmitted,
    ContributionUnpublished,
    ContributionWithdrawn,
    OpenReview,
    PublishContribution,
    PublishReviewReport,
    RegionalReviewScheduled,
    RejectContribution,
    ReviewClosed,
    ReviewOpenedForContributions,
    ReviewReportPublished,
    ReviewStatus,
    ScheduleReview,
    SubmitContribution,
    WithdrawContribution,
)
from mignet_reviews import domain as d
from mignet_runtime.errors import NotFound, Rejected

TODAY = date(2025, 3, 1)
AP = "asia-pacific-2024-2025"
CONTACT = {"name": "Ana Reyes", "email": "ana.reyes@example.org"}
MFA = {"kind": "stakeholder", "category": "migrant-diaspora", "organization": "Migrant Forum in Asia"}
#: How operator messages name the Asia-Pacific review (a regex).
THE_AP_REVIEW = r"the 2024-2025 regional review for Asia and the Pacific \(asia-pacific-2024-2025\)"


def run(aggregate, aggregate_id, decide, command, today=TODAY, history=(), **context):
    """Fold ``history``, decide, and return the events and the state after them."""
    state = aggregate.fold(aggregate_id, history)
    events = decide(state, command, today, **context)
    return events, aggregate.fold(aggregate_id, [*history, *events])


def schedule(**fields) -> ScheduleReview:
    return ScheduleReview(
        **{
            "command_id": new_id(),
            "actor": "escap-secretariat",
            "region": "asia-pacific",
            "cycle": "2024-2025",
            **fields,
        }
    )


def review_history(*, upto: ReviewStatus) -> list:
    """The events of the Asia-Pacific review, up to the given status."""
    events = [
        RegionalReviewScheduled(
            review_id=AP, region="asia-pacific", cycle="2024-2025", commission="ESCAP", occurred_on=date(2024, 6, 1)
        ),
        ReviewOpenedForContributions(review_id=AP, occurred_on=date(2024, 9, 1)),
        ReviewClosed(review_id=AP, occurred_on=date(2025, 2, 6)),
        ReviewReportPublished(
            review_id=AP,
            report_url="https://www.unescap.org/gcm-review-2025.pdf",
            published_on=date(2025, 2, 20),
            occurred_on=date(2025, 2, 20),
        ),
    ]
    order = [ReviewStatus.PLANNED, ReviewStatus.OPEN, ReviewStatus.CLOSED, ReviewStatus.REPORT_PUBLISHED]
    return events[: order.index(upto) + 1]


def review_at(status: ReviewStatus) -> d.ReviewState:
    return d.REVIEW.fold(AP, review_history(upto=status))


def submit(**fields) -> SubmitContribution:
    return SubmitContribution(
        **{
            "actor": "portal",
            "command_id": "submit-1",
            "review_id": AP,
            "contributor": MFA,
            "level": "regional",
            "title": "Fair recruitment",
            "summary": "What worked.",
            "objectives": [6],
            "language": "en",
            "contact": CONTACT,
            "occurred_on": date(2024, 10, 1),
            **fields,
        }
    )


CID = rv.contribution_id("submit-1")


def submitted_history() -> list:
    events, _ = run(d.CONTRIBUTION, CID, d.submit_contribution, submit(), review=review_at(ReviewStatus.OPEN))
    return events


def contribution_at(status: ContributionStatus) -> list:
    history = submitted_history()
    later = {
        ContributionStatus.SUBMITTED: [],
        ContributionStatus.PUBLISHED: [ContributionPublished(contribution_id=CID, occurred_on=date(2024, 10, 5))],
        ContributionStatus.REJECTED: [
            ContributionRejected(contribution_id=CID, reason="off topic", occurred_on=date(2024, 10, 5))
        ],
        ContributionStatus.WITHDRAWN: [
            ContributionWithdrawn(contribution_id=CID, withdrawn_by="portal", occurred_on=date(2024, 10, 5))
        ],
    }
    return history + later[status]


# --- scheduling -------------------------------------------------------------------------------


def test_schedule_review_records_the_plan_with_the_regions_commission():
    command = schedule(
        stakeholder_consultations=[date(2025, 2, 3)],
        meeting_start=date(2025, 2, 4),
        meeting_end=date(2025, 2, 6),
        venue="Bangkok",
        occurred_on=date(2024, 6, 1),
    )
    events, state = run(d.REVIEW, AP, d.schedule_review, command)
    assert events == [
        RegionalReviewScheduled(
            review_id=AP,
            region="asia-pacific",
            cycle="2024-2025",
            commission="ESCAP",
            stakeholder_consultations=(date(2025, 2, 3),),
            meeting_start=date(2025, 2, 4),
            meeting_end=date(2025, 2, 6),
            venue="Bangkok",
            occurred_on=date(2024, 6, 1),
        )
    ]
    assert events[0].subject == "reviews.events.review.asia-pacific-2024-2025.scheduled"
    assert (state.exists, state.status) == (True, ReviewStatus.PLANNED)
    assert (state.commission, state.venue) == ("ESCAP", "Bangkok")
    assert state.scheduled_on == date(2024, 6, 1)


def test_schedule_review_defaults_to_today():
    events, _ = run(d.REVIEW, AP, d.schedule_review, schedule())
    assert events[0].occurred_on == TODAY


def test_schedule_review_accepts_the_matching_commission_and_partners():
    command = ScheduleReview(
        command_id=new_id(),
        actor="ops",
        region="arab-region",
        cycle="2020-2021",
        commission="ESCWA",
        partners=["League of Arab States", "IOM"],
    )
    events, state = run(d.REVIEW, "arab-region-2020-2021", d.schedule_review, command)
    assert events[0].commission == "ESCWA"
    assert state.partners == ("League of Arab States", "IOM")


def test_one_review_per_region_and_cycle():
    message = THE_AP_REVIEW + r" is already scheduled \(status: planned\); there is one review per region and cycle"
    with pytest.raises(Rejected, match=message) as exc:
        run(d.REVIEW, AP, d.schedule_review, schedule(), history=review_history(upto=ReviewStatus.PLANNED))
    assert exc.value.details[0].field == "cycle"


@pytest.mark.parametrize("commission", ["ECE", "ESCWA", "ECLAC", "ECA"])
def test_the_organizing_commission_must_be_the_regions(commission):
    with pytest.raises(Rejected, match=f"organized by ESCAP .*, not {commission}") as exc:
        run(d.REVIEW, AP, d.schedule_review, schedule(commission=commission))
    assert exc.value.details[0].field == "commission"


def test_schedule_against_the_wrong_aggregate_is_a_programming_error():
    with pytest.raises(ValueError, match="decided against aggregate africa-2024-2025"):
        d.schedule_review(d.REVIEW.initial("africa-2024-2025"), schedule(), TODAY)


def test_occurred_on_cannot_be_in_the_future():
    with pytest.raises(Rejected, match="in the future") as exc:
        run(d.REVIEW, AP, d.schedule_review, schedule(occurred_on=date(2025, 3, 2)))
    assert exc.value.details[0].field == "occurred_on"


# --- review lifecycle ---------------------------------------------------------------------------


def test_review_lifecycle_in_order():
    history = review_history(upto=ReviewStatus.PLANNED)
    events, state = run(
        d.REVIEW, AP, d.open_review, OpenReview(command_id=new_id(), actor="ops", review_id=AP), history=history
    )
    assert events == [ReviewOpenedForContributions(review_id=AP, occurred_on=TODAY)]
    assert state.status is ReviewStatus.OPEN and state.opened_on == TODAY
    history += events

    events, state = run(
        d.REVIEW, AP, d.close_review, CloseReview(command_id=new_id(), actor="ops", review_id=AP), history=history
    )
    assert events == [ReviewClosed(review_id=AP, occurred_on=TODAY)]
    assert state.status is ReviewStatus.CLOSED and state.closed_on == TODAY
    history += events

    command = PublishReviewReport(
        command_id=new_id(), actor="ops", review_id=AP, report_url="https://unescap.org/r.pdf"
    )
    events, state = run(d.REVIEW, AP, d.publish_review_report, command, history=history)
    assert events == [
        ReviewReportPublished(
            review_id=AP, report_url="https://unescap.org/r.pdf", published_on=TODAY, occurred_on=TODAY
        )
    ]
    assert state.status is ReviewStatus.REPORT_PUBLISHED
    assert (state.report_url, state.report_published_on) == ("https://unescap.org/r.pdf", TODAY)
    assert [s for _, s in state.history] == list(d.NEXT_REVIEW_STATUS) + [ReviewStatus.REPORT_PUBLISHED]


def test_report_publication_date_defaults_the_event_date():
    command = PublishReviewReport(
        command_id=new_id(),
        actor="ops",
        review_id=AP,
        report_url="https://unescap.org/r.pdf",
        published_on=date(2025, 2, 10),
    )
    events, _ = run(d.REVIEW, AP, d.publish_review_report, command, history=review_history(upto=ReviewStatus.CLOSED))
    assert (events[0].published_on, events[0].occurred_on) == (date(2025, 2, 10), date(2025, 2, 10))


@pytest.mark.parametrize(
    ("decide", "command"),
    [
        (d.open_review, OpenReview(command_id=new_id(), actor="ops", review_id=AP)),
        (d.close_review, CloseReview(command_id=new_id(), actor="ops", review_id=AP)),
        (
            d.publish_review_report,
            PublishReviewReport(command_id=new_id(), actor="ops", review_id=AP, report_url="https://x.org/r"),
        ),
    ],
)
def test_lifecycle_commands_on_a_missing_review_are_not_found(decide, command):
    with pytest.raises(NotFound, match=THE_AP_REVIEW + " has not been scheduled$") as exc:
        run(d.REVIEW, AP, decide, command)
    assert exc.value.details[0].field == "review_id"


@pytest.mark.parametrize(
    ("upto", "decide", "command", "message"),
    [
        (
            ReviewStatus.OPEN,
            d.open_review,
            OpenReview(command_id=new_id(), actor="o", review_id=AP),
            "already open for contributions",
        ),
        (
            ReviewStatus.CLOSED,
            d.open_review,
            OpenReview(command_id=new_id(), actor="o", review_id=AP),
            "closed on 2025-02-06; a closed review cannot be re-opened",
        ),
        (
            ReviewStatus.REPORT_PUBLISHED,
            d.open_review,
            OpenReview(command_id=new_id(), actor="o", review_id=AP),
            "cannot be re-opened",
        ),
        (
            ReviewStatus.PLANNED,
            d.close_review,
            CloseReview(command_id=new_id(), actor="o", review_id=AP),
            "has not opened for contributions; open it first",
        ),
        (
            ReviewStatus.CLOSED,
            d.close_review,
            CloseReview(command_id=new_id(), actor="o", review_id=AP),
            "already closed on 2025-02-06",
        ),
        (
            ReviewStatus.REPORT_PUBLISHED,
            d.close_review,
            CloseReview(command_id=new_id(), actor="o", review_id=AP),
            "already closed",
        ),
        (
            ReviewStatus.PLANNED,
            d.publish_review_report,
            PublishReviewReport(command_id=new_id(), actor="o", review_id=AP, report_url="https://x.org/r"),
            "is planned; close it before publishing its report",
        ),
        (
            ReviewStatus.OPEN,
            d.publish_review_report,
            PublishReviewReport(command_id=new_id(), actor="o", review_id=AP, report_url="https://x.org/r"),
            "is open for contributions; close it before publishing its report",
        ),
        (
            ReviewStatus.REPORT_PUBLISHED,
            d.publish_review_report,
            PublishReviewReport(command_id=new_id(), actor="o", review_id=AP, report_url="https://x.org/r"),
            "already published its report on 2025-02-20: https://www.unescap.org/gcm-review-2025.pdf",
        ),
    ],
)
def test_lifecycle_moves_only_forward(upto, decide, command, message):
    with pytest.raises(Rejected, match=message) as exc:
        run(d.REVIEW, AP, decide, command, history=review_history(upto=upto))
    assert exc.value.details[0].field == "review_id"


def test_lifecycle_history_cannot_be_back_dated_out_of_order():
    command = CloseReview(command_id=new_id(), actor="ops", review_id=AP, occurred_on=date(2024, 8, 1))
    with pytest.raises(Rejected, match="last changed status on 2024-09-01; a change dated 2024-08-01") as exc:
        run(d.REVIEW, AP, d.close_review, command, history=review_history(upto=ReviewStatus.OPEN))
    assert exc.value.details[0].field == "occurred_on"


def test_report_cannot_predate_closing_or_be_in_the_future():
    history = review_history(upto=ReviewStatus.CLOSED)
    early = PublishReviewReport(
        command_id=new_id(), actor="o", review_id=AP, report_url="https://x.org/r", published_on=date(2025, 2, 1)
    )
    with pytest.raises(Rejected, match="closed on 2025-02-06; its report cannot be published before") as exc:
        run(d.REVIEW, AP, d.publish_review_report, early, history=history)
    assert exc.value.details[0].field == "published_on"
    late = PublishReviewReport(
        command_id=new_id(), actor="o", review_id=AP, report_url="https://x.org/r", published_on=date(2025, 3, 2)
    )
    with pytest.raises(Rejected, match="a date in the future"):
        run(d.REVIEW, AP, d.publish_review_report, late, history=history)


# --- submitting -----------------------------------------------------------------------------------


def test_submit_yields_one_event_with_the_contact_in_it():
    events, state = run(d.CONTRIBUTION, CID, d.submit_contribution, submit(), review=review_at(ReviewStatus.OPEN))
    assert [type(e) for e in events] == [ContributionSubmitted]
    (submitted,) = events
    assert submitted.contribution_id == CID
    assert (submitted.review_id, submitted.region, submitted.cycle) == (AP, "asia-pacific", "2024-2025")
    assert submitted.title == "Fair recruitment" and submitted.objectives == (6,)
    assert submitted.contributor.organization == "Migrant Forum in Asia"
    assert submitted.occurred_on == date(2024, 10, 1)
    assert submitted.contact.email == "ana.reyes@example.org"  # sealed by the codec, not here
    assert submitted.public is False

    assert state.exists and state.status is ContributionStatus.SUBMITTED
    assert state.review_id == AP and state.submission == submitted
    assert state.contact.email == "ana.reyes@example.org"
    assert "ana.reyes" not in repr(state) and "Ana Reyes" not in repr(state)


def test_submit_to_a_missing_review_is_not_found():
    for review in (None, d.REVIEW.initial(AP)):
        message = THE_AP_REVIEW + " has not been scheduled; there is nothing to contribute to"
        with pytest.raises(NotFound, match=message) as exc:
            run(d.CONTRIBUTION, CID, d.submit_contribution, submit(), review=review)
        assert exc.value.details[0].field == "review_id"


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (ReviewStatus.PLANNED, "is planned and not yet open for contributions"),
        (ReviewStatus.CLOSED, "closed on 2025-02-06; it no longer takes contributions"),
        (ReviewStatus.REPORT_PUBLISHED, "closed on 2025-02-06; it no longer takes contributions"),
    ],
)
def test_submit_only_while_the_review_is_open(status, message):
    with pytest.raises(Rejected, match=message) as exc:
        run(d.CONTRIBUTION, CID, d.submit_contribution, submit(), review=review_at(status))
    assert exc.value.details[0].field == "review_id"


def test_member_state_contributes_to_its_own_regions_review():
    thailand = {"kind": "member-state", "country": "TH"}
    events, _ = run(
        d.CONTRIBUTION, CID, d.submit_contribution, submit(contributor=thailand), review=review_at(ReviewStatus.OPEN)
    )
    assert events[0].contributor == rv.MemberStateContributor(country="TH")
    # Kazakhstan is a member of both ECE and ESCAP.
    kazakhstan = {"kind": "member-state", "country": "KZ"}
    events, _ = run(
        d.CONTRIBUTION, CID, d.submit_contribution, submit(contributor=kazakhstan), review=review_at(ReviewStatus.OPEN)
    )
    assert events[0].contributor.country == "KZ"


def test_member_state_cannot_contribute_to_another_regions_review():
    message = "Mexico takes part in the regional review of ECLAC, not in " + THE_AP_REVIEW
    with pytest.raises(Rejected, match=message) as exc:
        run(
            d.CONTRIBUTION,
            CID,
            d.submit_contribution,
            submit(contributor={"kind": "member-state", "country": "MX"}),
            review=review_at(ReviewStatus.OPEN),
        )
    assert exc.value.details[0].field == "contributor.country"


def test_stakeholders_from_anywhere_may_contribute():
    contributor = {"kind": "stakeholder", "category": "academia", "organization": "Univ.", "country": "MX"}
    events, _ = run(
        d.CONTRIBUTION, CID, d.submit_contribution, submit(contributor=contributor), review=review_at(ReviewStatus.OPEN)
    )
    assert events[0].contributor.country == "MX"


def test_submission_cannot_predate_the_review_opening():
    with pytest.raises(Rejected, match="opened for contributions on 2024-09-01") as exc:
        run(
            d.CONTRIBUTION,
            CID,
            d.submit_contribution,
            submit(occurred_on=date(2024, 8, 31)),
            review=review_at(ReviewStatus.OPEN),
        )
    assert exc.value.details[0].field == "occurred_on"


def test_submission_cannot_be_in_the_future():
    with pytest.raises(Rejected, match="in the future"):
        command = submit(occurred_on=date(2025, 3, 2))
        run(d.CONTRIBUTION, CID, d.submit_contribution, command, review=review_at(ReviewStatus.OPEN))


def test_a_submitted_contribution_cannot_be_submitted_again():
    with pytest.raises(Rejected, match=f"contribution {CID} was already submitted on 2024-10-01"):
        run(
            d.CONTRIBUTION,
            CID,
            d.submit_contribution,
            submit(),
            history=submitted_history(),
            review=review_at(ReviewStatus.OPEN),
        )


def test_submit_against_the_wrong_review_is_a_programming_error():
    other = d.ReviewState(id="africa-2024-2025", exists=True, status=ReviewStatus.OPEN)
    with pytest.raises(ValueError, match="was given review africa-2024-2025"):
        run(d.CONTRIBUTION, CID, d.submit_contribution, submit(), review=other)


# --- moderation and withdrawal -------------------------------------------------------------------------


def test_publish_a_submitted_contribution():
    command = PublishContribution(command_id=new_id(), actor="moderator", contribution_id=CID, note="Thank you")
    history = contribution_at(ContributionStatus.SUBMITTED)
    events, state = run(d.CONTRIBUTION, CID, d.publish_contribution, command, history=history)
    (published,) = events
    assert (published.contribution_id, published.note, published.occurred_on) == (CID, "Thank you", TODAY)
    # What is published goes on the public feed with it: the content as submitted, never the contact.
    submitted = history[0] if isinstance(history[0], ContributionSubmitted) else None
    assert published.contribution is not None and submitted is not None
    assert submitted.contact is not None  # the submission holds one (sealed when stored): it stays behind
    assert published.contribution.title == submitted.title and published.contribution.review_id == submitted.review_id
    assert "contact" not in published.model_dump_json() and "email" not in published.model_dump_json()
    assert (state.status, state.published_on) == (ContributionStatus.PUBLISHED, TODAY)
    assert state.moderator_note == "Thank you"


def test_reject_a_submitted_contribution_with_a_reason():
    command = RejectContribution(command_id=new_id(), actor="moderator", contribution_id=CID, reason="Advertising")
    history = contribution_at(ContributionStatus.SUBMITTED)
    events, state = run(d.CONTRIBUTION, CID, d.reject_contribution, command, history=history)
    assert events == [ContributionRejected(contribution_id=CID, reason="Advertising", occurred_on=TODAY)]
    assert (state.status, state.rejected_on) == (ContributionStatus.REJECTED, TODAY)
    assert state.rejection_reason == "Advertising"


def test_reject_needs_a_reason():
    with pytest.raises(ValueError):
        RejectContribution(command_id=new_id(), actor="moderator", contribution_id=CID, reason="  ")
    with pytest.raises(ValueError):
        RejectContribution(command_id=new_id(), actor="moderator", contribution_id=CID)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (ContributionStatus.PUBLISHED, "already published on 2024-10-05"),
        (ContributionStatus.REJECTED, "rejected on 2024-10-05 .off topic.; rejection is final"),
        (ContributionStatus.WITHDRAWN, "withdrawn on 2024-10-05; withdrawal is final"),
    ],
)
@pytest.mark.parametrize(
    ("decide", "command"),
    [
        (d.publish_contribution, PublishContribution(command_id=new_id(), actor="m", contribution_id=CID)),
        (d.reject_contribution, RejectContribution(command_id=new_id(), actor="m", contribution_id=CID, reason="spam")),
    ],
)
def test_only_submitted_contributions_are_moderated(status, message, decide, command):
    with pytest.raises(Rejected, match=message):
        run(d.CONTRIBUTION, CID, decide, command, history=contribution_at(status))


@pytest.mark.parametrize(
    ("decide", "command"),
    [
        (d.publish_contribution, PublishContribution(command_id=new_id(), actor="m", contribution_id=CID)),
        (d.reject_contribution, RejectContribution(command_id=new_id(), actor="m", contribution_id=CID, reason="spam")),
        (d.withdraw_contribution, WithdrawContribution(command_id=new_id(), actor="m", contribution_id=CID)),
    ],
)
def test_commands_on_a_missing_contribution_are_not_found(decide, command):
    with pytest.raises(NotFound, match=f"there is no contribution {CID}") as exc:
        run(d.CONTRIBUTION, CID, decide, command)
    assert exc.value.details[0].field == "contribution_id"


@pytest.mark.parametrize("status", [ContributionStatus.SUBMITTED, ContributionStatus.PUBLISHED])
def test_withdraw_a_submitted_or_published_contribution_records_who(status):
    command = WithdrawContribution(command_id=new_id(), actor="ana@portal", contribution_id=CID, reason="Superseded")
    events, state = run(d.CONTRIBUTION, CID, d.withdraw_contribution, command, history=contribution_at(status))
    withdrawn = ContributionWithdrawn(
        contribution_id=CID, reason="Superseded", withdrawn_by="ana@portal", occurred_on=TODAY
    )
    if status is ContributionStatus.PUBLISHED:  # the public feed is told, without the reason
        assert events == [withdrawn, ContributionUnpublished(contribution_id=CID, occurred_on=TODAY)]
        assert ContributionUnpublished.public and not ContributionWithdrawn.public
    else:
        assert events == [withdrawn]
    assert state.status is ContributionStatus.WITHDRAWN
    assert (state.withdrawn_by, state.withdrawal_reason, state.withdrawn_on) == ("ana@portal", "Superseded", TODAY)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (ContributionStatus.REJECTED, "was rejected on 2024-10-05; there is nothing to withdraw"),
        (ContributionStatus.WITHDRAWN, "already withdrawn on 2024-10-05"),
    ],
)
def test_rejected_and_withdrawn_are_final(status, message):
    with pytest.raises(Rejected, match=message):
        command = WithdrawContribution(command_id=new_id(), actor="a", contribution_id=CID)
        run(d.CONTRIBUTION, CID, d.withdraw_contribution, command, history=contribution_at(status))


def test_moderation_cannot_be_back_dated_before_submission():
    command = PublishContribution(command_id=new_id(), actor="m", contribution_id=CID, occurred_on=date(2024, 9, 30))
    with pytest.raises(Rejected, match="last changed status on 2024-10-01") as exc:
        run(d.CONTRIBUTION, CID, d.publish_contribution, command, history=contribution_at(ContributionStatus.SUBMITTED))
    assert exc.value.details[0].field == "occurred_on"


def test_a_published_contribution_stays_published_after_the_review_closes():
    contribution = d.CONTRIBUTION.fold(CID, contribution_at(ContributionStatus.PUBLISHED))
    review = d.REVIEW.fold(AP, review_history(upto=ReviewStatus.REPORT_PUBLISHED))
    assert review.status is ReviewStatus.REPORT_PUBLISHED
    assert contribution.status is ContributionStatus.PUBLISHED
    # Moderating the backlog after the meeting is allowed: moderation does not depend on the review.
    _, state = run(
        d.CONTRIBUTION,
        CID,
        d.publish_contribution,
        PublishContribution(command_id=new_id(), actor="m", contribution_id=CID),
        history=contribution_at(ContributionStatus.SUBMITTED),
    )
    assert state.status is ContributionStatus.PUBLISHED


# --- folding and routing ---------------------------------------------------------------------------------


def test_fold_round_trips_through_json():
    history = contribution_at(ContributionStatus.PUBLISHED)
    decoded = [rv.event_class(e.aggregate, e.name).model_validate_json(e.model_dump_json()) for e in history]
    assert d.CONTRIBUTION.fold(CID, decoded) == d.CONTRIBUTION.fold(CID, history)
    reviews = review_history(upto=ReviewStatus.REPORT_PUBLISHED)
    decoded = [rv.event_class(e.aggregate, e.name).model_validate_json(e.model_dump_json()) for e in reviews]
    assert d.REVIEW.fold(AP, decoded) == d.REVIEW.fold(AP, reviews)


def test_initial_states_do_not_exist():
    assert d.REVIEW.initial(AP) == d.ReviewState(id=AP)
    assert not d.REVIEW.initial(AP).exists and d.REVIEW.initial(AP).status is None
    assert not d.CONTRIBUTION.initial(CID).exists and d.CONTRIBUTION.initial(CID).review_id is None


def test_unknown_events_leave_state_unchanged():
    state = d.REVIEW.fold(AP, review_history(upto=ReviewStatus.OPEN))
    assert d.evolve_review(state, ContributionPublished(contribution_id=CID, occurred_on=TODAY)) == state


def test_aggregate_types():
    assert (d.REVIEW.service, d.REVIEW.name) == ("reviews", "review")
    assert (d.CONTRIBUTION.service, d.CONTRIBUTION.name) == ("reviews", "contribution")
    assert d.REVIEW.wildcard(AP) == "reviews.events.review.asia-pacific-2024-2025.*"


def test_every_command_has_a_decider_and_a_target():
    assert set(d.DECIDERS) == set(rv.REVIEWS_COMMANDS)
    assert d.target_of(schedule()) == (d.REVIEW, AP)
    assert d.target_of(OpenReview(command_id=new_id(), actor="o", review_id="africa-2024-2025")) == (
        d.REVIEW,
        "africa-2024-2025",
    )
    assert d.target_of(submit()) == (d.CONTRIBUTION, CID)
    assert d.target_of(PublishContribution(command_id=new_id(), actor="m", contribution_id=CID)) == (
        d.CONTRIBUTION,
        CID,
    )


def test_a_contact_recorded_before_encryption_in_its_own_event_still_folds():
    (submitted,), _ = run(d.CONTRIBUTION, CID, d.submit_contribution, submit(), review=review_at(ReviewStatus.OPEN))
    old = submitted.model_copy(update={"contact": None})
    recorded = ContributionContactRecorded(contribution_id=CID, contact=CONTACT, occurred_on=submitted.occurred_on)
    state = d.CONTRIBUTION.evolve(d.CONTRIBUTION.evolve(d.CONTRIBUTION.initial(CID), old), recorded)
    assert state.contact.email == "ana.reyes@example.org"


def test_an_erasure_leaves_no_contact_in_the_state():
    events, state = run(d.CONTRIBUTION, CID, d.submit_contribution, submit(), review=review_at(ReviewStatus.OPEN))
    erase = rv.ErasePersonalData(command_id=new_id(), actor="dpo", contribution_id=CID, requested_by="ticket-1")
    (erased,) = d.erase_personal_data(state, erase, TODAY, data_keys=[f"contribution.{CID}.cmd"])
    assert erased.key_ids == [f"contribution.{CID}.cmd"] and erased.requested_by == "ticket-1"
    after = d.CONTRIBUTION.evolve(state, erased)
    assert after.contact.email == ERASED and after.submission.contact.email == ERASED
    assert after.submission.title == state.submission.title and after.status is state.status
    with pytest.raises(Rejected, match="erased already"):
        d.erase_personal_data(after, erase, TODAY, data_keys=[])
