"""Resolution 73/326 para 13: all contributions, including those to the IMRF itself outside a regional review."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from mignet_contracts import reviews as rv
from mignet_contracts.envelope import new_id
from mignet_reviews import domain as d
from mignet_reviews.projections import apply_contribution
from mignet_runtime.codec import RecordedEvent

TODAY = date(2025, 3, 1)
CONTENT = {
    "contributor": {"kind": "member-state", "country": "CA"},
    "level": "global",
    "title": "Canada's contribution to the IMRF",
    "summary": "Our progress on the GCM.",
    "objectives": [23],
    "language": "en",
    "contact": {"name": "A. Person", "email": "a.person@example.org"},
}


def submit(**fields) -> rv.SubmitContribution:
    return rv.SubmitContribution(**({"command_id": new_id(), "actor": "ops"} | CONTENT | fields))


def test_imrf_editions_follow_the_gcms_four_year_rhythm():
    assert rv.check_imrf("imrf-2022") == "imrf-2022" and rv.check_imrf("imrf-2030") == "imrf-2030"
    for wrong in ("imrf-2024", "imrf-2018", "IMRF 2022", "2022"):
        with pytest.raises(ValueError):
            rv.check_imrf(wrong)
    assert rv.imrf_for_cycle("2020-2021") == "imrf-2022" and rv.imrf_for_cycle("2024-2025") == "imrf-2026"


def test_a_contribution_goes_to_a_regional_review_or_to_the_imrf_itself():
    with pytest.raises(ValidationError, match="exactly one of review_id"):
        submit()
    with pytest.raises(ValidationError, match="exactly one of review_id"):
        submit(review_id="asia-pacific-2024-2025", imrf="imrf-2026")
    with pytest.raises(ValidationError, match="there is no IMRF in 2024"):
        submit(imrf="imrf-2024")


def test_a_contribution_to_the_imrf_needs_no_review_and_any_member_state_may_send_one():
    command = submit(imrf="imrf-2026")
    state = d.CONTRIBUTION.initial(command.contribution_id)
    [submitted] = d.submit_contribution(state, command, TODAY)  # no review in the context
    assert (submitted.imrf, submitted.review_id, submitted.region, submitted.cycle) == ("imrf-2026", None, None, None)
    # One event: the contact travels in it, sealed by the codec (docs/privacy.md).
    assert submitted.contact is not None and submitted.contact.email == "a.person@example.org"


def recorded(seq, event):
    return RecordedEvent(
        seq, event.subject, event, f"e{seq}", datetime(2026, 1, 1, tzinfo=UTC), f"c{seq}", "t", None, None
    )


def test_the_read_model_knows_which_imrf_every_contribution_informs():
    command = submit(imrf="imrf-2026")
    [submitted] = d.submit_contribution(d.CONTRIBUTION.initial(command.contribution_id), command, TODAY)
    doc = apply_contribution(None, recorded(1, submitted))
    assert (doc["imrf"], doc["to_imrf_itself"], doc["region"], doc["review_id"]) == ("imrf-2026", True, None, None)
    # An event recorded before contributions to the IMRF itself existed: its review's cycle says which forum.
    older = rv.ContributionSubmitted.model_validate(
        submitted.model_dump(mode="json", exclude={"imrf"})
        | {"review_id": "africa-2020-2021", "region": "africa", "cycle": "2020-2021"}
    )
    doc = apply_contribution(None, recorded(2, older))
    assert (doc["imrf"], doc["to_imrf_itself"], doc["region"]) == ("imrf-2022", False, "africa")
