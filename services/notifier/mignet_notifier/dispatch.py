"""The delivery worker: expands recorded events into deliveries, and makes each delivery's attempts.

Runs in every replica that serves requests (``ServiceSpec.background``); any
number may run at once, because expansion inserts deterministic ids and an
attempt needs an atomic claim (:mod:`.deliveries`).

Effectively once: an attempt is claimed (journaled) before the POST and its
outcome recorded (journaled, batched with the other outcomes of the moment)
after it, conditional on the claim. The one window left: a notifier that dies
(or is stopped) after the receiver took the POST and before the outcome was
recorded sends the delivery again once its claim runs out
(:meth:`.slots.Slots.claim_seconds`), with the same ``webhook-id``, which the
receiver de-duplicates: at most ``UNRECORDED_PER_SLOT`` x ``concurrency``
deliveries (:mod:`.slots`). A worker frozen (SIGSTOP) longer than its claim can
overlap with the next one the same way.

The worker wakes when this process's projection runners write a batch (it polls
their checkpoints every ``outbox_poll_seconds`` only when another replica runs
them), and when an attempt ends or an outcome batch is written. Each turn expands
what the projections added (:mod:`.expansion`, against :mod:`.subscription_view`)
and starts the attempts that are due (:mod:`.slots`, then :mod:`.attempts`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from functools import partial

from pymongo.errors import PyMongoError

from mignet_notifier import deliveries as d
from mignet_notifier import expansion
from mignet_notifier.attempts import Attempts
from mignet_notifier.config import NotifierConfig
from mignet_notifier.metrics import DeliveryMetrics
from mignet_notifier.outcomes import OutcomeWriter
from mignet_notifier.projections import OUTBOXES, SUBSCRIPTIONS
from mignet_notifier.slots import STOP_GRACE_SECONDS, UNRECORDED_PER_SLOT, Slots
from mignet_notifier.subscription_view import SubscriptionView
from mignet_runtime.outages import describe
from mignet_runtime.projection import Projection, Writing
from mignet_runtime.service import ServiceRuntime

log = logging.getLogger(__name__)
#: How often the expansion cursors are written, at most (one journaled write; a crash expands again what
#: came after the last one, which inserts nothing new).
CURSOR_WRITE_SECONDS = 0.1


class Dispatcher:
    def __init__(self, runtime: ServiceRuntime, config: NotifierConfig, commands):
        self.runtime = runtime
        self.config = config
        self.wake = asyncio.Event()
        self.stopping = asyncio.Event()
        self.outcomes = OutcomeWriter(runtime.db, on_recorded=self.wake.set)
        registry = runtime.metrics.registry if runtime.metrics is not None else None
        self.metrics = DeliveryMetrics(runtime.spec.name, registry)
        self.attempts = Attempts(runtime, config, commands, self.outcomes, self.metrics)
        self.expansion = expansion.Expansion(runtime)
        self.subscriptions = SubscriptionView(runtime.db)
        unrecorded_limit = UNRECORDED_PER_SLOT * config.concurrency
        self.slots = Slots(
            runtime.db, config, self.attempts, self.outcomes, self.subscriptions, self.wake, unrecorded_limit
        )
        self._token = uuid.uuid4().hex

    def _listen(self) -> bool:
        """Has the projection runners of this process (when it holds the lease; fresh ones at every
        acquisition) wake the worker after each batch; whether they do, so the worker need not poll."""
        runners = self.runtime.runners if self.runtime.holds_lease else {}
        ours = [runners.get(name) for name in expansion.SOURCES]
        for runner in ours:
            if runner is not None and runner.on_batch is None:
                runner.on_batch = self.wake.set
                if runner.projection in OUTBOXES:
                    runner.on_writing = partial(self._expand_writing, runner.projection)
        return all(runner is not None and runner.consuming for runner in ours)

    async def _expand_writing(self, outbox: Projection, batch: Writing) -> None:
        """An outbox batch as its runner writes it: expanded at once when the worker's view of the subscriptions
        is current and holds every subscription created before these events; else the worker's turn does it."""
        subscriptions = self.runtime.runners.get(SUBSCRIPTIONS.name) if self.runtime.holds_lease else None
        if self.stopping.is_set() or subscriptions is None or not subscriptions.consuming:
            return
        seen = subscriptions.applied_seq
        if seen < await self.runtime.store.last_seq():
            return  # a subscription may be recorded and not applied yet: the worker's turn waits for it
        with self.slots.reserving() as room:
            until = d.now() + timedelta(seconds=self.slots.claim_seconds())
            try:
                if self.subscriptions.seen != seen:
                    await self.subscriptions.reload(seen)  # the turn to come releases what a resumed one held
                active = self.subscriptions.active()
                expanded = await self.expansion.expand_writing(outbox, batch, active, self._token, room, until)
            except PyMongoError as exc:
                log.warning(
                    "could not expand %s #%d-%d as written (%s); the worker reads them back",
                    outbox.name,
                    batch.after + 1,
                    batch.last,
                    describe(exc),
                )
                return
            if expanded is None:
                return
            if self.stopping.is_set():  # the worker stopped meanwhile: its queue is handed back already
                await d.unclaim_unattempted(self.runtime.db, expanded.claimed)
                return
            self.slots.queue += expanded.claimed
        if expanded.inserted:
            self.wake.set()

    async def _step(self, state: dict) -> int:
        """One turn: expand what the projections added, start the attempts that are due."""
        busy = 0
        # Taken and cleared first: a batch written while this turn waits on the database sets it again, and the
        # loop turns once more instead of sleeping a poll interval on a cleared wake-up.
        woken = self.wake.is_set()
        self.wake.clear()
        listening = self._listen()
        checkpoints = await expansion.checkpoints(self.runtime)
        if checkpoints.get(SUBSCRIPTIONS.name) != state.get("subscriptions"):
            # The subscriptions changed: read them again (the worker keeps them in memory between changes),
            # and what waited for one (perhaps resumed) goes now, not at the next look.
            await self.subscriptions.reload(checkpoints.get(SUBSCRIPTIONS.name))
            if await d.release_held(self.runtime.db, self.subscriptions.collection):
                state["next_due_check"] = 0  # look at the log in this very turn
            state["subscriptions"] = checkpoints.get(SUBSCRIPTIONS.name)
        if checkpoints != state.get("checkpoints"):
            with self.slots.reserving() as room:
                until = d.now() + timedelta(seconds=self.slots.claim_seconds())
                active = self.subscriptions.active()
                expanded = await self.expansion.expand(
                    checkpoints, active, self._token, room, until, shared=not listening
                )
                self.slots.queue += expanded.claimed
            woken |= expanded.inserted
            if expanded.done:
                state["checkpoints"] = checkpoints  # all expanded up to here (or waiting for subscriptions)
            busy += expanded.events
        now = asyncio.get_running_loop().time()
        scan = now >= state.get("next_due_check", 0)
        if woken or scan or self.slots.free_and_more_due():
            if scan:
                state["next_due_check"] = now + self.config.poll_seconds
            busy += await self.slots.start_due(scan)
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
            await self.slots.stop(STOP_GRACE_SECONDS)
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
            # run()'s own stop: the attempts under way, then the queued outcomes, each up to the grace.
            done, _ = await asyncio.wait(tasks, timeout=2 * STOP_GRACE_SECONDS + 1)
            for unfinished in tasks - done:
                unfinished.cancel()
            raise
        finally:
            self.stopping.set()
