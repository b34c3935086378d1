"""Print contributions to the GCM regional reviews as they are published (and withdrawn).

Needs only ``pip install ./contracts``. Run it as the integrator user::

    NATS_URL=nats://127.0.0.1:4222 NATS_PASSWORD=... python examples/published_contributions.py --follow

One line per published contribution: its business date (``occurred_on``), review,
contributor, title and GCM objectives; and one when a published contribution is withdrawn. Only moderated, published contributions are on
the public feed; submissions and contacts never are. Without ``--durable`` it reads the
whole feed each time through an ephemeral consumer; ``--since 2024-01-01`` skips what
was published (in the world) earlier.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import date

from mignet_contracts import reviews as rv
from mignet_contracts.subscriber import connect, subscribe


def contributor(who: rv.Contributor) -> str:
    if isinstance(who, rv.MemberStateContributor):
        return who.country
    return f"{who.organization} ({who.category})"


def line(event: rv.ContributionPublished | rv.ContributionUnpublished) -> str:
    if isinstance(event, rv.ContributionUnpublished):  # withdrawn after publication: take your copy down
        return f"{event.occurred_on}  {event.contribution_id}  withdrawn: no longer public"
    published = event.contribution
    if published is None:  # recorded before the feed carried the content
        return f"{event.occurred_on}  {event.contribution_id}  (content not on the feed)"
    objectives = ",".join(str(o) for o in published.objectives)
    return (
        f"{event.occurred_on}  {published.review_id}  {contributor(published.contributor)}  "
        f"{published.title}  [objectives {objectives}]"
    )


async def run(durable: str | None, follow: bool, since: date | None, wait: float) -> int:
    nc = await connect(os.environ["NATS_URL"], os.environ["NATS_PASSWORD"], os.environ.get("NATS_USER", "integrator"))
    try:
        events = subscribe(
            nc,
            [rv.ContributionPublished, rv.ContributionUnpublished],
            durable=durable,
            follow=follow,
            since_occurred_on=since,
            wait=wait,
        )
        async for envelope in events:
            print(line(envelope.event), flush=True)
    finally:
        await nc.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durable", help="a consumer name on PUBLIC, to resume where the last run stopped")
    parser.add_argument("--wait", type=float, default=5.0, help="seconds without news that mean caught up")
    parser.add_argument("--follow", action="store_true", help="keep following (default: stop when caught up)")
    parser.add_argument("--since", type=date.fromisoformat, help="skip contributions published before this date")
    args = parser.parse_args()
    return asyncio.run(run(args.durable, args.follow, args.since, args.wait))


if __name__ == "__main__":
    sys.exit(main())
