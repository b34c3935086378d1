"""Expansion: each recorded event becomes one delivery per matching subscription.

Runs once the subscriptions read model has caught up with ``NOTIFIER`` (so a
subscription created before an event is never missed). Deliveries have
deterministic ids, so expanding an event twice (a redelivery, a rebuild, two
workers) inserts nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mignet_notifier import deliveries as d
from mignet_notifier.domain.matching import matches
from mignet_notifier.projections import OUTBOXES, SUBSCRIPTIONS
from mignet_runtime.projection import CHECKPOINTS
from mignet_runtime.service import ServiceRuntime

Doc = dict[str, Any]
#: Events expanded per outbox per pass.
EXPAND_BATCH = 500


@dataclass
class Expanded:
    events: int = 0
    #: The new deliveries inserted claimed by the caller (their first attempt is its own).
    claimed: list[Doc] = field(default_factory=list)
    #: Whether any delivery was inserted (claimed or pending).
    inserted: bool = False


async def checkpoints(runtime: ServiceRuntime) -> dict[str, tuple]:
    """Where the outbox and subscription projections are (and when last rebuilt): a change means there
    may be events to expand."""
    names = [SUBSCRIPTIONS.name, *(o.name for o in OUTBOXES)]
    found = runtime.db[CHECKPOINTS].find({"_id": {"$in": names}}, {"seq": 1, "rebuilt_at": 1})
    return {doc["_id"]: (doc.get("seq", 0), doc.get("rebuilt_at")) async for doc in found}


async def expand(runtime: ServiceRuntime, token: str, room: int, claimed_until: datetime) -> Expanded:
    """Expands what the outboxes hold; up to ``room`` new deliveries are inserted claimed with ``token``."""
    db = runtime.db
    result = Expanded()
    last = await runtime.store.last_seq()
    checkpoint = await db[CHECKPOINTS].find_one({"_id": SUBSCRIPTIONS.name}) or {}
    if checkpoint.get("seq", 0) < last:
        return result
    subscriptions: list[Doc] | None = None
    for outbox in OUTBOXES:
        docs = await (
            db[outbox.collection].find({"expanded": False}).sort("recorded_at", 1).limit(EXPAND_BATCH).to_list(None)
        )
        if not docs:
            continue
        if subscriptions is None:
            subscriptions = await db[SUBSCRIPTIONS.collection].find({"status": "active"}).to_list(None)
        at = d.now()
        new = [
            d.new_delivery(doc, s, at)
            for doc in docs
            for s in subscriptions
            if matches(s, doc["type"], doc["public"], doc.get("facets") or {}, doc["recorded_at"])
        ]
        # As many as the caller can take are inserted claimed by it; the others pending, for any worker.
        take = max(0, room - len(result.claimed))
        new = [d.claimed(doc, token, claimed_until) for doc in new[:take]] + new[take:]
        inserted = await d.insert_new(db, new)
        result.inserted |= bool(inserted)
        result.claimed += [doc for doc in inserted if doc.get("claim") == token]
        ids = [doc["_id"] for doc in docs]
        await db[outbox.collection].update_many({"_id": {"$in": ids}}, {"$set": {"expanded": True}})
        result.events += len(docs)
    return result
