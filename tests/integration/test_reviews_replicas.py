"""Two reviews replicas serve commands at once (one NATS queue group); races are settled by the event store.

Forty contributions are submitted through both replicas at the same time, then each is
published and rejected at the same moment, so the two moderations of one contribution
race, often in different replicas. The expected-version check on the contribution's
subjects lets exactly one of each pair be written; the other is decided again on the
fresh state and refused. Both replicas must have served commands.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from conftest import RunningService, eventually
from test_reviews_service import AP, NATS_ONLY, open_review, submission

from mignet_contracts import reviews as c
from mignet_contracts.envelope import new_id
from mignet_runtime.client import RequestFailed

pytestmark = pytest.mark.integration

ACTOR = "test:replicas"
COUNT = 40


async def test_two_replicas_share_the_commands_and_each_race_has_one_winner(fresh_nats, settings_for):
    async with (
        RunningService(NATS_ONLY, settings_for(fresh_nats)) as first,
        RunningService(NATS_ONLY, settings_for(fresh_nats)) as second,
    ):
        client = first.client
        assert await open_review(client) == AP
        submitted = await asyncio.gather(*(client.command(submission()) for _ in range(COUNT)))
        ids = [s.aggregate_id for s in submitted]
        assert len(set(ids)) == COUNT

        async def moderate(command) -> str:
            try:
                await client.command(command)
                return "written"
            except RequestFailed as exc:
                return exc.error.code

        races = []
        for contribution_id in ids:
            races.append(
                moderate(c.PublishContribution(command_id=new_id(), actor=ACTOR, contribution_id=contribution_id))
            )
            races.append(
                moderate(
                    c.RejectContribution(
                        command_id=new_id(), actor=ACTOR, contribution_id=contribution_id, reason="duplicate"
                    )
                )
            )
        outcomes = await asyncio.gather(*races)
        pairs = [outcomes[i : i + 2] for i in range(0, len(outcomes), 2)]
        assert all(sorted(pair) == ["rejected", "written"] for pair in pairs), Counter(map(tuple, pairs))

        # The stream holds exactly one moderation per contribution.
        store = first.runtime.store
        moderations = Counter()
        async for recorded in store.read("reviews.events.contribution.>"):
            if recorded.event.__class__.__name__ in ("ContributionPublished", "ContributionRejected"):
                moderations[recorded.aggregate_id] += 1
        assert moderations == Counter({i: 1 for i in ids})

        # Both replicas answered commands (NATS spreads a queue group's requests).
        served = [_commands_served(service) for service in (first, second)]
        assert all(n > 0 for n in served), served

        async def all_moderated():
            page = await client.query(c.ListContributions(review_id=AP, limit=200))
            return page["total"] == COUNT and all(item["status"] in ("published", "rejected") for item in page["items"])

        await eventually(all_moderated, timeout=20)


def _commands_served(service) -> int:
    return sum(lane.served for subject, lane in service.built.endpoints.lanes.items() if ".commands." in subject)
