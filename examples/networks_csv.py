"""Keep a CSV of the Network's networks and champion countries current from the public feed.

Needs only ``pip install ./contracts``. Run it as the integrator user::

    NATS_URL=nats://127.0.0.1:4222 NATS_PASSWORD=... python examples/networks_csv.py networks.csv

It reads the registry's public events through its own durable consumer, so each run
(or a long-running ``--follow``) takes up where the last one stopped (the consumer and the
file go together: for a new file, name a new ``--durable``), and rewrites the
CSV after every event (atomically: a reader never sees half a file). Applying an event
twice gives the same row, so the feed's at-least-once delivery needs nothing more.
Focal points' e-mails never reach the public feed, so they never reach this file.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import sys
from pathlib import Path

from mignet_contracts import registry as rg
from mignet_contracts.envelope import Event
from mignet_contracts.subscriber import connect, subscribe

COLUMNS = ["kind", "id", "name", "scope", "country", "region", "status", "members", "updated_on"]
Row = dict[str, str]


def load(path: Path) -> dict[tuple[str, str], Row]:
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as f:
        return {(row["kind"], row["id"]): row for row in csv.DictReader(f)}


def save(path: Path, rows: dict[tuple[str, str], Row]) -> None:
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows[key] for key in sorted(rows))
    partial.replace(path)


def apply(rows: dict[tuple[str, str], Row], event: Event) -> None:
    """The CSV after ``event``; the same whether it is applied once or twice."""
    key = ("champion" if isinstance(event, rg.ChampionEvent) else "network", event.aggregate_id)
    if isinstance(event, rg.NetworkCreated):
        rows[key] = {
            "kind": "network",
            "id": event.network_id,
            "name": event.network_name,
            "scope": str(event.scope),
            "country": event.country or "",
            "region": str(event.region or ""),
            "status": str(event.status),
            "members": "",
        }
    elif isinstance(event, rg.ChampionNominated):
        rows[key] = {"kind": "champion", "id": event.aggregate_id, "name": "", "scope": "", "country": event.country}
        rows[key] |= {"region": event.regional_group, "status": str(rg.ChampionStatus.NOMINATED), "members": ""}
    if key not in rows:
        return  # an event about something created before the feed began: nothing to attach it to
    row = rows[key]
    members = set(filter(None, row["members"].split(";")))
    if isinstance(event, rg.NetworkRenamed):
        row["name"] = event.network_name
    elif isinstance(event, rg.NetworkStatusChanged):
        row["status"] = str(event.to_status)
    elif isinstance(event, rg.NetworkMemberJoined):
        members.add(event.entity)
    elif isinstance(event, rg.NetworkMemberLeft):
        members.discard(event.entity)
    elif isinstance(event, rg.ChampionConfirmed):
        row["status"] = str(rg.ChampionStatus.CONFIRMED)
    elif isinstance(event, rg.ChampionWithdrawn):
        row["status"] = str(rg.ChampionStatus.WITHDRAWN)
    row["members"] = ";".join(sorted(members))
    row["updated_on"] = max(row.get("updated_on") or "", event.occurred_on.isoformat())


async def run(path: Path, durable: str, follow: bool, wait: float) -> int:
    nc = await connect(os.environ["NATS_URL"], os.environ["NATS_PASSWORD"], os.environ.get("NATS_USER", "integrator"))
    rows, applied = load(path), 0
    try:
        async for envelope in subscribe(nc, "registry.events.>", durable=durable, follow=follow, wait=wait):
            apply(rows, envelope.event)
            save(path, rows)  # before the event is acknowledged (when the loop asks for the next one)
            applied += 1
    finally:
        await nc.close()
    print(f"{applied} events applied; {len(rows)} rows in {path}", file=sys.stderr)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, help="the CSV to keep current (created when missing)")
    parser.add_argument(
        "--durable", default="networks-csv", help="the consumer's name on PUBLIC (default: %(default)s)"
    )
    parser.add_argument("--wait", type=float, default=5.0, help="seconds without news that mean caught up")
    parser.add_argument("--follow", action="store_true", help="keep following the feed (default: stop when caught up)")
    args = parser.parse_args()
    return asyncio.run(run(args.csv, args.durable, args.follow, args.wait))


if __name__ == "__main__":
    sys.exit(main())
