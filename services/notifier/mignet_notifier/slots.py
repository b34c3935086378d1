"""The delivery worker's attempt slots: which deliveries start an attempt now, and at most how many.

At most ``concurrency`` attempts are under way and, with the ended ones whose outcome
is not journaled yet (outcomes are written in batches, :mod:`.outcomes`), at most
``unrecorded_limit``: the most a crash can make go twice (:mod:`.dispatch`). First go
the deliveries the worker inserted already claimed (its queue), then, when asked to
scan, the due ones in the delivery log, claimed first (:mod:`.deliveries`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from mignet_notifier import deliveries as d
from mignet_notifier.attempts import Attempts
from mignet_notifier.config import NotifierConfig
from mignet_notifier.outcomes import OutcomeWriter
from mignet_notifier.subscription_view import SubscriptionView

log = logging.getLogger(__name__)
Doc = dict[str, Any]
#: How long a stopping worker lets the attempts under way finish.
STOP_GRACE_SECONDS = 2.0
#: Attempts under way or ended without a journaled outcome, per attempt slot, at most: outcomes are written in
#: batches (a journaled write per batch); a tighter bound stalls the slots on each write (2: about half the
#: deliveries/s in docs/benchmarks.md). It bounds the window a crash leaves (:mod:`.dispatch`): the attempts
#: under way and the ended ones whose outcome waits in the batch being written.
UNRECORDED_PER_SLOT = 8


class Slots:
    def __init__(
        self,
        db: AsyncDatabase,
        config: NotifierConfig,
        attempts: Attempts,
        outcomes: OutcomeWriter,
        subscriptions: SubscriptionView,
        wake: asyncio.Event,
        unrecorded_limit: int,
    ):
        self.db = db
        self.config = config
        self.attempts = attempts
        self.outcomes = outcomes
        self.subscriptions = subscriptions
        self.wake = wake
        self.inflight: set[asyncio.Task] = set()
        #: Deliveries this worker inserted already claimed (their first attempt is its own), in order.
        self.queue: list[Doc] = []
        #: How many it may hold so: enough to keep every slot busy between two expansions.
        self.queue_limit = 4 * config.concurrency
        #: Room held by expansions under way (:meth:`reserving`).
        self.reserved = 0
        #: Attempts under way or ended without a journaled outcome, at most.
        self.unrecorded_limit = unrecorded_limit
        self.more_due = False

    def claim_seconds(self) -> float:
        """How long a claim holds: the queue ahead of it at worst, then the attempt, then a margin."""
        rounds = self.queue_limit / self.config.concurrency + 1
        return rounds * (self.config.request_timeout + 1) + 10

    def room_to_queue(self) -> int:
        """How many more deliveries an expansion may insert claimed for this worker."""
        return max(0, self.queue_limit - len(self.queue) - len(self.inflight) - self.reserved)

    @contextlib.contextmanager
    def reserving(self) -> Iterator[int]:
        """The room to queue, held for one expansion until it has queued what it claimed: expansions run side
        by side (each outbox's as its runner writes, and the worker's turn), and each waits on its insert."""
        room = self.room_to_queue()
        self.reserved += room
        try:
            yield room
        finally:
            self.reserved -= room

    def free_and_more_due(self) -> bool:
        """A slot is free and the last scan of the log found a full page: look again without waiting."""
        return self.more_due and len(self.inflight) < self.config.concurrency

    async def start_due(self, scan: bool) -> int:
        """Starts attempts: the deliveries this worker inserted claimed, then (with ``scan``) the due ones
        in the log, claimed first."""
        under_way = len(self.inflight)
        room = min(self.config.concurrency - under_way, self.unrecorded_limit - under_way - self.outcomes.unrecorded)
        if room <= 0:
            return 0
        claimed, self.queue = self.queue[:room], self.queue[room:]
        if (scan or self.more_due) and len(claimed) < room:
            wanted = room - len(claimed)
            pending, abandoned = await d.due_ids(self.db, wanted)
            # A full page: more may be due at once, so the next turn looks again without waiting.
            self.more_due = len(pending) + len(abandoned) >= wanted
            if pending or abandoned:
                claimed += await d.claim(self.db, pending, uuid.uuid4().hex, self.claim_seconds(), abandoned)
        await self.subscriptions.include(doc["subscription_id"] for doc in claimed)
        for doc in claimed:
            task = asyncio.create_task(self.attempts.run(doc, self.subscriptions.get(doc["subscription_id"])))
            self.inflight.add(task)
            task.add_done_callback(self._done)
        return len(claimed)

    def _done(self, task: asyncio.Task) -> None:
        self.inflight.discard(task)
        self.wake.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery attempt failed unexpectedly", exc_info=task.exception())

    async def stop(self, grace: float) -> None:
        """Lets the attempts under way finish for ``grace`` seconds, then cancels the rest: their claims run
        out and those deliveries go again, with the same webhook-id."""
        if self.inflight:
            await asyncio.wait(self.inflight, timeout=grace)
        for task in self.inflight:
            task.cancel()
        queued, self.queue = self.queue, []
        if queued:
            # Never attempted: back to pending at once, for any worker, rather than held until the claim runs out.
            await d.unclaim_unattempted(self.db, queued)
