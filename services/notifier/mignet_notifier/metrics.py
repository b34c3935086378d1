"""The notifier's own metrics, on the service's ``/metrics`` beside the runtime's (docs/operations.md).

Attempts are counted as they end (an increment); the delivery log's figures per channel
and status need a round trip to MongoDB, so they are refreshed in the background every
``MIGNET_METRICS_REFRESH_MS``, like the runtime's projection gauges.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from mignet_contracts.notifier import Channel, DeliveryStatus
from mignet_notifier import deliveries as d
from mignet_runtime.metrics import LATENCY_BUCKETS
from mignet_runtime.outages import describe

log = logging.getLogger(__name__)

#: How an attempt ended: ``delivered`` (2xx, or the SMTP server accepted it), ``failed`` (another attempt is
#: scheduled), ``parked`` (failed, and the schedule ran out), ``gone`` (410: cancelled, subscription disabled),
#: ``cancelled`` (nothing sent: the subscription was deleted or its address erased), ``held`` (not an attempt:
#: the subscription is paused or disabled).
OUTCOMES = ("delivered", "failed", "parked", "gone", "cancelled", "held")
#: Seconds from an event to its delivery: from milliseconds to the retry schedule's hours.
DELAY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36000, 86400)
#: The delivery log's states a gauge reports (delivered and cancelled only grow: the counter has them).
LOG_STATES = (DeliveryStatus.PENDING, DeliveryStatus.DELIVERING, DeliveryStatus.PARKED)


class DeliveryMetrics:
    def __init__(self, service: str, registry: CollectorRegistry | None):
        # Without an admin port (MIGNET_ADMIN_PORT=0) they are counted on a registry nobody reads.
        r = registry if registry is not None else CollectorRegistry()
        self.service = service
        self.attempts = Counter(
            "mignet_delivery_attempts",
            "Delivery attempts by channel and outcome.",
            ["service", "channel", "outcome"],
            registry=r,
        )
        self.attempt_seconds = Histogram(
            "mignet_delivery_attempt_duration_seconds",
            "One attempt: the POST and its answer, or the SMTP conversation.",
            ["service", "channel"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.delay = Histogram(
            "mignet_delivery_delay_seconds",
            "From the event's ce-time to its delivery, retries included.",
            ["service", "channel"],
            buckets=DELAY_BUCKETS,
            registry=r,
        )
        self.log_size = Gauge(
            "mignet_deliveries",
            "Deliveries in the delivery log by channel and status (pending, delivering, parked).",
            ["service", "channel", "status"],
            registry=r,
        )
        # Every series exists from the start at zero: an alert comparing failed with delivered (alerts.yml) must
        # see a channel that has never delivered, and a rate needs the zero before the first increment.
        for channel in Channel:
            for outcome in OUTCOMES:
                self.attempts.labels(service, str(channel), outcome)
            for state in LOG_STATES:
                self.log_size.labels(service, str(channel), str(state))

    def ended(self, channel: str, outcome: str, latency_ms: float | None = None) -> None:
        self.attempts.labels(self.service, channel, outcome).inc()
        if latency_ms is not None:
            self.attempt_seconds.labels(self.service, channel).observe(latency_ms / 1000)

    def delivered(self, channel: str, event_time: str | None) -> None:
        if not event_time:
            return
        try:
            recorded = datetime.fromisoformat(event_time)
        except ValueError:
            return
        seconds = (datetime.now(UTC) - recorded).total_seconds()
        self.delay.labels(self.service, channel).observe(max(0.0, seconds))

    async def refresh(self, db: AsyncDatabase) -> None:
        deliveries = d.collection(db)
        for channel in Channel:
            for status in LOG_STATES:
                count = await deliveries.count_documents({"status": str(status), "channel": str(channel)})
                self.log_size.labels(self.service, str(channel), str(status)).set(count)

    async def refresh_until(self, db: AsyncDatabase, every: float, stop: asyncio.Event) -> None:
        """Refreshes the log's figures until ``stop`` (never cancelled midway through a database call)."""
        said = False
        while not stop.is_set():
            try:
                await self.refresh(db)
                said = False
            except PyMongoError as exc:
                if not said:
                    log.warning("metrics: cannot count the delivery log (%s); keeping the last values", describe(exc))
                said = True
            try:
                async with asyncio.timeout(every):
                    await stop.wait()
            except TimeoutError:
                pass
