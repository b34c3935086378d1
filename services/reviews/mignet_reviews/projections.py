"""Read models of the reviews service: pure functions of (document, event).

Dates are stored as ISO strings, as in the registry: BSON has no date-only
type, and ISO dates sort and compare correctly as text.

The ``contributions`` read model is built from the contribution's content and
moderation events only. The contact (personal data: sealed in ``ContributionSubmitted``,
or a ``ContributionContactRecorded`` in older streams) is never copied into it: it
stays in the event store, where the domain reads it, and so can never reach a query
reply or a public page.
"""

from __future__ import annotations

from typing import Any

from mignet_contracts import reference
from mignet_contracts import reviews as c
from mignet_runtime.codec import RecordedEvent
from mignet_runtime.projection import Projection

Doc = dict[str, Any]


def _iso(day) -> str | None:
    return day.isoformat() if day is not None else None


def _moved(doc: Doc, status: str, on: str, **extra: Any) -> Doc:
    doc["status"] = status
    doc["status_since"] = on
    doc["status_history"].append({"status": status, "on": on, **extra})
    return doc


# --- reviews ------------------------------------------------------------------------


def apply_review(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    on = event.occurred_on.isoformat()
    if isinstance(event, c.RegionalReviewScheduled):
        commission = reference.REGIONAL_COMMISSIONS[event.commission]
        return {
            "review_id": event.review_id,
            "region": str(event.region),
            "region_name": reference.REGIONS[event.region],
            "cycle": event.cycle,
            "commission": commission.code,
            "commission_name": commission.name,
            "stakeholder_consultations": [d.isoformat() for d in event.stakeholder_consultations],
            "meeting_start": _iso(event.meeting_start),
            "meeting_end": _iso(event.meeting_end),
            "venue": event.venue,
            "partners": list(event.partners),
            "organizers": [o.model_dump(mode="json") for o in event.organizers],
            "status": str(c.ReviewStatus.PLANNED),
            "status_since": on,
            "status_history": [{"status": str(c.ReviewStatus.PLANNED), "on": on}],
            "scheduled_on": on,
            "opened_on": None,
            "closed_on": None,
            "report_url": None,
            "report_published_on": None,
            "updated_at": recorded.recorded_at.isoformat(),
        }
    if doc is None:
        return None  # an event without its scheduling: nothing sensible to show
    doc["updated_at"] = recorded.recorded_at.isoformat()
    if isinstance(event, c.ReviewOpenedForContributions):
        doc["opened_on"] = on
        return _moved(doc, str(c.ReviewStatus.OPEN), on)
    if isinstance(event, c.ReviewClosed):
        doc["closed_on"] = on
        return _moved(doc, str(c.ReviewStatus.CLOSED), on)
    if isinstance(event, c.ReviewReportPublished):
        doc["report_url"] = event.report_url
        doc["report_published_on"] = event.published_on.isoformat()
        return _moved(doc, str(c.ReviewStatus.REPORT_PUBLISHED), on)
    return None


# --- contributions -------------------------------------------------------------------


def _contributor(contributor: c.MemberStateContributor | c.StakeholderContributor) -> Doc:
    if isinstance(contributor, c.MemberStateContributor):
        member_state = reference.country(contributor.country)
        return {
            "kind": contributor.kind,
            "country": member_state.code,
            "country_name": member_state.name,
            "category": None,
            "category_label": None,
            "organization": None,
        }
    country = reference.country(contributor.country) if contributor.country else None
    return {
        "kind": contributor.kind,
        "country": country.code if country else None,
        "country_name": country.name if country else None,
        "category": contributor.category,
        "category_label": reference.STAKEHOLDER_CATEGORIES[contributor.category],
        "organization": contributor.organization,
    }


def apply_contribution(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    on = event.occurred_on.isoformat()
    if isinstance(event, c.ContributionSubmitted):
        contributor = _contributor(event.contributor)
        return {
            "contribution_id": event.contribution_id,
            "review_id": event.review_id,
            "region": str(event.region) if event.region else None,
            "cycle": event.cycle,
            # The IMRF the contribution informs: its own, or the one after its review's cycle.
            "imrf": event.imrf or (c.imrf_for_cycle(event.cycle) if event.cycle else None),
            "to_imrf_itself": event.imrf is not None,
            "status": str(c.ContributionStatus.SUBMITTED),
            "status_since": on,
            "status_history": [{"status": str(c.ContributionStatus.SUBMITTED), "on": on}],
            "contributor": contributor,
            # Flat copies for filters, indexes and sorting (member states first, then by name).
            "contributor_kind": contributor["kind"],
            "contributor_name": contributor["organization"] or contributor["country_name"],
            "country": contributor["country"],
            "stakeholder_category": contributor["category"],
            "level": str(event.level),
            "title": event.title,
            "summary": event.summary,
            "body": event.body,
            "objectives": list(event.objectives),
            "guiding_principles": list(event.guiding_principles),
            "language": event.language,
            "links": list(event.links),
            "submitted_on": on,
            "published_on": None,
            "moderator_note": None,
            "rejected_on": None,
            "rejection_reason": None,
            "withdrawn_on": None,
            "withdrawal_reason": None,
            "updated_at": recorded.recorded_at.isoformat(),
        }
    if doc is None:
        return None
    if isinstance(event, c.ContributionPublished):
        doc["published_on"] = on
        doc["moderator_note"] = event.note
        _moved(doc, str(c.ContributionStatus.PUBLISHED), on)
    elif isinstance(event, c.ContributionRejected):
        doc["rejected_on"] = on
        doc["rejection_reason"] = event.reason
        _moved(doc, str(c.ContributionStatus.REJECTED), on)
    elif isinstance(event, c.ContributionWithdrawn):
        # Who withdrew (an actor id) stays in the event store's audit trail, not in a read model.
        doc["withdrawn_on"] = on
        doc["withdrawal_reason"] = event.reason
        _moved(doc, str(c.ContributionStatus.WITHDRAWN), on)
    elif isinstance(event, c.ContributionPersonalDataErased):
        doc["contact_erased_on"] = on  # the contact never was here; this says it is gone from the store too
    else:
        # ContributionContactRecorded (older streams) above all: personal data never enters this read model.
        return None
    doc["updated_at"] = recorded.recorded_at.isoformat()
    return doc


REVIEWS = Projection(
    name="reviews",
    collection="reviews",
    subject_filter=c.REVIEW_EVENTS_SUBJECT,
    key=lambda r: r.aggregate_id,
    apply=apply_review,
    indexes=(("region",), ("cycle",), ("status",)),
)

CONTRIBUTIONS = Projection(
    name="contributions",
    collection="contributions",
    subject_filter=c.CONTRIBUTION_EVENTS_SUBJECT,
    key=lambda r: r.aggregate_id,
    apply=apply_contribution,
    indexes=(
        ("review_id", "status"),
        ("status", "cycle", "region"),
        ("imrf", "status"),
        ("objectives",),
        ("country",),
        ("contributor_kind", "contributor_name"),
    ),
)

PROJECTIONS = (REVIEWS, CONTRIBUTIONS)
