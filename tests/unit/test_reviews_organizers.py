"""GCM paragraph 50: a regional review's organizers besides the region's UN commission."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from mignet_contracts import reviews as rv
from mignet_contracts.envelope import new_id
from mignet_reviews import domain as d
from mignet_reviews.projections import apply_review
from mignet_runtime.codec import RecordedEvent
from mignet_runtime.errors import Rejected

TODAY = date(2025, 3, 1)
BALI = {"kind": "regional-consultative-process", "name": "Bali Process"}
ASEAN = {"kind": "subregional", "name": "Association of Southeast Asian Nations"}


def schedule(**fields) -> rv.ScheduleReview:
    defaults = {"command_id": new_id(), "actor": "ops", "region": "asia-pacific", "cycle": "2024-2025"}
    return rv.ScheduleReview(**(defaults | fields))


def test_a_review_records_regional_consultative_processes_and_other_organizers():
    command = schedule(organizers=[BALI, ASEAN])
    (event,) = d.schedule_review(d.REVIEW.initial(command.review_id), command, TODAY)
    assert event.commission == "ESCAP"
    assert [(o.kind, o.name) for o in event.organizers] == [
        (rv.OrganizerKind.REGIONAL_CONSULTATIVE_PROCESS, "Bali Process"),
        (rv.OrganizerKind.SUBREGIONAL, "Association of Southeast Asian Nations"),
    ]
    state = d.REVIEW.fold(command.review_id, [event])
    assert state.organizers == event.organizers


def test_organizers_are_listed_once_and_the_commission_is_not_repeated():
    for organizers in ([BALI, BALI], [{"kind": "un-regional-commission", "name": "ESCAP"}]):
        command = schedule(organizers=organizers)
        with pytest.raises(Rejected, match="each organizer is listed once"):
            d.schedule_review(d.REVIEW.initial(command.review_id), command, TODAY)
    with pytest.raises(ValidationError):
        schedule(organizers=[{"kind": "chamber-of-commerce", "name": "x"}])


def test_older_scheduled_events_without_organizers_still_decode_and_project():
    payload = {
        "review_id": "africa-2020-2021",
        "region": "africa",
        "cycle": "2020-2021",
        "commission": "ECA",
        "occurred_on": "2020-06-01",
    }
    event = rv.RegionalReviewScheduled.model_validate(payload)
    assert event.organizers == ()
    assert d.REVIEW.fold("africa-2020-2021", [event]).organizers == ()
    assert _projected(event)["organizers"] == []
    with_bali = rv.RegionalReviewScheduled.model_validate(payload | {"organizers": [BALI]})
    assert _projected(with_bali)["organizers"] == [BALI]


def _projected(event) -> dict:
    recorded = RecordedEvent(1, event.subject, event, "e1", datetime(2026, 1, 1, tzinfo=UTC), "c1", "t", None, None)
    return apply_review(None, recorded)
