"""Notifier queries, answered from the read models (subscriptions) and the delivery log."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from mignet_contracts import notifier as c
from mignet_notifier.deliveries import DELIVERIES
from mignet_notifier.domain import SUBSCRIPTION
from mignet_notifier.projections import SUBSCRIPTIONS
from mignet_runtime.commands import CommandExecutor
from mignet_runtime.errors import NotFound

Doc = dict[str, Any]
_HIDDEN = {"_id": 0, "_seq": 0, "_fence": 0}
_DELIVERY_FIELDS = {"cloud_event": 0, "claim": 0, "trace": 0}


async def list_subscriptions(db: AsyncDatabase, q: c.ListSubscriptions) -> dict:
    selector: Doc = {}
    if q.status:
        selector["status"] = str(q.status)
    else:
        selector["status"] = {"$ne": str(c.SubscriptionStatus.DELETED)}
    if q.channel:
        selector["channel"] = str(q.channel)
    collection = db[SUBSCRIPTIONS.collection]
    total = await collection.count_documents(selector)
    cursor = collection.find(selector, _HIDDEN).sort("created_at", 1).skip(q.offset).limit(q.limit)
    return {"total": total, "items": await cursor.to_list(None)}


async def subscriber_address(executor: CommandExecutor, subscription_id: str) -> str | None:
    """An e-mail subscription's address: personal data, kept only sealed in the event store and read
    through the aggregate (opened with the key ring); "(erased)" once erased."""
    return (await executor.load(SUBSCRIPTION, subscription_id)).state.email


async def get_subscription(db: AsyncDatabase, executor: CommandExecutor, q: c.GetSubscription) -> Doc:
    doc = await db[SUBSCRIPTIONS.collection].find_one({"_id": q.subscription_id}, _HIDDEN)
    if doc is None:
        raise NotFound(f"there is no subscription {q.subscription_id}", field="subscription_id")
    if doc["channel"] == str(c.Channel.EMAIL):
        doc["email"] = await subscriber_address(executor, q.subscription_id)
    doc["deliveries"] = {
        str(s): await db[DELIVERIES].count_documents({"subscription_id": q.subscription_id, "status": str(s)})
        for s in c.DeliveryStatus
    }
    return doc


def _delivery(doc: Doc) -> Doc:
    doc["delivery_id"] = doc.pop("_id")
    return doc


async def list_deliveries(db: AsyncDatabase, q: c.ListDeliveries) -> dict:
    selector: Doc = {}
    if q.subscription_id:
        selector["subscription_id"] = q.subscription_id
    if q.status:
        selector["status"] = str(q.status)
    total = await db[DELIVERIES].count_documents(selector)
    cursor = db[DELIVERIES].find(selector, _DELIVERY_FIELDS).sort("created_at", -1).skip(q.offset).limit(q.limit)
    return {"total": total, "items": [_delivery(doc) async for doc in cursor]}


async def delivery_figures(db: AsyncDatabase, q: c.DeliveryFigures) -> dict:
    figures: dict[str, dict[str, int]] = {}
    for channel in c.Channel:
        figures[str(channel)] = {
            str(s): await db[DELIVERIES].count_documents({"channel": str(channel), "status": str(s)})
            for s in c.DeliveryStatus
        }
    return {"by_channel": figures}
