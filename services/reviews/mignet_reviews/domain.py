"""The reviews service's rules: regional GCM reviews and contributions as pure deciders.

No I/O and no clock: callers pass ``today``. Each decide function takes the
aggregate's current state and a command and returns the events to append
(atomically), or raises :class:`Rejected` / :class:`NotFound`.

A contribution's contact is personal data: it lives in
:class:`ContributionState` (to reach the contributor) but only ever arrives
through the non-public ``ContributionContactRecorded`` event, so projections
that build public pages from ``ContributionSubmitted`` never see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from mignet_contracts import reference
from mignet_contracts.envelope import Command, Event
from mignet_contracts.reference import RegionCode
from mignet_contracts import reviews as contracts
from mignet_contracts.reviews import (
    SERVICE,
    CloseReview,
    ContributionContact,
    ContributionContactRecorded,
    ContributionPublished,
    ContributionRejected,
    ContributionStatus,
    ContributionSubmitted,
    ContributionWithdrawn,
    MemberStateContributor,
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
    parse_review_id,
)
from mignet_runtime.aggregate import AggregateType, event_date
from mignet_runtime.errors import NotFound, Rejected

RS = ReviewStatus
CS = ContributionStatus

#: The only way a review moves: planned -> open -> closed -> report published.
NEXT_REVIEW_STATUS: dict[ReviewStatus, ReviewStatus] = {
    RS.PLANNED: RS.OPEN,
    RS.OPEN: RS.CLOSED,
    RS.CLOSED: RS.REPORT_PUBLISHED,
}
FINAL_CONTRIBUTION_STATUSES: frozenset[ContributionStatus] = frozenset({CS.REJECTED, CS.WITHDRAWN})


# --- State -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewState:
    id: str
    exists: bool = False
    status: ReviewStatus | None = None
    region: RegionCode | None = None
    cycle: str | None = None
    commission: str | None = None
    stakeholder_consultations: tuple[date, ...] = ()
    meeting_start: date | None = None
    meeting_end: date | None = None
    venue: str | None = None
    partners: tuple[str, ...] = ()
    scheduled_on: date | None = None
    opened_on: date | None = None
    closed_on: date | None = None
    report_url: str | None = None
    report_published_on: date | None = None
    history: tuple[tuple[date, ReviewStatus], ...] = ()


@dataclass(frozen=True)
class ContributionState:
    id: str
    exists: bool = False
    status: ContributionStatus | None = None
    #: The public content, as submitted.
    submission: ContributionSubmitted | None = None
    #: PERSONAL DATA; kept out of repr so state never lands in logs with it.
    contact: ContributionContact | None = field(default=None, repr=False)
    submitted_on: date | None = None
    published_on: date | None = None
    moderator_note: str | None = None
    rejected_on: date | None = None
    rejection_reason: str | None = None
    withdrawn_on: date | None = None
    withdrawn_by: str | None = None
    withdrawal_reason: str | None = None
    history: tuple[tuple[date, ContributionStatus], ...] = ()

    @property
    def review_id(self) -> str | None:
        return self.submission.review_id if self.submission else None


def initial_review(aggregate_id: str) -> ReviewState:
    return ReviewState(id=aggregate_id)


def initial_contribution(aggregate_id: str) -> ContributionState:
    return ContributionState(id=aggregate_id)


def evolve_review(state: ReviewState, event: Event) -> ReviewState:
    match event:
        case RegionalReviewScheduled():
            return replace(
                state,
                exists=True,
                status=RS.PLANNED,
                region=event.region,
                cycle=event.cycle,
                commission=event.commission,
                stakeholder_consultations=event.stakeholder_consultations,
                meeting_start=event.meeting_start,
                meeting_end=event.meeting_end,
                venue=event.venue,
                partners=event.partners,
                scheduled_on=event.occurred_on,
                history=(*state.history, (event.occurred_on, RS.PLANNED)),
            )
        case ReviewOpenedForContributions():
            return replace(
                state,
                status=RS.OPEN,
                opened_on=event.occurred_on,
                history=(*state.history, (event.occurred_on, RS.OPEN)),
            )
        case ReviewClosed():
            return replace(
                state,
                status=RS.CLOSED,
                closed_on=event.occurred_on,
                history=(*state.history, (event.occurred_on, RS.CLOSED)),
            )
        case ReviewReportPublished():
            return replace(
                state,
                status=RS.REPORT_PUBLISHED,
                report_url=event.report_url,
                report_published_on=event.published_on,
                history=(*state.history, (event.occurred_on, RS.REPORT_PUBLISHED)),
            )
    # Unknown events (a newer version, another aggregate's) leave the state as it is.
    return state


def evolve_contribution(state: ContributionState, event: Event) -> ContributionState:
    match event:
        case ContributionSubmitted():
            return replace(
                state,
                exists=True,
                status=CS.SUBMITTED,
                submission=event,
                submitted_on=event.occurred_on,
                history=(*state.history, (event.occurred_on, CS.SUBMITTED)),
            )
        case ContributionContactRecorded():
            return replace(state, contact=event.contact)
        case ContributionPublished():
            return replace(
                state,
                status=CS.PUBLISHED,
                published_on=event.occurred_on,
                moderator_note=event.note,
                history=(*state.history, (event.occurred_on, CS.PUBLISHED)),
            )
        case ContributionRejected():
            return replace(
                state,
                status=CS.REJECTED,
                rejected_on=event.occurred_on,
                rejection_reason=event.reason,
                history=(*state.history, (event.occurred_on, CS.REJECTED)),
            )
        case ContributionWithdrawn():
            return replace(
                state,
                status=CS.WITHDRAWN,
                withdrawn_on=event.occurred_on,
                withdrawn_by=event.withdrawn_by,
                withdrawal_reason=event.reason,
                history=(*state.history, (event.occurred_on, CS.WITHDRAWN)),
            )
    return state


REVIEW: AggregateType[ReviewState] = AggregateType(
    service=SERVICE, name=contracts.REVIEW, initial=initial_review, evolve=evolve_review
)
CONTRIBUTION: AggregateType[ContributionState] = AggregateType(
    service=SERVICE, name=contracts.CONTRIBUTION, initial=initial_contribution, evolve=evolve_contribution
)


# --- Wording for operators ------------------------------------------------------------------


def _words(status: ReviewStatus | ContributionStatus) -> str:
    return status.value.replace("-", " ")


def describe_review(review_id: str) -> str:
    try:
        region, cycle = parse_review_id(review_id)
    except ValueError:
        return f"review {review_id}"
    return f"the {cycle} regional review for {reference.REGIONS[region]} ({review_id})"


def _since(on: date | None) -> str:
    return f" on {on.isoformat()}" if on else ""


# --- Shared checks ----------------------------------------------------------------------------



def _in_order(history: tuple[tuple[date, Any], ...], on: date, what: str) -> None:
    # Point-in-time queries replay by business date; out-of-order history would contradict itself.
    if history and on < (last := history[-1][0]):
        raise Rejected(
            f"{what} last changed status on {last.isoformat()}; a change dated {on.isoformat()} "
            "would be recorded out of order",
            field="occurred_on",
        )


def _existing_review(state: ReviewState) -> ReviewState:
    if not state.exists:
        raise NotFound(f"{describe_review(state.id)} has not been scheduled", field="review_id")
    return state


def _existing_contribution(state: ContributionState) -> ContributionState:
    if not state.exists:
        raise NotFound(f"there is no contribution {state.id}", field="contribution_id")
    return state


def _same_aggregate(state_id: str, command_id: str, command: Command) -> None:
    if state_id != command_id:
        # The handler loaded the wrong aggregate; "one review per region and cycle" would no longer hold.
        raise ValueError(f"{command.name} for {command_id} was decided against aggregate {state_id}")


# --- Review deciders ------------------------------------------------------------------------------


def schedule_review(state: ReviewState, command: ScheduleReview, today: date, **context: Any) -> list[Event]:
    _same_aggregate(state.id, command.review_id, command)
    what = describe_review(state.id)
    if state.exists:
        raise Rejected(
            f"{what} is already scheduled (status: {_words(state.status)}); there is one review per region and cycle",
            field="cycle",
        )
    organizer = reference.commission_for_region(command.region)
    if command.commission is not None and command.commission != organizer.code:
        region_name = reference.REGIONS[command.region]
        raise Rejected(
            f"the regional review for {region_name} is organized by {organizer.code} ({organizer.name}), "
            f"not {command.commission}",
            field="commission",
        )
    return [
        RegionalReviewScheduled(
            review_id=state.id,
            region=command.region,
            cycle=command.cycle,
            commission=organizer.code,
            stakeholder_consultations=command.stakeholder_consultations,
            meeting_start=command.meeting_start,
            meeting_end=command.meeting_end,
            venue=command.venue,
            partners=command.partners,
            occurred_on=event_date(command, today),
        )
    ]


def open_review(state: ReviewState, command: OpenReview, today: date, **context: Any) -> list[Event]:
    _existing_review(state)
    what = describe_review(state.id)
    if state.status is RS.OPEN:
        raise Rejected(f"{what} is already open for contributions", field="review_id")
    if state.status is not RS.PLANNED:
        raise Rejected(
            f"{what} closed{_since(state.closed_on)}; a closed review cannot be re-opened", field="review_id"
        )
    on = event_date(command, today)
    _in_order(state.history, on, what)
    return [ReviewOpenedForContributions(review_id=state.id, occurred_on=on)]


def close_review(state: ReviewState, command: CloseReview, today: date, **context: Any) -> list[Event]:
    _existing_review(state)
    what = describe_review(state.id)
    if state.status is RS.PLANNED:
        raise Rejected(f"{what} is planned and has not opened for contributions; open it first", field="review_id")
    if state.status is not RS.OPEN:
        raise Rejected(f"{what} is already closed{_since(state.closed_on)}", field="review_id")
    on = event_date(command, today)
    _in_order(state.history, on, what)
    return [ReviewClosed(review_id=state.id, occurred_on=on)]


def publish_review_report(
    state: ReviewState, command: PublishReviewReport, today: date, **context: Any
) -> list[Event]:
    _existing_review(state)
    what = describe_review(state.id)
    if state.status is RS.REPORT_PUBLISHED:
        raise Rejected(
            f"{what} already published its report{_since(state.report_published_on)}: {state.report_url}",
            field="review_id",
        )
    if state.status is not RS.CLOSED:
        raise Rejected(f"{what} is {_words(state.status)}; close it before publishing its report", field="review_id")
    published_on = command.published_on or command.occurred_on or today
    if published_on > today:
        raise Rejected(
            f"the report cannot be published on {published_on.isoformat()}, a date in the future "
            f"(today is {today.isoformat()})",
            field="published_on",
        )
    if state.closed_on and published_on < state.closed_on:
        raise Rejected(
            f"{what} closed on {state.closed_on.isoformat()}; its report cannot be published before, "
            f"on {published_on.isoformat()}",
            field="published_on",
        )
    on = event_date(command, today, default=published_on)
    _in_order(state.history, on, what)
    return [
        ReviewReportPublished(
            review_id=state.id, report_url=command.report_url, published_on=published_on, occurred_on=on
        )
    ]


# --- Contribution deciders ---------------------------------------------------------------------------


def submit_contribution(
    state: ContributionState,
    command: SubmitContribution,
    today: date,
    *,
    review: ReviewState | None = None,
    **context: Any,
) -> list[Event]:
    """``review`` is the state of the review named by ``command.review_id``, existing or not.

    Yields the public content and the contact (personal data) as two events,
    appended together.
    """
    _same_aggregate(state.id, command.contribution_id, command)
    if state.exists:
        raise Rejected(f"contribution {state.id} was already submitted{_since(state.submitted_on)}")
    if review is None or not review.exists:
        raise NotFound(
            f"{describe_review(command.review_id)} has not been scheduled; there is nothing to contribute to",
            field="review_id",
        )
    if review.id != command.review_id:
        raise ValueError(f"submit-contribution to {command.review_id} was given review {review.id}")
    what = describe_review(review.id)
    if review.status is RS.PLANNED:
        raise Rejected(f"{what} is planned and not yet open for contributions", field="review_id")
    if review.status is not RS.OPEN:
        raise Rejected(f"{what} closed{_since(review.closed_on)}; it no longer takes contributions", field="review_id")
    contributor = command.contributor
    if isinstance(contributor, MemberStateContributor):
        # Membership of the regional commission decides which regional review a state takes part in.
        member = reference.country(contributor.country)
        if review.region not in member.regions:
            organizers = " and ".join(reference.commission_for_region(r).code for r in member.regions)
            reviews = "reviews" if len(member.regions) > 1 else "review"
            raise Rejected(
                f"{member.name} takes part in the regional {reviews} of {organizers}, not in {what}",
                field="contributor.country",
            )
    on = event_date(command, today)
    if review.opened_on and on < review.opened_on:
        raise Rejected(
            f"{what} opened for contributions on {review.opened_on.isoformat()}; "
            f"a contribution cannot be submitted before, on {on.isoformat()}",
            field="occurred_on",
        )
    content = command.model_dump(include=set(ContributionSubmitted.model_fields) - {"occurred_on"})
    return [
        ContributionSubmitted(
            **content, contribution_id=state.id, region=review.region, cycle=review.cycle, occurred_on=on
        ),
        ContributionContactRecorded(contribution_id=state.id, contact=command.contact, occurred_on=on),
    ]


def _moderatable(state: ContributionState) -> None:
    _existing_contribution(state)
    if state.status is CS.PUBLISHED:
        raise Rejected(f"contribution {state.id} was already published{_since(state.published_on)}")
    if state.status is CS.REJECTED:
        raise Rejected(
            f"contribution {state.id} was rejected{_since(state.rejected_on)} ({state.rejection_reason}); "
            "rejection is final"
        )
    if state.status is CS.WITHDRAWN:
        raise Rejected(f"contribution {state.id} was withdrawn{_since(state.withdrawn_on)}; withdrawal is final")


def publish_contribution(
    state: ContributionState, command: PublishContribution, today: date, **context: Any
) -> list[Event]:
    _moderatable(state)
    on = event_date(command, today)
    _in_order(state.history, on, f"contribution {state.id}")
    return [ContributionPublished(contribution_id=state.id, note=command.note, occurred_on=on)]


def reject_contribution(
    state: ContributionState, command: RejectContribution, today: date, **context: Any
) -> list[Event]:
    _moderatable(state)
    on = event_date(command, today)
    _in_order(state.history, on, f"contribution {state.id}")
    return [ContributionRejected(contribution_id=state.id, reason=command.reason, occurred_on=on)]


def withdraw_contribution(
    state: ContributionState, command: WithdrawContribution, today: date, **context: Any
) -> list[Event]:
    """Any actor may withdraw for now (no authentication yet); who did is recorded."""
    _existing_contribution(state)
    if state.status is CS.WITHDRAWN:
        raise Rejected(
            f"contribution {state.id} was already withdrawn{_since(state.withdrawn_on)} by {state.withdrawn_by}"
        )
    if state.status is CS.REJECTED:
        raise Rejected(
            f"contribution {state.id} was rejected{_since(state.rejected_on)}; there is nothing to withdraw"
        )
    on = event_date(command, today)
    _in_order(state.history, on, f"contribution {state.id}")
    return [
        ContributionWithdrawn(
            contribution_id=state.id, reason=command.reason, withdrawn_by=command.actor, occurred_on=on
        )
    ]


# --- Routing ---------------------------------------------------------------------------------------------

Decide = Callable[..., list[Event]]

#: Each command's aggregate type and decide function.
DECIDERS: dict[type[Command], tuple[AggregateType[Any], Decide]] = {
    ScheduleReview: (REVIEW, schedule_review),
    OpenReview: (REVIEW, open_review),
    CloseReview: (REVIEW, close_review),
    PublishReviewReport: (REVIEW, publish_review_report),
    SubmitContribution: (CONTRIBUTION, submit_contribution),
    PublishContribution: (CONTRIBUTION, publish_contribution),
    RejectContribution: (CONTRIBUTION, reject_contribution),
    WithdrawContribution: (CONTRIBUTION, withdraw_contribution),
}


def target_of(command: Command) -> tuple[AggregateType[Any], str]:
    """The aggregate type and id a command acts on."""
    aggregate, _ = DECIDERS[type(command)]
    if aggregate is REVIEW:
        return aggregate, command.review_id
    return aggregate, command.contribution_id
