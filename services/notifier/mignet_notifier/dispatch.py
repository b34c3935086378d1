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
de-duplicates. A worker frozen (SIGSTOP) longer than its claim can overlap with
the next one the same way.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import timedelta
from typing import Any

from pymongo import UpdateOne

from mignet_contracts import notifier as c
from mignet_notifier import deliveries as d
from mignet_notifier import signing
from mignet_notifier.config import NotifierConfig
from mignet_notifier.domain.matching import matches
from mignet_notifier.mail import MailSender
from mignet_notifier.projections import OUTBOXES, SUBSCRIPTIONS
from mignet_notifier.webhook import Outcome, WebhookSender
from mignet_runtime.errors import MignetError
from mignet_runtime.projection import CHECKPOINTS
from mignet_runtime.service import ServiceRuntime

log = logging.getLogger(__name__)
Doc = dict[str, Any]
#: Events expanded per outbox per pass.
EXPAND_BATCH = 500
#: How long a delivery of a paused or disabled subscription waits before it is looked at again.
HOLD_SECONDS = 5.0
#: How long a stopping worker lets the attempts under way finish.
STOP_GRACE_SECONDS = 2.0
#: Outcomes are written together, at most this long after the first of them.
FLUSH_SECONDS = 0.01


def _log_failed_write(done: asyncio.Future) -> None:
    if not done.cancelled() and done.exception() is not None:
        # The delivery stays claimed, and goes again (same webhook-id) when the claim runs out.
        log.warning("could not record a delivery outcome: %r", done.exception())


def body_of(delivery: Doc) -> bytes:
    return json.dumps(delivery["cloud_event"], separators=(",", ":"), ensure_ascii=False).encode()


class Dispatcher:
    def __init__(self, runtime: ServiceRuntime, config: NotifierConfig, commands):
        self.runtime = runtime
        self.config = config
        #: ``commands(command)``: sends a subscription command (disable on 410, automatic pause).
        self.commands = commands
        self.webhooks = WebhookSender(config)
        self.email = MailSender(config) if config.smtp_url else None
        self.wake = asyncio.Event()
        self.stopping = asyncio.Event()
        self.inflight: set[asyncio.Task] = set()
        self._pending_writes: list[tuple[UpdateOne, asyncio.Future]] = []
        self._flush_task: asyncio.Task | None = None
        self._subscriptions: dict[str, Doc] = {}
        #: Deliveries this worker inserted already claimed (their first attempt is its own), in order.
        self._queue: list[Doc] = []
        #: How many it may hold so: enough to keep every slot busy between two expansions.
        self._queue_limit = 4 * config.concurrency
        self._token = uuid.uuid4().hex
        self._more_due = False
        #: Subscriptions with a failure since their last success (the auto-pause clock runs).
        self._failing: set[str] = set()

    # -- expansion ----------------------------------------------------------------------
    async def expand(self) -> int:
        db = self.runtime.db
        # Every subscription created before these events were recorded must be in the read model first.
        last = await self.runtime.store.last_seq()
        checkpoint = await db[CHECKPOINTS].find_one({"_id": SUBSCRIPTIONS.name}) or {}
        if checkpoint.get("seq", 0) < last:
            return 0
        subscriptions: list[Doc] | None = None
        expanded = 0
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
            # As many as the queue takes are inserted claimed by this worker; the others pending, for any worker.
            room = max(0, self._queue_limit - len(self._queue) - len(self.inflight))
            until = at + timedelta(seconds=self._claim_seconds())
            new = [d.claimed(doc, self._token, until) for doc in new[:room]] + new[room:]
            inserted = await d.insert_new(db, new)
            if inserted:
                self._queue += [doc for doc in inserted if doc.get("claim") == self._token]
                self.wake.set()
            ids = [doc["_id"] for doc in docs]
            await db[outbox.collection].update_many({"_id": {"$in": ids}}, {"$set": {"expanded": True}})
            expanded += len(docs)
        return expanded

    # -- attempts -----------------------------------------------------------------------
    def _claim_seconds(self) -> float:
        """How long a claim holds: the queue ahead of it at worst, then the attempt, then a margin."""
        rounds = self._queue_limit / self.config.concurrency + 1
        return rounds * (self.config.request_timeout + 1) + 10

    async def start_due(self, scan: bool) -> int:
        """Starts attempts: the deliveries this worker inserted claimed, then (with ``scan``) the due ones
        in the log, claimed first."""
        room = self.config.concurrency - len(self.inflight)
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
        if claimed:
            self._subscriptions = {
                s["_id"]: s
                async for s in self.runtime.db[SUBSCRIPTIONS.collection].find(
                    {"_id": {"$in": list({doc["subscription_id"] for doc in claimed})}}
                )
            }
        for doc in claimed:
            task = asyncio.create_task(self.attempt(doc, self._subscriptions.get(doc["subscription_id"])))
            self.inflight.add(task)
            task.add_done_callback(self._done)
        return len(claimed)

    def _done(self, task: asyncio.Task) -> None:
        self.inflight.discard(task)
        self.wake.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery attempt failed unexpectedly", exc_info=task.exception())

    async def attempt(self, doc: Doc, subscription: Doc | None) -> None:
        status = subscription["status"] if subscription else "deleted"
        if subscription is None or status == "deleted":
            await self.write(d.cancelled(doc, None, "the subscription was deleted"))
            return
        if status != "active":
            await self.write(d.held(doc, HOLD_SECONDS))
            return
        if doc["channel"] == str(c.Channel.WEBHOOK):
            outcome = await self.post(doc, subscription)
        elif self.email is not None:
            outcome = await self.email.send(doc, subscription)
        else:
            outcome = Outcome(None, 0.0, error="no SMTP server is configured (MIGNET_NOTIFIER_SMTP_URL)")
        await self.record(doc, subscription, outcome)

    async def post(self, doc: Doc, subscription: Doc) -> Outcome:
        at = d.now()
        body = body_of(doc)
        secrets = signing.signing_secrets(self.config.secret_key, subscription, at)
        headers = signing.headers(secrets, doc["_id"], at, body)
        try:
            async with asyncio.timeout(self.config.request_timeout + 1):
                return await self.webhooks.post(subscription["url"], headers, body)
        except TimeoutError:
            return Outcome(None, self.config.request_timeout * 1000, error="no complete answer in time")

    async def record(self, doc: Doc, subscription: Doc, outcome: Outcome) -> None:
        sid = subscription["subscription_id"]
        if outcome.delivered:
            await self.write(d.delivered(doc, outcome.status_code, outcome.latency_ms))
            if sid in self._failing:
                self._failing.discard(sid)
                await self.runtime.db.failing.delete_one({"_id": sid})
            return
        if outcome.status_code == 410 and doc["channel"] == str(c.Channel.WEBHOOK):
            await self.write(d.cancelled(doc, 410, "the receiver answered 410 Gone: the subscription is disabled"))
            await self._command(
                c.DisableSubscription(
                    command_id=f"gone-{doc['_id']}",
                    actor="notifier",
                    subscription_id=sid,
                    reason=f"the receiver answered 410 Gone to delivery {doc['_id']}",
                )
            )
            return
        retry_after = None
        if outcome.retry_after is not None:
            retry_after = min(outcome.retry_after, self.config.max_retry_after)
        delay = d.next_delay(doc["attempts"], self.config.retry_schedule, self.config.jitter, retry_after)
        await self.write(d.failed(doc, outcome.status_code, outcome.error or "failed", outcome.latency_ms, delay))
        if delay is None:
            log.warning("delivery %s parked after %d attempts: %s", doc["_id"], doc["attempts"], outcome.error)
        await self._failing_for_long(sid)

    async def _failing_for_long(self, sid: str) -> None:
        """Pauses a subscription that has failed without a success for ``auto_pause_seconds``."""
        if self.config.auto_pause_seconds <= 0:
            return
        self._failing.add(sid)
        at = d.now()
        await self.runtime.db.failing.update_one({"_id": sid}, {"$setOnInsert": {"since": at}}, upsert=True)
        since = (await self.runtime.db.failing.find_one({"_id": sid}) or {"since": at})["since"]
        if at - since < timedelta(seconds=self.config.auto_pause_seconds):
            return
        await self._command(
            c.PauseSubscription(
                command_id=f"autopause-{sid}-{int(since.timestamp())}",
                actor="notifier",
                subscription_id=sid,
                automatic=True,
                reason=f"every delivery failed since {since.isoformat(timespec='seconds')}",
            )
        )

    async def _command(self, command) -> None:
        try:
            await self.commands(command)
        except MignetError as exc:
            log.info("%s %s: %s", command.name, getattr(command, "subscription_id", ""), exc.message)

    # -- outcomes, written together -------------------------------------------------------
    async def write(self, operation: UpdateOne) -> None:
        """Queues an outcome, journaled with the others of the moment; the attempt's slot is free meanwhile
        (the delivery stays claimed until it is written; a stop writes what is queued first)."""
        done = asyncio.get_running_loop().create_future()
        self._pending_writes.append((operation, done))
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.create_task(self._flush())
        done.add_done_callback(_log_failed_write)

    async def _flush(self) -> None:
        await asyncio.sleep(FLUSH_SECONDS)
        while self._pending_writes:
            batch, self._pending_writes = self._pending_writes, []
            try:
                await d.collection(self.runtime.db).bulk_write([op for op, _ in batch], ordered=False)
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    # -- the loop -----------------------------------------------------------------------
    async def _checkpoints(self) -> dict[str, int]:
        """Where the outbox and subscription projections are: a change means there may be events to expand."""
        names = [SUBSCRIPTIONS.name, *(o.name for o in OUTBOXES)]
        found = self.runtime.db[CHECKPOINTS].find({"_id": {"$in": names}}, {"seq": 1})
        return {doc["_id"]: doc.get("seq", 0) async for doc in found}

    async def _step(self, state: dict) -> int:
        """One turn: expand what the projections added, start the attempts that are due."""
        busy = 0
        checkpoints = await self._checkpoints()
        if checkpoints != state.get("checkpoints"):
            expanded = await self.expand()
            if not expanded:
                state["checkpoints"] = checkpoints  # all expanded up to here (or waiting for subscriptions)
            busy += expanded
        now = asyncio.get_running_loop().time()
        scan = now >= state.get("next_due_check", 0)
        if self.wake.is_set() or scan or (self._more_due and len(self.inflight) < self.config.concurrency):
            self.wake.clear()
            if scan:
                state["next_due_check"] = now + self.config.poll_seconds
            busy += await self.start_due(scan)
        return busy

    async def run(self) -> None:
        await d.ensure_indexes(self.runtime.db)
        self._failing = {doc["_id"] async for doc in self.runtime.db.failing.find({}, {"_id": 1})}
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
                try:
                    # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
                    async with asyncio.timeout(self.config.outbox_poll_seconds):
                        await self.wake.wait()
                except TimeoutError:
                    pass
        finally:
            if self.inflight:
                await asyncio.wait(self.inflight, timeout=STOP_GRACE_SECONDS)
            for task in self.inflight:
                task.cancel()  # its claim runs out and the delivery goes again, same webhook-id
            if self._flush_task is not None:
                await asyncio.wait({self._flush_task}, timeout=STOP_GRACE_SECONDS)
            await self.webhooks.close()

    async def serve(self) -> None:
        """Runs until cancelled, then stops between steps rather than cancelling a database call midway
        (PyMongo's async client was seen to hang when an operation was cancelled)."""
        task = asyncio.create_task(self.run(), name="notifier-dispatcher")
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            self.stopping.set()
            self.wake.set()
            done, _ = await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS + 1)
            if not done:
                task.cancel()
            raise
