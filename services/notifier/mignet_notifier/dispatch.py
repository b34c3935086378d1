"""The delivery worker: expands recorded events into deliveries, and makes each delivery's attempts.

Runs in every replica that serves requests (``ServiceSpec.background``); any
number may run at once, because expansion inserts deterministic ids and an
attempt needs an atomic claim (:mod:`.deliveries`).

Effectively once: an attempt is claimed (journaled) before the POST and its
outcome recorded (journaled) after it, both conditional on the claim. The one
window left: a crash (or a stop) after the receiver took the POST and before
the outcome was recorded; the claim runs out (``request_timeout`` + 30 s) and
the delivery is sent again with the same ``webhook-id``, which the receiver
de-duplicates. A worker paused (SIGSTOP) longer than its claim can also
overlap with the next one: same remedy.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import timedelta
from typing import Any

from mignet_contracts import notifier as c
from mignet_notifier import deliveries as d
from mignet_notifier import signing
from mignet_notifier.config import NotifierConfig
from mignet_notifier.domain.matching import matches
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


def body_of(delivery: Doc) -> bytes:
    return json.dumps(delivery["cloud_event"], separators=(",", ":"), ensure_ascii=False).encode()


class Dispatcher:
    def __init__(self, runtime: ServiceRuntime, config: NotifierConfig, commands):
        self.runtime = runtime
        self.config = config
        #: ``commands(command)``: sends a subscription command (disable on 410, automatic pause).
        self.commands = commands
        self.webhooks = WebhookSender(config)
        self.email = None  # set by the app when an SMTP server is configured
        self.wake = asyncio.Event()
        self.stopping = asyncio.Event()
        self.inflight: set[asyncio.Task] = set()
        self.token = uuid.uuid4().hex

    # -- expansion ----------------------------------------------------------------------
    async def expand(self) -> int:
        db = self.runtime.db
        # Every subscription created before these events were recorded must be in the read model first.
        last = await self.runtime.store.last_seq()
        checkpoint = await db[CHECKPOINTS].find_one({"_id": SUBSCRIPTIONS.name}) or {}
        if checkpoint.get("seq", 0) < last:
            return 0
        subscriptions = await db[SUBSCRIPTIONS.collection].find({"status": "active"}).to_list(None)
        expanded = 0
        for outbox in OUTBOXES:
            docs = await (
                db[outbox.collection].find({"expanded": False}).sort("recorded_at", 1).limit(EXPAND_BATCH).to_list(None)
            )
            at = d.now()
            for doc in docs:
                targets = [
                    s
                    for s in subscriptions
                    if matches(s, doc["type"], doc["public"], doc.get("facets") or {}, doc["recorded_at"])
                ]
                if await d.insert_new(db, [d.new_delivery(doc, s, at) for s in targets]):
                    self.wake.set()
                await db[outbox.collection].update_one({"_id": doc["_id"]}, {"$set": {"expanded": True}})
                expanded += 1
        return expanded

    # -- attempts -----------------------------------------------------------------------
    async def start_due(self) -> int:
        room = self.config.concurrency - len(self.inflight)
        if room <= 0:
            return 0
        started = 0
        hold = self.config.request_timeout + 30
        for delivery_id in await d.due_ids(self.runtime.db, room):
            doc = await d.claim(self.runtime.db, delivery_id, self.token, hold)
            if doc is None:
                continue  # another worker took it
            task = asyncio.create_task(self.attempt(doc), name=f"delivery-{delivery_id}")
            self.inflight.add(task)
            task.add_done_callback(self._done)
            started += 1
        return started

    def _done(self, task: asyncio.Task) -> None:
        self.inflight.discard(task)
        self.wake.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery attempt failed unexpectedly", exc_info=task.exception())

    async def attempt(self, doc: Doc) -> None:
        db = self.runtime.db
        subscription = await db[SUBSCRIPTIONS.collection].find_one({"_id": doc["subscription_id"]})
        status = subscription["status"] if subscription else "deleted"
        if status == "deleted":
            await d.cancelled(db, doc, None, "the subscription was deleted")
            return
        if status != "active":
            await d.held(db, doc, HOLD_SECONDS)
            return
        assert subscription is not None
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
        db = self.runtime.db
        if outcome.delivered:
            await d.delivered(db, doc, outcome.status_code, outcome.latency_ms)
            await db.failing.delete_one({"_id": subscription["subscription_id"]})
            return
        if outcome.status_code == 410:
            await d.cancelled(db, doc, 410, "the receiver answered 410 Gone: the subscription is disabled")
            await self._command(
                c.DisableSubscription(
                    command_id=f"gone-{doc['_id']}",
                    actor="notifier",
                    subscription_id=subscription["subscription_id"],
                    reason=f"the receiver answered 410 Gone to delivery {doc['_id']}",
                )
            )
            return
        retry_after = None
        if outcome.retry_after is not None:
            retry_after = min(outcome.retry_after, self.config.max_retry_after)
        delay = d.next_delay(doc["attempts"], self.config.retry_schedule, self.config.jitter, retry_after)
        await d.failed(db, doc, outcome.status_code, outcome.error or "failed", outcome.latency_ms, delay)
        if delay is None:
            log.warning("delivery %s parked after %d attempts: %s", doc["_id"], doc["attempts"], outcome.error)
        await self._failing(subscription)

    async def _failing(self, subscription: Doc) -> None:
        """Pauses a subscription that has failed without a success for ``auto_pause_seconds``."""
        if self.config.auto_pause_seconds <= 0:
            return
        sid = subscription["subscription_id"]
        at = d.now()
        await self.runtime.db.failing.update_one({"_id": sid}, {"$setOnInsert": {"since": at}}, upsert=True)
        record = await self.runtime.db.failing.find_one({"_id": sid}) or {"since": at}
        since = record["since"]
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

    # -- the loop -----------------------------------------------------------------------
    async def run(self) -> None:
        await d.ensure_indexes(self.runtime.db)
        try:
            while not self.stopping.is_set():
                try:
                    busy = await self.expand()
                    busy += await self.start_due()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("the delivery worker failed; going on in 1s")
                    await asyncio.sleep(1)
                    continue
                if busy:
                    continue
                self.wake.clear()
                try:
                    # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
                    async with asyncio.timeout(self.config.poll_seconds):
                        await self.wake.wait()
                except TimeoutError:
                    pass
        finally:
            if self.inflight:
                await asyncio.wait(self.inflight, timeout=STOP_GRACE_SECONDS)
            for task in self.inflight:
                task.cancel()  # its claim runs out and the delivery goes again, same webhook-id
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
