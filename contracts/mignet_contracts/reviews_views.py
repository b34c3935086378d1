"""What the reviews service's queries answer: its read-model documents, typed for clients and AsyncAPI.

As in :mod:`mignet_contracts.registry_views`, views accept fields they do not declare.
Contribution documents never hold a contact; they carry the registry facts about the
contributor's country as they are when the query runs.
"""

from __future__ import annotations

from datetime import date, datetime

from mignet_contracts import reviews as rv
from mignet_contracts.envelope import Query
from mignet_contracts.registry_views import StatusStep, View


class ReviewView(View):
    review_id: str
    region: str
    region_name: str
    cycle: str
    commission: str
    commission_name: str
    stakeholder_consultations: list[date]
    meeting_start: date | None
    meeting_end: date | None
    venue: str | None
    partners: list[str]
    status: str
    status_since: date
    status_history: list[StatusStep]
    scheduled_on: date
    opened_on: date | None
    closed_on: date | None
    report_url: str | None
    report_published_on: date | None
    updated_at: datetime


class ContributorView(View):
    kind: str
    country: str | None
    country_name: str | None
    category: str | None
    category_label: str | None
    organization: str | None


class ContributionView(View):
    contribution_id: str
    review_id: str
    region: str
    cycle: str
    status: str
    status_since: date
    status_history: list[StatusStep]
    contributor: ContributorView
    contributor_kind: str
    contributor_name: str | None
    country: str | None
    stakeholder_category: str | None
    level: str
    title: str
    summary: str
    body: str | None
    objectives: list[int]
    guiding_principles: list[str]
    language: str
    links: list[str]
    submitted_on: date
    published_on: date | None
    moderator_note: str | None
    rejected_on: date | None
    rejection_reason: str | None
    withdrawn_on: date | None
    withdrawal_reason: str | None
    updated_at: datetime
    # The registry facts about the contributor's country, as they are now.
    country_has_network: bool | None = None
    network_status: str | None = None
    country_is_champion: bool | None = None
    champion_status: str | None = None


class ReviewPage(View):
    total: int
    items: list[ReviewView]


class ContributionPage(View):
    total: int
    limit: int
    offset: int
    items: list[ContributionView]


class ObjectiveCount(View):
    objective: int
    label: str
    count: int


class Breakdown(View):
    total: int
    by_contributor_kind: dict[str, int]
    by_stakeholder_category: dict[str, int]
    by_level: dict[str, int]
    by_objective: list[ObjectiveCount]
    by_language: dict[str, int]


class ReviewFiguresView(View):
    review_id: str
    review_status: str
    total: int
    by_status: dict[str, int]
    received: Breakdown
    published: Breakdown


class CompilationView(View):
    cycle: str | None
    region: str | None
    objective: int | None
    total: int
    by_region: dict[str, int]
    limit: int
    offset: int
    items: list[ContributionView]


RESULTS: dict[type[Query], type[View]] = {
    rv.ListReviews: ReviewPage,
    rv.GetReview: ReviewView,
    rv.ListContributions: ContributionPage,
    rv.GetContribution: ContributionView,
    rv.ReviewFigures: ReviewFiguresView,
    rv.Compilation: CompilationView,
}
