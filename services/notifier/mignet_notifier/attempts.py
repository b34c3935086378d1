"""One attempt of one delivery: by webhook or e-mail, and what its outcome does.

2xx (or an accepted e-mail) is delivered; 410 cancels the delivery and disables
the subscription; anything else waits for the next attempt of the schedule
(or ``Retry-After``), then parks; a subscription failing without a success for
``auto_pause_seconds`` is paused. Outcomes are recorded conditional on the
attempt's claim (:mod:`.deliveries`), batched (:mod:`.outcomes`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from mignet_contracts import notifier as c
from mignet_contracts.fields import ERASED, WITHHELD
from mignet_notifier import deliveries as d
from mignet_notifier import signing
from mignet_notifier.autopause import FailureClock
from mignet_notifier.config import NotifierConfig
from mignet_notifier.mail import MailSender
from mignet_notifier.metrics import DeliveryMetrics
from mignet_notifier.outcomes import OutcomeWriter
from mignet_notifier.queries import subscriber_address
from mignet_notifier.webhook import Outcome, WebhookSender
from mignet_runtime import tracing
from mignet_runtime.errors import MignetError
from mignet_runtime.service import ServiceRuntime

log = logging.getLogger(__name__)
Doc = dict[str, Any]
#: How long a delivery of a paused or disabled subscription waits before it is looked at again.
HOLD_SECONDS = 30.0


def body_of(delivery: Doc) -> bytes:
    return json.dumps(delivery["cloud_event"], separators=(",", ":"), ensure_ascii=False).encode()


class Attempts:
    def __init__(
        self,
        runtime: ServiceRuntime,
        config: NotifierConfig,
        commands,
        outcomes: OutcomeWriter,
        metrics: DeliveryMetrics,
    ):
        self.runtime = runtime
        self.metrics = metrics
        self.config = config
        #: ``commands(command)``: sends a subscription command (disable on 410, automatic pause).
        self.commands = commands
        self.outcomes = outcomes
        self.webhooks = WebhookSender(config)
        self.email = MailSender(config) if config.smtp_url else None
        self.clock = FailureClock(runtime.db, config.auto_pause_seconds, self._command)

    async def load(self) -> None:
        await self.clock.load()

    async def run(self, doc: Doc, subscription: Doc | None) -> None:
        status = subscription["status"] if subscription else "deleted"
        channel = doc["channel"]
        if subscription is None or status == "deleted":
            await self.write(d.cancelled(doc, None, "the subscription was deleted"))
            self.metrics.ended(channel, "cancelled")
            return
        if status != "active":
            await self.write(d.held(doc, HOLD_SECONDS))
            self.metrics.ended(channel, "held")
            return
        traceparent, tracestate = doc.get("trace") or (None, None)
        attributes = {
            "mignet.delivery.id": doc["_id"],
            "mignet.subscription.id": subscription["subscription_id"],
            "mignet.event.type": doc["event_type"],
            "mignet.delivery.attempt": doc["attempts"],
        }
        # A CLIENT span in the event's trace (when recorded); the webhook request carries it (traceparent).
        with tracing.calling(f"deliver {channel}", traceparent, tracestate, attributes) as trace_headers:
            outcome = await self.attempt(doc, subscription, trace_headers)
            if outcome is None:
                return
            tracing.annotate({"mignet.delivery.outcome": "delivered" if outcome.delivered else "failed"})
            if outcome.status_code is not None:
                tracing.annotate({"http.response.status_code": outcome.status_code})
        await self.record(doc, subscription, outcome)

    async def attempt(self, doc: Doc, subscription: Doc, trace_headers: dict[str, str]) -> Outcome | None:
        """One attempt by the delivery's channel; None when there was nothing to send (recorded here)."""
        if doc["channel"] == str(c.Channel.WEBHOOK):
            return await self.post(doc, subscription, trace_headers)
        if self.email is None:
            return Outcome(None, 0.0, error="no SMTP server is configured (MIGNET_NOTIFIER_SMTP_URL)")
        # The address is read from the sealed event (the read model has none); erased: nothing to send to.
        address = await subscriber_address(self.runtime.executor, subscription["subscription_id"])
        if not address or address in (ERASED, WITHHELD):
            if not subscription.get("personal_data_erased_on"):
                # No erasure recorded: the key is not readable yet (a replicated key bucket's follower may answer
                # before it has a key just created), so this is a failed attempt, retried, never a cancellation.
                return Outcome(None, 0.0, error="the subscriber's address could not be read yet (key store)")
            await self.write(d.cancelled(doc, None, "the subscriber's address was erased"))
            self.metrics.ended(doc["channel"], "cancelled")
            return None
        return await self.email.send(doc, subscription, address)

    async def post(self, doc: Doc, subscription: Doc, trace_headers: dict[str, str]) -> Outcome:
        at = d.now()
        body = body_of(doc)
        secrets = signing.signing_secrets(self.config.secret_key, subscription, at)
        headers = {**trace_headers, **signing.headers(secrets, doc["_id"], at, body)}
        try:
            async with asyncio.timeout(self.config.request_timeout + 1):
                return await self.webhooks.post(subscription["url"], headers, body)
        except TimeoutError:
            return Outcome(None, self.config.request_timeout * 1000, error="no complete answer in time")

    async def record(self, doc: Doc, subscription: Doc, outcome: Outcome) -> None:
        sid = subscription["subscription_id"]
        channel = doc["channel"]
        if outcome.delivered:
            await self.write(d.delivered(doc, outcome.status_code, outcome.latency_ms))
            self.metrics.ended(channel, "delivered", outcome.latency_ms)
            self.metrics.delivered(channel, doc["cloud_event"].get("time"))
            await self.clock.succeeded(sid)
            return
        if outcome.status_code == 410 and doc["channel"] == str(c.Channel.WEBHOOK):
            await self.write(d.cancelled(doc, 410, "the receiver answered 410 Gone: the subscription is disabled"))
            self.metrics.ended(channel, "gone", outcome.latency_ms)
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
        self.metrics.ended(channel, "failed" if delay is not None else "parked", outcome.latency_ms)
        if delay is None:
            log.warning("delivery %s parked after %d attempts: %s", doc["_id"], doc["attempts"], outcome.error)
        await self.clock.failed(sid)

    async def _command(self, command) -> None:
        try:
            await self.commands(command)
        except MignetError as exc:
            log.info("%s %s: %s", command.name, getattr(command, "subscription_id", ""), exc.message)

    async def write(self, operation) -> None:
        """Records an outcome without holding the attempt's slot (see :mod:`.outcomes`)."""
        self.outcomes.write(operation)

    async def close(self) -> None:
        await self.webhooks.close()
