"""Contributions to a regional review: submission, moderation (publish or reject), withdrawal.

Pure, like the review rules. A contribution's contact is personal data: it lives in
:class:`ContributionState` (to reach the contributor) and arrives sealed in
``ContributionSubmitted`` (older streams: a separate ``ContributionContactRecorded``);
projections that build public pages copy the content fields only, never the contact.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from mignet_contracts import reference
from mignet_contracts import reviews as contracts
from mignet_contracts.envelope import Event
from mignet_contracts.fields import ERASED
from mignet_contracts.reviews import (
    SERVICE,
    ContributionContact,
    ContributionContactRecorded,
    ContributionPersonalDataErased,
    ContributionPublished,
    ContributionRejected,
    ContributionStatus,
    ContributionSubmitted,
    ContributionUnpublished,
    ContributionWithdrawn,
    ErasePersonalData,
    MemberStateContributor,
    PublishContribution,
    PublishedContribution,
    RejectContribution,
    SubmitContribution,
    WithdrawContribution,
)
from mignet_reviews.domain.checks import in_order as _in_order
from mignet_reviews.domain.checks import same_aggregate as _same_aggregate
from mignet_reviews.domain.review import RS, ReviewState
from mignet_reviews.domain.wording import describe_review
from mignet_reviews.domain.wording import since as _since
from mignet_runtime.aggregate import AggregateType, event_date
from mignet_runtime.errors import NotFound, Rejected

CS = ContributionStatus

FINAL_CONTRIBUTION_STATUSES: frozenset[ContributionStatus] = frozenset({CS.REJECTED, CS.WITHDRAWN})


# --- State -------------------------------------------------------------------------------


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


def initial_contribution(aggregate_id: str) -> ContributionState:
    return ContributionState(id=aggregate_id)


def evolve_contribution(state: ContributionState, event: Event) -> ContributionState:
    match event:
        case ContributionSubmitted():
            return replace(
                state,
                exists=True,
                status=CS.SUBMITTED,
                submission=event,
                contact=event.contact or state.contact,
                submitted_on=event.occurred_on,
                history=(*state.history, (event.occurred_on, CS.SUBMITTED)),
            )
        case ContributionContactRecorded():
            return replace(state, contact=event.contact)
        case ContributionPersonalDataErased():
            erased = ContributionContact.model_construct(name=ERASED, email=ERASED)
            submission = state.submission
            if submission is not None and submission.contact is not None:
                submission = submission.model_copy(update={"contact": erased})
            return replace(state, contact=erased if state.contact else None, submission=submission)
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


CONTRIBUTION: AggregateType[ContributionState] = AggregateType(
    service=SERVICE, name=contracts.CONTRIBUTION, initial=initial_contribution, evolve=evolve_contribution
)


def _existing_contribution(state: ContributionState) -> ContributionState:
    if not state.exists:
        raise NotFound(f"there is no contribution {state.id}", field="contribution_id")
    return state


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

    A contribution to the IMRF itself (``command.imrf``) needs no review: resolution
    73/326 asks for *all* contributions, so it is taken whenever it comes.
    Yields the public content and the contact (personal data) as two events,
    appended together.
    """
    _same_aggregate(state.id, command.contribution_id, command)
    if state.exists:
        raise Rejected(f"contribution {state.id} was already submitted{_since(state.submitted_on)}")
    if command.review_id is None:  # the model requires imrf then
        return _submitted(state, command, event_date(command, today), None)
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
    return _submitted(state, command, on, review)


def _submitted(
    state: ContributionState, command: SubmitContribution, on: date, review: ReviewState | None
) -> list[Event]:
    content = command.model_dump(include=set(ContributionSubmitted.model_fields) - {"occurred_on"})
    place = {"region": review.region, "cycle": review.cycle} if review else {}
    # One event: the contact is sealed in it (docs/privacy.md), no second event in an atomic batch.
    return [ContributionSubmitted(**content, **place, contribution_id=state.id, occurred_on=on)]


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
    assert state.submission is not None  # _moderatable: it was submitted
    published = PublishedContribution.model_validate(
        state.submission.model_dump(include=set(PublishedContribution.model_fields))
    )
    return [ContributionPublished(contribution_id=state.id, note=command.note, contribution=published, occurred_on=on)]


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
        raise Rejected(f"contribution {state.id} was already withdrawn{_since(state.withdrawn_on)}")
    if state.status is CS.REJECTED:
        raise Rejected(f"contribution {state.id} was rejected{_since(state.rejected_on)}; there is nothing to withdraw")
    on = event_date(command, today)
    _in_order(state.history, on, f"contribution {state.id}")
    withdrawn = ContributionWithdrawn(
        contribution_id=state.id, reason=command.reason, withdrawn_by=command.actor, occurred_on=on
    )
    if state.status is CS.PUBLISHED:  # the public feed carried it: say it is gone, without the reason
        return [withdrawn, ContributionUnpublished(contribution_id=state.id, occurred_on=on)]
    return [withdrawn]


def erase_personal_data(
    state: ContributionState, command: ErasePersonalData, today: date, *, data_keys: list[str], **context: Any
) -> list[Event]:
    """Record the erasure of the contribution's contact (``data_keys``: its keys); the content stays."""
    _existing_contribution(state)
    if not data_keys:
        raise Rejected(f"contribution {state.id} holds no personal data: it is erased already")
    return [
        ContributionPersonalDataErased(
            contribution_id=state.id, key_ids=data_keys, requested_by=command.requested_by, occurred_on=today
        )
    ]
