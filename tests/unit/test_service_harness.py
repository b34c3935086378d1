"""`eventually` treats a read model's `not_found` as "not yet", and nothing else."""

from __future__ import annotations

import pytest

from mignet_contracts.envelope import ErrorBody
from mignet_runtime.client import RequestFailed

from service_harness import eventually


def failing(code: str, times: int, then="found"):
    calls = {"n": 0}

    async def probe():
        calls["n"] += 1
        if calls["n"] <= times:
            raise RequestFailed(ErrorBody(code=code, message=f"there is no contribution c-{calls['n']}"))
        return then

    return probe, calls


async def test_not_found_is_retried_until_the_document_appears():
    probe, calls = failing("not_found", times=3)
    assert await eventually(probe, timeout=5, interval=0.001) == "found"
    assert calls["n"] == 4


async def test_other_failures_are_raised_at_once():
    probe, calls = failing("rejected", times=3)
    with pytest.raises(RequestFailed):
        await eventually(probe, timeout=5, interval=0.001)
    assert calls["n"] == 1


async def test_a_document_that_never_appears_fails_with_the_last_error():
    probe, _ = failing("not_found", times=10**9)
    with pytest.raises(AssertionError, match="still not found after 0.05s: not_found: there is no contribution"):
        await eventually(probe, timeout=0.05, interval=0.001)
