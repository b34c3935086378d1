"""The reviews service's rules: regional GCM reviews and contributions as pure deciders.

One module per aggregate (:mod:`.review`, :mod:`.contribution`); this package routes
each command to its aggregate and decide function and re-exports what callers use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mignet_contracts.envelope import Command, Event
from mignet_contracts.reviews import (
    CloseReview,
    ErasePersonalData,
    OpenReview,
    PublishContribution,
    PublishReviewReport,
    RejectContribution,
    ScheduleReview,
    SubmitContribution,
    WithdrawContribution,
)
from mignet_reviews.domain.contribution import (
    CONTRIBUTION,
    FINAL_CONTRIBUTION_STATUSES,
    ContributionState,
    erase_personal_data,
    evolve_contribution,
    initial_contribution,
    publish_contribution,
    reject_contribution,
    submit_contribution,
    withdraw_contribution,
)
from mignet_reviews.domain.review import (
    NEXT_REVIEW_STATUS,
    REVIEW,
    ReviewState,
    close_review,
    evolve_review,
    initial_review,
    open_review,
    publish_review_report,
    schedule_review,
)
from mignet_reviews.domain.wording import describe_review
from mignet_runtime.aggregate import AggregateType, named_id

__all__ = [
    "CONTRIBUTION",
    "DECIDERS",
    "FINAL_CONTRIBUTION_STATUSES",
    "NEXT_REVIEW_STATUS",
    "REVIEW",
    "ContributionState",
    "ReviewState",
    "close_review",
    "describe_review",
    "evolve_contribution",
    "evolve_review",
    "initial_contribution",
    "initial_review",
    "open_review",
    "publish_contribution",
    "publish_review_report",
    "reject_contribution",
    "schedule_review",
    "submit_contribution",
    "target_of",
    "withdraw_contribution",
    "erase_personal_data",
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
    ErasePersonalData: (CONTRIBUTION, erase_personal_data),
}


def target_of(command: Command) -> tuple[AggregateType[Any], str]:
    """The aggregate type and id a command acts on."""
    aggregate, _ = DECIDERS[type(command)]
    if aggregate is REVIEW:
        return aggregate, named_id(command, "review_id")
    return aggregate, named_id(command, "contribution_id")
