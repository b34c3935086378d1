"""How the reviews rules name things to operators."""

from __future__ import annotations

from datetime import date

from mignet_contracts import reference
from mignet_contracts.reviews import ContributionStatus, ReviewStatus, parse_review_id


def words(status: ReviewStatus | ContributionStatus) -> str:
    return status.value.replace("-", " ")


def describe_review(review_id: str) -> str:
    try:
        region, cycle = parse_review_id(review_id)
    except ValueError:
        return f"review {review_id}"
    return f"the {cycle} regional review for {reference.region_in_sentence(region)} ({review_id})"


def since(on: date | None) -> str:
    return f" on {on.isoformat()}" if on else ""
