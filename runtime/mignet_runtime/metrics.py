"""Prometheus metrics of one service (prometheus-client), served on ``/metrics`` of its admin port.

Each :class:`ServiceRuntime` has its own :class:`ServiceMetrics` and its own
registry (several services may share a process in tests). The hot path pays
for a dictionary look-up and a counter increment per request and per append;
everything that needs a round trip (projection lag, parked events,
redeliveries, readiness) is refreshed by :func:`refresh_forever` in the
background, and the aggregate cache's counters are read only when scraped.
docs/operations.md explains every metric.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import nats.errors
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from pymongo.errors import PyMongoError

from mignet_runtime.outages import describe
from mignet_runtime.projection_status import projection_rows
from mignet_runtime.readiness import readiness

if TYPE_CHECKING:
    from mignet_runtime.service import ServiceRuntime

log = logging.getLogger(__name__)

# No ``*_created`` series: nothing here uses them, and they would double what every scrape carries.
disable_created_metrics()

#: What a command's reply said; ``accepted`` and ``replayed`` are successes.
COMMAND_OUTCOMES = (
    "accepted",
    "replayed",
    "rejected",
    "not_found",
    "conflict",
    "validation_error",
    "unavailable",
    "internal",
)
QUERY_OUTCOMES = ("ok", *COMMAND_OUTCOMES[2:])
#: Seconds, from a cached command (about a millisecond) to a client's patience.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def reply_outcome(reply: bytes, command: bool) -> str:
    """The outcome a reply says, read from its bytes (they start ``{"ok":...``) without parsing them."""
    if reply.startswith(b'{"ok":true'):
        if command:
            return "replayed" if b'"replayed":true' in reply else "accepted"
        return "ok"
    start = reply.find(b'"code":"')
    if start < 0:
        return "internal"
    start += 8
    code = reply[start : reply.find(b'"', start)].decode("ascii", "replace")
    return code if code in COMMAND_OUTCOMES else "internal"


class _Kind:
    """Per endpoint subject: which family it counts in and its label children (made once)."""

    __slots__ = ("children", "command", "counter", "latency", "service", "type")

    def __init__(self, counter: Counter, latency: Histogram, service: str, type_: str, command: bool):
        self.counter = counter
        self.service = service
        self.type = type_
        self.command = command
        self.latency = latency.labels(service, type_)
        self.children: dict[str, Counter] = {}

    def count(self, outcome: str) -> None:
        child = self.children.get(outcome)
        if child is None:
            child = self.children[outcome] = self.counter.labels(self.service, self.type, outcome)
        child.inc()


class ServiceMetrics:
    def __init__(self, service: str):
        self.service = service
        self.registry = r = CollectorRegistry()
        labels = ["service", "type", "outcome"]
        self.commands = Counter("mignet_commands", "Commands answered, by type and outcome.", labels, registry=r)
        self.command_seconds = Histogram(
            "mignet_command_duration_seconds",
            "Time from a command's start to its reply, by type.",
            ["service", "type"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queries = Counter("mignet_queries", "Queries answered, by type and outcome.", labels, registry=r)
        self.query_seconds = Histogram(
            "mignet_query_duration_seconds",
            "Time from a query's start to its reply, by type.",
            ["service", "type"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.appends = Counter(
            "mignet_appends", "Appends to the event store, by outcome.", ["service", "outcome"], registry=r
        )
        self.appended_events = Counter("mignet_appended_events", "Events appended.", ["service"], registry=r)
        self.append_seconds = Histogram(
            "mignet_append_duration_seconds",
            "Time of one append (publish and acknowledgement), successful or not.",
            ["service"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        ).labels(service)
        projection = ["service", "projection", "stream"]
        self.lag_events = Gauge(
            "mignet_projection_lag_events",
            "Events on the projection's subjects not applied yet.",
            projection,
            registry=r,
        )
        self.lag_seconds = Gauge(
            "mignet_projection_lag_seconds",
            "Age of the oldest event not applied yet (ce-time to now); 0 when caught up.",
            projection,
            registry=r,
        )
        self.applied_seq = Gauge(
            "mignet_projection_applied_seq",
            "Stream sequence up to which the read model is written.",
            projection,
            registry=r,
        )
        self.parked = Gauge("mignet_projection_parked_events", "Events parked in _parked.", projection, registry=r)
        self.redelivered = Gauge(
            "mignet_consumer_redelivered_messages",
            "Messages the projection's consumer has delivered more than once and not acknowledged yet.",
            ["service", "consumer", "stream"],
            registry=r,
        )
        self.ready = Gauge(
            "mignet_ready", "1 when every readiness check passes (see /readyz).", ["service"], registry=r
        )
        self.check = Gauge(
            "mignet_readiness_check", "1 when this readiness check passes.", ["service", "check"], registry=r
        )
        self._kinds: dict[str, _Kind | None] = {}
        self._append_outcomes = {o: self.appends.labels(service, o) for o in ("ok", "wrong_version", "duplicate")}
        self._append_error = self.appends.labels(service, "error")
        self._appended_events = self.appended_events.labels(service)

    # -- the hot path -----------------------------------------------------------------
    def observe_reply(self, subject: str, reply: bytes, seconds: float | None) -> None:
        """One reply of an endpoint; ``seconds`` is None for a request refused before it started."""
        try:
            kind = self._kinds[subject]
        except KeyError:
            kind = self._kinds[subject] = self._kind(subject)
        if kind is None:
            return  # admin requests are not counted
        kind.count(reply_outcome(reply, kind.command))
        if seconds is not None:
            kind.latency.observe(seconds)

    def _kind(self, subject: str) -> _Kind | None:
        # <service>.commands.<name> | <service>.queries.<name> | <service>.admin.<name>
        _, _, rest = subject.partition(".")
        group, _, name = rest.partition(".")
        if group == "commands":
            return _Kind(self.commands, self.command_seconds, self.service, name, command=True)
        if group == "queries":
            return _Kind(self.queries, self.query_seconds, self.service, name, command=False)
        return None

    def observe_append(self, outcome: str, events: int, seconds: float) -> None:
        self._append_outcomes.get(outcome, self._append_error).inc()
        if outcome == "ok":
            self._appended_events.inc(events)
        self.append_seconds.observe(seconds)

    # -- refreshed in the background --------------------------------------------------
    async def refresh(self, runtime: ServiceRuntime) -> None:
        report = await readiness(runtime)
        self.ready.labels(self.service).set(1 if report["ready"] else 0)
        for name, check in report["checks"].items():
            self.check.labels(self.service, name).set(1 if check["ok"] else 0)
        rows = await projection_rows(runtime) if runtime.holds_lease else []
        # A replica that lost the lease reports no projection any more (the holder does).
        for gauge in (self.lag_events, self.lag_seconds, self.applied_seq, self.parked, self.redelivered):
            gauge.clear()
        for row in rows:
            key = (self.service, row["projection"], row["stream"])
            if row["applied_seq"] is not None:
                self.applied_seq.labels(*key).set(row["applied_seq"])
                self.parked.labels(*key).set(row["parked"])
            if row["pending"] is not None:
                self.lag_events.labels(*key).set(row["pending"])
                if row["lag_seconds"] is not None:
                    self.lag_seconds.labels(*key).set(row["lag_seconds"])
                self.redelivered.labels(self.service, row["consumer"], row["stream"]).set(row["redelivered"])


class CacheCollector(Collector):
    """The aggregate cache's hits and misses, read when scraped (the cache counts them in plain ints)."""

    def __init__(self, runtime: ServiceRuntime):
        self.runtime = runtime

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        service = self.runtime.spec.name
        hits = CounterMetricFamily(
            "mignet_aggregate_cache_hits", "Aggregate loads found in the cache.", labels=["service"]
        )
        misses = CounterMetricFamily(
            "mignet_aggregate_cache_misses", "Aggregate loads not in the cache.", labels=["service"]
        )
        size = GaugeMetricFamily("mignet_aggregate_cache_size", "Aggregates kept folded in memory.", labels=["service"])
        executor = self.runtime.executor_or_none
        if executor is not None:
            cache = executor.cache
            hits.add_metric([service], cache.hits)
            misses.add_metric([service], cache.misses)
            size.add_metric([service], len(cache))
        yield from (hits, misses, size)


async def refresh_forever(runtime: ServiceRuntime, metrics: ServiceMetrics, every: float) -> None:
    """Keeps the gauges that need a round trip fresh; a failure costs one refresh, said once per kind."""
    said: set[str] = set()
    while True:
        started = time.monotonic()
        try:
            await metrics.refresh(runtime)
            said.clear()
        except (nats.errors.Error, PyMongoError, TimeoutError) as exc:
            key = type(exc).__name__
            if key not in said:
                said.add(key)
                log.warning(
                    "metrics: cannot refresh the projection gauges (%s); keeping the last values", describe(exc)
                )
        await asyncio.sleep(max(0.1, every - (time.monotonic() - started)))
