"""The guards that replaced values typed None until a service starts (issue 7): each says what went wrong."""

from __future__ import annotations

from datetime import date

import pytest

from mignet_contracts import reviews as c
from mignet_contracts.envelope import ErrorBody, Reply
from mignet_registry.app import SPEC
from mignet_reviews.seed import _due
from mignet_runtime.client import MignetClient, RequestFailed
from mignet_runtime.lease import Lease, LeaseLost
from mignet_runtime.service import NotStarted, ServiceRuntime
from mignet_runtime.settings import Settings


@pytest.mark.parametrize("part", ["store", "executor", "mongo", "db", "nc"])
def test_a_runtime_part_used_before_start_says_so(part):
    runtime = ServiceRuntime(SPEC, Settings())
    with pytest.raises(NotStarted, match=rf"ServiceRuntime\.{part} is used before start\(\)"):
        getattr(runtime, part)


def test_the_fencing_token_is_given_only_while_the_lease_is_held():
    now = [0.0]
    lease = Lease(kv=None, key="projections.x", ttl=10, clock=lambda: now[0])
    with pytest.raises(LeaseLost, match="projections.x is not held"):
        lease.fencing_token()
    lease.token = 7
    lease._held_from(sent=0.0, revision=7)
    assert lease.fencing_token() == 7


def test_a_refusal_without_an_error_is_reported_as_an_internal_error():
    with pytest.raises(RequestFailed) as refused:
        MignetClient._unwrap(Reply(ok=False))
    assert refused.value.error.code == "internal"
    given = ErrorBody(code="rejected", message="no")
    with pytest.raises(RequestFailed) as refused:
        MignetClient._unwrap(Reply(ok=False, error=given))
    assert refused.value.error == given
    assert MignetClient._unwrap(Reply(ok=True, result={"x": 1})) == {"x": 1}


def test_the_seed_leaves_future_steps_for_later_and_counts_an_undated_step_as_today():
    def opening(on: date | None) -> c.OpenReview:
        return c.OpenReview(command_id="seed-x", actor="seed", review_id="africa-2024-2025", occurred_on=on)

    today = date(2025, 1, 1)
    past, undated, future = opening(date(2024, 12, 31)), opening(None), opening(date(2025, 1, 2))
    assert _due([past, undated, future], today) == [past, undated]
