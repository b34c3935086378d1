"""The delivery worker's view of the subscriptions: the read model but the deleted ones, kept in memory.

Read again whenever the subscriptions projection's checkpoint moves (:mod:`.dispatch`);
a delivery for a subscription the view does not hold (deleted, or newer than the view:
another worker expanded for it) has its subscription read when its attempt starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from mignet_contracts.notifier import SubscriptionStatus
from mignet_notifier.projections import SUBSCRIPTIONS

Doc = dict[str, Any]


class SubscriptionView:
    def __init__(self, db: AsyncDatabase):
        self.collection = db[SUBSCRIPTIONS.collection]
        self._docs: dict[str, Doc] = {}
        #: The subscriptions projection's checkpoint when the view was last read (it holds at least that much).
        self.seen: int | None = None

    async def reload(self, seen: int | None = None) -> None:
        """Reads every subscription but the deleted ones again; ``seen``: the projection's checkpoint before."""
        found = self.collection.find({"status": {"$ne": str(SubscriptionStatus.DELETED)}})
        docs = {doc["_id"]: doc async for doc in found}
        if seen is not None and self.seen is not None and seen < self.seen:
            return  # a read for a later checkpoint (the worker's turn, an outbox batch) finished first
        self._docs, self.seen = docs, seen

    async def include(self, subscription_ids: Iterable[str]) -> None:
        """Reads those of ``subscription_ids`` the view does not hold yet (a deleted one is read too)."""
        unknown = set(subscription_ids) - set(self._docs)
        if unknown:
            found = self.collection.find({"_id": {"$in": sorted(unknown)}})
            self._docs.update({doc["_id"]: doc async for doc in found})

    def get(self, subscription_id: str) -> Doc | None:
        return self._docs.get(subscription_id)

    def active(self) -> list[Doc]:
        return [doc for doc in self._docs.values() if doc["status"] == "active"]
