"""Regional reviews of the GCM: scheduling, opening, closing and the report.

Pure: no I/O and no clock (callers pass ``today``). Each decide function takes the
review's current state and a command and returns the events to append, or raises
:class:`Rejected` / :class:`NotFound`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from mignet_contracts import reference
from mignet_contracts import reviews as contracts
from mignet_contracts.envelope import Event
from mignet_contracts.reference import RegionCode
from mignet_contracts.reviews import (
    SERVICE,
    CloseReview,
    OpenReview,
    PublishReviewReport,
    RegionalReviewScheduled,
    ReviewClosed,
    ReviewOpenedForContributions,
    ReviewReportPublished,
    ReviewStatus,
    ScheduleReview,
)
from mignet_reviews.domain.checks import in_order as _in_order
from mignet_reviews.domain.checks import same_aggregate as _same_aggregate
from mignet_reviews.domain.wording import describe_review
from mignet_reviews.domain.wording import since as _since
from mignet_reviews.domain.wording import words as _words
from mignet_runtime.aggregate import AggregateType, event_date
from mignet_runtime.errors import NotFound, Rejected

RS = ReviewStatus

#: The only way a review moves: planned -> open -> closed -> report published.
NEXT_REVIEW_STATUS: dict[ReviewStatus, ReviewStatus] = {
    RS.PLANNED: RS.OPEN,
    RS.OPEN: RS.CLOSED,
    RS.CLOSED: RS.REPORT_PUBLISHED,
}

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
    organizers: tuple[contracts.Organizer, ...] = ()
    scheduled_on: date | None = None
    opened_on: date | None = None
    closed_on: date | None = None
    report_url: str | None = None
    report_published_on: date | None = None
    history: tuple[tuple[date, ReviewStatus], ...] = ()


def initial_review(aggregate_id: str) -> ReviewState:
    return ReviewState(id=aggregate_id)


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
                organizers=event.organizers,
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


REVIEW: AggregateType[ReviewState] = AggregateType(
    service=SERVICE, name=contracts.REVIEW, initial=initial_review, evolve=evolve_review
)


def _existing_review(state: ReviewState) -> ReviewState:
    if not state.exists:
        raise NotFound(f"{describe_review(state.id)} has not been scheduled", field="review_id")
    return state


def _status(state: ReviewState) -> ReviewStatus:
    """The status of a review that exists (checked by the caller)."""
    assert state.status is not None, f"review {state.id} exists without a status"  # scheduling sets one
    return state.status


# --- Review deciders ------------------------------------------------------------------------------


def schedule_review(state: ReviewState, command: ScheduleReview, today: date, **context: Any) -> list[Event]:
    _same_aggregate(state.id, command.review_id, command)
    what = describe_review(state.id)
    if state.exists:
        raise Rejected(
            f"{what} is already scheduled (status: {_words(_status(state))}); there is one review per region and cycle",
            field="cycle",
        )
    organizer = reference.commission_for_region(command.region)
    if command.commission is not None and command.commission != organizer.code:
        region_name = reference.region_in_sentence(command.region)
        raise Rejected(
            f"the regional review for {region_name} is organized by {organizer.code} ({organizer.name}), "
            f"not {command.commission}",
            field="commission",
        )
    names = [o.name.casefold() for o in command.organizers]
    if len(set(names)) < len(names) or organizer.code.casefold() in names or organizer.name.casefold() in names:
        raise Rejected(
            f"each organizer is listed once, and {organizer.code} is recorded as the commission already",
            field="organizers",
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
            organizers=command.organizers,
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


def publish_review_report(state: ReviewState, command: PublishReviewReport, today: date, **context: Any) -> list[Event]:
    _existing_review(state)
    what = describe_review(state.id)
    if state.status is RS.REPORT_PUBLISHED:
        raise Rejected(
            f"{what} already published its report{_since(state.report_published_on)}: {state.report_url}",
            field="review_id",
        )
    if state.status is not RS.CLOSED:
        raise Rejected(f"{what} is {_words(_status(state))}; close it before publishing its report", field="review_id")
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
