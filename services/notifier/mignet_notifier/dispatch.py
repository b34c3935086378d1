"""The delivery worker: expands recorded events into deliveries, and makes each delivery's attempts.

Runs in every replica that serves requests (``ServiceSpec.background``); any
number may run at once, because expansion inserts deterministic ids and an
attempt needs an atomic claim (:mod:`.deliveries`).

Effectively once: an attempt is claimed (journaled) before the POST and its
outcome recorded (journaled, batched with the other outcomes of the moment)
after it, conditional on the claim. The one window left: a notifier that dies
(or is stopped) after the receiver took the POST and before the outcome was
recorded sends the delivery again once its claim runs out
(:meth:`Dispatcher._claim_seconds`), with the same ``webhook-id``, which the receiver
de-duplicates: at most ``UNRECORDED_PER_SLOT`` x ``concurrency`` deliveries (the
attempts under way and the ended ones whose outcome waits in the batch being
written). A worker frozen (SIGSTOP) longer than its claim can overlap with the
next one the same way.

The worker wakes when this process's projection runners write a batch (it polls
their checkpoints every ``outbox_poll_seconds`` only when another replica runs
them), and when an attempt ends or an outcome batch is written.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Any

from mignet_contracts.notifier import SubscriptionStatus
from mignet_notifier import deliveries as d
from mignet_notifier import expansion
from mignet_notifier.attempts import Attempts
from mignet_notifier.config import NotifierConfig
from mignet_notifier.metrics import DeliveryMetrics
from mignet_notifier.outcomes import OutcomeWriter
from mignet_notifier.projections import SUBSCRIPTIONS
from mignet_runtime.service import ServiceRuntime

log = logging.getLogger(__name__)
Doc = dict[str, Any]
#: How long a stopping worker lets the attempts under way finish.
STOP_GRACE_SECONDS = 2.0
#: Attempts under way or ended without a journaled outcome, per attempt slot, at most: outcomes are written in
#: batches (a journaled write per batch); a tighter bound stalls the slots on each write (2: about half the
#: deliveries/s in docs/benchmarks.md). It bounds the window a crash leaves (module docstring).
UNRECORDED_PER_SLOT = 8
#: How often the expansion cursors are written, at most (one journaled write; a crash expands again what
#: came after the last one, which inserts nothing new).
CURSOR_WRITE_SECONDS = 0.1


class Dispatcher:
    def __init__(self, runtime: ServiceRuntime, config: NotifierConfig, commands):
        self.runtime = runtime
        self.config = config
        self.wake = asyncio.Event()
        self.stopping = asyncio.Event()
        self.inflight: set[asyncio.Task] = set()
        self.outcomes = OutcomeWriter(runtime.db, on_recorded=self.wake.set)
        registry = runtime.metrics.registry if runtime.metrics is not None else None
        self.metrics = DeliveryMetrics(runtime.spec.name, registry)
        self.attempts = Attempts(runtime, config, commands, self.outcomes, self.metrics)
        self.expansion = expansion.Expansion(runtime)
        #: The subscriptions read model but the deleted ones, read again whenever its checkpoint moves.
        self._subscriptions: dict[str, Doc] = {}
        #: Deliveries this worker inserted already claimed (their first attempt is its own), in order.
        self._queue: list[Doc] = []
        #: How many it may hold so: enough to keep every slot busy between two expansions.
        self._queue_limit = 4 * config.concurrency
        self._token = uuid.uuid4().hex
        #: Attempts under way or ended without a journaled outcome, at most (see :meth:`start_due`).
        self.unrecorded_limit = UNRECORDED_PER_SLOT * config.concurrency
        self._more_due = False

    # -- attempts -----------------------------------------------------------------------
    def _claim_seconds(self) -> float:
        """How long a claim holds: the queue ahead of it at worst, then the attempt, then a margin."""
        rounds = self._queue_limit / self.config.concurrency + 1
        return rounds * (self.config.request_timeout + 1) + 10

    async def start_due(self, scan: bool) -> int:
        """Starts attempts: the deliveries this worker inserted claimed, then (with ``scan``) the due ones
        in the log, claimed first."""
        # At most ``concurrency`` attempts under way and, with the ended ones whose outcome is not journaled
        # yet (written in batches), UNRECORDED_PER_SLOT times that: the most a crash can make go twice.
        under_way = len(self.inflight)
        room = min(self.config.concurrency - under_way, self.unrecorded_limit - under_way - self.outcomes.unrecorded)
        if room <= 0:
            return 0
        claimed, self._queue = self._queue[:room], self._queue[room:]
        if (scan or self._more_due) and len(claimed) < room:
            wanted = room - len(claimed)
            pending, abandoned = await d.due_ids(self.runtime.db, wanted)
            # A full page: more may be due at once, so the next turn looks again without waiting.
            self._more_due = len(pending) + len(abandoned) >= wanted
            if pending or abandoned:
                hold = self._claim_seconds()
                claimed += await d.claim(self.runtime.db, pending, uuid.uuid4().hex, hold, abandoned)
        unknown = {doc["subscription_id"] for doc in claimed} - set(self._subscriptions)
        if unknown:
            # Deleted, or newer than this worker's view (another worker expanded for it): read them.
            found = self.runtime.db[SUBSCRIPTIONS.collection].find({"_id": {"$in": sorted(unknown)}})
            self._subscriptions.update({doc["_id"]: doc async for doc in found})
        for doc in claimed:
            task = asyncio.create_task(self.attempts.run(doc, self._subscriptions.get(doc["subscription_id"])))
            self.inflight.add(task)
            task.add_done_callback(self._done)
        return len(claimed)

    def _done(self, task: asyncio.Task) -> None:
        self.inflight.discard(task)
        self.wake.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery attempt failed unexpectedly", exc_info=task.exception())

    # -- the loop -----------------------------------------------------------------------
    def _listen(self) -> bool:
        """Has the projection runners of this process (when it holds the lease; fresh ones at every
        acquisition) wake the worker after each batch; whether they do, so the worker need not poll."""
        runners = self.runtime.runners if self.runtime.holds_lease else {}
        ours = [runners.get(name) for name in expansion.SOURCES]
        for runner in ours:
            if runner is not None and runner.on_batch is None:
                runner.on_batch = self.wake.set
        return all(runner is not None and runner.consuming for runner in ours)

    async def _step(self, state: dict) -> int:
        """One turn: expand what the projections added, start the attempts that are due."""
        busy = 0
        listening = self._listen()
        checkpoints = await expansion.checkpoints(self.runtime)
        if checkpoints.get(SUBSCRIPTIONS.name) != state.get("subscriptions"):
            # The subscriptions changed: read them again (the worker keeps them in memory between changes),
            # and what waited for one (perhaps resumed) goes now, not at the next look.
            collection = self.runtime.db[SUBSCRIPTIONS.collection]
            found = collection.find({"status": {"$ne": str(SubscriptionStatus.DELETED)}})
            self._subscriptions = {doc["_id"]: doc async for doc in found}
            if await d.release_held(self.runtime.db, collection):
                state["next_due_check"] = 0  # look at the log in this very turn
            state["subscriptions"] = checkpoints.get(SUBSCRIPTIONS.name)
        if checkpoints != state.get("checkpoints"):
            room = max(0, self._queue_limit - len(self._queue) - len(self.inflight))
            until = d.now() + timedelta(seconds=self._claim_seconds())
            active = [doc for doc in self._subscriptions.values() if doc["status"] == "active"]
            expanded = await self.expansion.expand(checkpoints, active, self._token, room, until, shared=not listening)
            self._queue += expanded.claimed
            if expanded.inserted:
                self.wake.set()
            if expanded.done:
                state["checkpoints"] = checkpoints  # all expanded up to here (or waiting for subscriptions)
            busy += expanded.events
        now = asyncio.get_running_loop().time()
        scan = now >= state.get("next_due_check", 0)
        if self.wake.is_set() or scan or (self._more_due and len(self.inflight) < self.config.concurrency):
            self.wake.clear()
            if scan:
                state["next_due_check"] = now + self.config.poll_seconds
            busy += await self.start_due(scan)
        if now >= state.get("next_cursor_write", 0):  # after the attempts started: off their path
            state["next_cursor_write"] = now + CURSOR_WRITE_SECONDS
            await self.expansion.flush()
        return busy

    async def run(self) -> None:
        await d.ensure_indexes(self.runtime.db)
        await self.attempts.load()
        state: dict = {}
        try:
            while not self.stopping.is_set():
                try:
                    busy = await self._step(state)
                except Exception:
                    log.exception("the delivery worker failed; going on in 1s")
                    await asyncio.sleep(1)
                    continue
                if busy:
                    continue
                # Woken by the runners in this process; polling their checkpoints only when they run elsewhere.
                idle = self.config.poll_seconds if self._listen() else self.config.outbox_poll_seconds
                try:
                    # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
                    async with asyncio.timeout(idle):
                        await self.wake.wait()
                except TimeoutError:
                    pass
        finally:
            if self.inflight:
                await asyncio.wait(self.inflight, timeout=STOP_GRACE_SECONDS)
            for task in self.inflight:
                task.cancel()  # its claim runs out and the delivery goes again, same webhook-id
            await self.outcomes.drain(STOP_GRACE_SECONDS)
            try:
                await self.expansion.flush()
            except Exception:
                log.warning("could not write the expansion cursors (they are expanded again at the start)")
            await self.attempts.close()

    async def serve(self) -> None:
        """Runs until cancelled, then stops between steps rather than cancelling a database call midway
        (PyMongo's async client was seen to hang when an operation was cancelled)."""
        task = asyncio.create_task(self.run(), name="notifier-dispatcher")
        tasks = {task}
        if self.runtime.metrics is not None:  # the delivery log's figures, for /metrics
            every = self.runtime.settings.metrics_refresh_ms / 1000
            tasks.add(asyncio.create_task(self.metrics.refresh_until(self.runtime.db, every, self.stopping)))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            self.stopping.set()
            self.wake.set()
            done, _ = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS + 1)
            for unfinished in tasks - done:
                unfinished.cancel()
            raise
        finally:
            self.stopping.set()
