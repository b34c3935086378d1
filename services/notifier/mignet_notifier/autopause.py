"""The auto-pause clock: a subscription failing without a single success for ``auto_pause_seconds`` is paused.

Since when each subscription has been failing lives in the ``failing`` collection (so the
clock survives restarts and is shared by the workers); a success stops it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from mignet_contracts import notifier as c
from mignet_notifier import deliveries as d


class FailureClock:
    def __init__(self, db: AsyncDatabase, seconds: float, send: Callable[[c.PauseSubscription], Awaitable[None]]):
        self.db = db
        self.seconds = seconds
        #: Sends the pause command (errors are the sender's to report).
        self.send = send
        #: Subscriptions with a failure since their last success (read once at start, then kept).
        self._failing: set[str] = set()

    async def load(self) -> None:
        self._failing = {doc["_id"] async for doc in self.db.failing.find({}, {"_id": 1})}

    async def succeeded(self, sid: str) -> None:
        if sid in self._failing:
            self._failing.discard(sid)
            await self.db.failing.delete_one({"_id": sid})

    async def failed(self, sid: str) -> None:
        """Starts the clock (or reads since when it runs), and pauses the subscription once it has run out."""
        if self.seconds <= 0:
            return
        self._failing.add(sid)
        at = d.now()
        await self.db.failing.update_one({"_id": sid}, {"$setOnInsert": {"since": at}}, upsert=True)
        since = (await self.db.failing.find_one({"_id": sid}) or {"since": at})["since"]
        if at - since < timedelta(seconds=self.seconds):
            return
        if await self._delivered_since(sid, since, at):
            return  # another replica's worker delivered meanwhile: its success did not stop this replica's clock
        await self.send(
            c.PauseSubscription(
                command_id=f"autopause-{sid}-{int(since.timestamp())}",
                actor="notifier",
                subscription_id=sid,
                automatic=True,
                reason=f"every delivery failed since {since.isoformat(timespec='seconds')}",
            )
        )

    async def _delivered_since(self, sid: str, since: datetime, at: datetime) -> bool:
        """Whether any worker delivered to the subscription since the clock started; then it restarts ``at``
        (this failure, the first one this replica sees after that success)."""
        success = {"subscription_id": sid, "status": str(c.DeliveryStatus.DELIVERED), "delivered_at": {"$gte": since}}
        if await d.collection(self.db).find_one(success, {"_id": 1}) is None:
            return False
        await self.db.failing.update_one({"_id": sid, "since": since}, {"$set": {"since": at}})
        return True
