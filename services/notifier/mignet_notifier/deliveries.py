"""The delivery log: one document per (event, subscription), the durable retry schedule.

A delivery's ``_id`` is its delivery id, derived from the event id and the
subscription id, and is the ``webhook-id`` header: expanding an event twice
(a redelivery, a rebuild, two notifier processes) inserts nothing new, and a
receiver de-duplicates the rare resend on it. The schedule lives here
(``status``, ``attempts``, ``next_at``), not in a sleeping task, so retries
survive restarts. Every write is journaled.

States: pending -> delivering (claimed by one worker, until ``claimed_until``; a new
delivery may be inserted so, claimed by the worker that expanded it)
-> delivered | pending (next attempt) | parked (schedule ran out) | cancelled.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from mignet_contracts.notifier import DeliveryStatus
from mignet_notifier.domain.matching import delivery_id
from mignet_runtime.projection import journaled

Doc = dict[str, Any]
DELIVERIES = "deliveries"
DS = DeliveryStatus


def now() -> datetime:
    return datetime.now(UTC)


def collection(db: AsyncDatabase) -> AsyncCollection:
    return db.get_collection(DELIVERIES, write_concern=journaled(db))


async def ensure_indexes(db: AsyncDatabase) -> None:
    deliveries = collection(db)
    await deliveries.create_index([("status", 1), ("next_at", 1)])
    await deliveries.create_index([("subscription_id", 1), ("created_at", -1)])


def new_delivery(outbox_doc: Doc, subscription: Doc, at: datetime) -> Doc:
    sid = subscription["subscription_id"]
    return {
        "_id": delivery_id(outbox_doc["event_id"], sid),
        "subscription_id": sid,
        "channel": subscription["channel"],
        "event_id": outbox_doc["event_id"],
        "event_type": outbox_doc["type"],
        "subject": outbox_doc["cloud_event"]["subject"],
        "cloud_event": outbox_doc["cloud_event"],
        "trace": outbox_doc.get("trace") or [None, None],
        "status": str(DS.PENDING),
        "attempts": 0,
        "next_at": at,
        "created_at": at,
        "last_status_code": None,
        "last_error": None,
        "latency_ms": None,
        "delivered_at": None,
    }


def claimed(doc: Doc, token: str, until: datetime) -> Doc:
    """A new delivery inserted already claimed by the worker that will make its first attempt (one write fewer)."""
    return {**doc, "status": str(DS.DELIVERING), "attempts": 1, "claim": token, "claimed_until": until}


async def unclaim_unattempted(db: AsyncDatabase, docs: list[Doc]) -> None:
    """Deliveries inserted claimed (:func:`claimed`) whose first attempt never started: pending again, for any
    worker now."""
    for token in {doc["claim"] for doc in docs}:
        ids = [doc["_id"] for doc in docs if doc["claim"] == token]
        await collection(db).update_many(
            {"_id": {"$in": ids}, "claim": token, "status": str(DS.DELIVERING)},
            {
                "$set": {"status": str(DS.PENDING), "attempts": 0, "next_at": now()},
                "$unset": {"claim": "", "claimed_until": ""},
            },
        )


async def insert_new(db: AsyncDatabase, docs: list[Doc]) -> list[Doc]:
    """Inserts the deliveries not there yet and returns them; the ones already there stay as they are."""
    if not docs:
        return []
    try:
        await collection(db).insert_many(docs, ordered=False)
        return docs
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != 11000 for e in errors):
            raise
        refused = {e["index"] for e in errors}
        return [doc for i, doc in enumerate(docs) if i not in refused]


def _pending(at: datetime) -> Doc:
    return {"status": str(DS.PENDING), "next_at": {"$lte": at}}


def _abandoned(at: datetime) -> Doc:
    # A worker that died mid-attempt: its claim ran out, the delivery goes again (same webhook-id).
    return {"status": str(DS.DELIVERING), "claimed_until": {"$lt": at}}


async def due_ids(db: AsyncDatabase, limit: int) -> tuple[list[str], list[str]]:
    """Due deliveries: (pending ones whose time has come, abandoned ones), ``limit`` in all."""
    at = now()
    pending = [d["_id"] async for d in collection(db).find(_pending(at), {"_id": 1}).sort("next_at", 1).limit(limit)]
    abandoned: list[str] = []
    if len(pending) < limit:
        cursor = collection(db).find(_abandoned(at), {"_id": 1}).limit(limit - len(pending))
        abandoned = [d["_id"] async for d in cursor]
    return pending, abandoned


async def claim(
    db: AsyncDatabase, pending: list[str], token: str, hold: float, abandoned: Sequence[str] = ()
) -> list[Doc]:
    """Takes the deliveries still due for this worker alone (atomically, per document), counting the
    attempt; returns those it got (another worker may have taken some). (Two updates rather than one
    with ``$or``: SecantusDB answers ``$in`` with ``$or`` by a scan.)"""
    at = now()
    update = {
        "$set": {"status": str(DS.DELIVERING), "claim": token, "claimed_until": at + timedelta(seconds=hold)},
        "$inc": {"attempts": 1},
    }
    ids = list(pending) + list(abandoned)
    if pending:
        await collection(db).update_many({"_id": {"$in": list(pending)}, **_pending(at)}, update)
    if abandoned:
        await collection(db).update_many({"_id": {"$in": list(abandoned)}, **_abandoned(at)}, update)
    if not ids:
        return []
    return await collection(db).find({"_id": {"$in": ids}, "claim": token}).to_list(None)


def _finish(doc: Doc, fields: Doc, inc: Doc | None = None) -> UpdateOne:
    """Records an attempt's end, if this worker still holds the claim."""
    unset = {name: "" for name in ("claim", "claimed_until", "held") if name not in fields}
    update: Doc = {"$set": fields, "$unset": unset}
    if inc:
        update["$inc"] = inc
    return UpdateOne({"_id": doc["_id"], "claim": doc["claim"]}, update)


def delivered(doc: Doc, code: int | None, latency_ms: float) -> UpdateOne:
    fields = {"status": str(DS.DELIVERED), "delivered_at": now(), "last_status_code": code, "latency_ms": latency_ms}
    return _finish(doc, {**fields, "last_error": None, "next_at": None})


def next_delay(attempts: int, schedule: tuple[float, ...], jitter: float, retry_after: float | None) -> float | None:
    """Seconds until the next attempt after ``attempts`` failed ones; None: the schedule ran out (park)."""
    if attempts > len(schedule):
        return None
    if retry_after is not None:
        return retry_after
    return schedule[attempts - 1] * random.uniform(1 - jitter, 1 + jitter)


def failed(doc: Doc, code: int | None, error: str, latency_ms: float, delay: float | None) -> UpdateOne:
    fields: Doc = {"last_status_code": code, "last_error": error[:500], "latency_ms": latency_ms}
    if delay is None:
        fields.update(status=str(DS.PARKED), next_at=None, parked_at=now())
    else:
        fields.update(status=str(DS.PENDING), next_at=now() + timedelta(seconds=delay))
    return _finish(doc, fields)


def cancelled(doc: Doc, code: int | None, why: str) -> UpdateOne:
    return _finish(doc, {"status": str(DS.CANCELLED), "last_status_code": code, "last_error": why, "next_at": None})


def held(doc: Doc, seconds: float) -> UpdateOne:
    """The subscription is paused or disabled: not an attempt; look again later (or at once when it is
    resumed: :func:`release_held`)."""
    fields = {"status": str(DS.PENDING), "next_at": now() + timedelta(seconds=seconds), "held": True}
    return _finish(doc, fields, inc={"attempts": -1})


async def release_held(db: AsyncDatabase, subscriptions: AsyncCollection) -> int:
    """Makes the held deliveries of subscriptions active again due now; returns how many."""
    selector = {"status": str(DS.PENDING), "held": True}
    held = {doc["subscription_id"] async for doc in collection(db).find(selector, {"subscription_id": 1})}
    if not held:
        return 0
    active = [doc["_id"] async for doc in subscriptions.find({"_id": {"$in": sorted(held)}, "status": "active"})]
    if not active:
        return 0
    result = await collection(db).update_many(
        {**selector, "subscription_id": {"$in": active}}, {"$set": {"next_at": now()}, "$unset": {"held": ""}}
    )
    return result.modified_count


async def retry_parked(db: AsyncDatabase, selector: Doc) -> int:
    result = await collection(db).update_many(
        {**selector, "status": str(DS.PARKED)},
        {"$set": {"status": str(DS.PENDING), "next_at": now(), "attempts": 0}, "$unset": {"parked_at": ""}},
    )
    return result.modified_count
