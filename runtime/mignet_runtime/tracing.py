"""Traces: the W3C ``traceparent`` travels with every command and in every event (``ce-traceparent``).

**Off** (the default, no ``OTEL_EXPORTER_OTLP_ENDPOINT``): no span is made. A
request's ``traceparent`` (and ``tracestate``) header, when valid, is only
passed on to the events the command writes, so a traced consumer downstream
still continues the caller's trace. The cost is one header look-up per request.

**On** (``OTEL_EXPORTER_OTLP_ENDPOINT`` set; the standard ``OTEL_*`` variables
configure the exporter): OpenTelemetry's SDK exports over OTLP/HTTP. Each
request is a SERVER span, child of the caller's ``traceparent``; the events it
writes carry that span as their ``ce-traceparent``; each projection that
applies an event records a CONSUMER span, child of the event's, so a command,
its events, every projection of them (the reviews mirror too) and the clients'
calls share one trace. The CloudEvents distributed-tracing extension names the
headers (``ce-traceparent``, ``ce-tracestate``). Sampling: a caller's sampled
trace is always recorded and an unsampled one never (its traceparent is passed
on); of the requests without one, 5% start a recorded trace
(:data:`DEFAULT_SAMPLE_RATIO`), unless ``OTEL_TRACES_SAMPLER`` says otherwise.
A request not recorded costs what it costs with tracing off.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACEPARENT_RE = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
MAX_TRACESTATE = 512
_TRACESTATE_RE = re.compile(r"^[\x20-\x7e]{0,512}$")  # MAX_TRACESTATE characters of printable ASCII
#: Of the requests that come without a sampled traceparent, the share that start a recorded trace.
DEFAULT_SAMPLE_RATIO = 0.05

_tracer: Tracer | None = None
#: Of the requests without a caller's trace context, the share that start a recorded trace.
_root_ratio = 1.0
#: Not recorded: the caller's (traceparent, tracestate), passed on to the events a request writes.
_incoming: ContextVar[tuple[str, str | None] | None] = ContextVar("mignet_traceparent", default=None)

#: OTEL_TRACES_SAMPLER values decided here, before the SDK is asked (their root share).
_SAMPLERS = {"always_on": 1.0, "parentbased_always_on": 1.0, "always_off": 0.0, "parentbased_always_off": 0.0}
_RATIO_SAMPLERS = ("traceidratio", "parentbased_traceidratio")


def enabled() -> bool:
    return _tracer is not None


def configure(provider: Any | None, root_ratio: float = 1.0) -> None:
    """Traces on with this ``TracerProvider`` (the tests' in-memory exporter), or off with None.

    The sampling decision is made here, before the SDK is involved: a request whose caller sent a
    sampled ``traceparent`` is recorded, one whose caller sent an unsampled one is not (its
    traceparent is passed on), and of the others ``root_ratio`` start a recorded trace. The
    provider's own sampler then only sees requests to record. (The SDK costs about 10 us even
    for a request it does not record; deciding first makes those cost what tracing off does.)
    """
    global _tracer, _root_ratio
    _tracer = provider.get_tracer("mignet") if provider is not None else None
    _root_ratio = root_ratio


def sampling_from_env() -> float:
    """The share of root requests to trace, from OTEL_TRACES_SAMPLER (and _ARG); by default 10%."""
    name = os.environ.get("OTEL_TRACES_SAMPLER", "").strip().lower()
    if not name:
        return DEFAULT_SAMPLE_RATIO
    if name in _SAMPLERS:
        return _SAMPLERS[name]
    if name in _RATIO_SAMPLERS:
        try:
            return min(1.0, max(0.0, float(os.environ.get("OTEL_TRACES_SAMPLER_ARG", "1.0"))))
        except ValueError:
            return 1.0  # the SDK warns about the argument and uses 1.0 too
    return 1.0  # another sampler: every request goes to the SDK, whose sampler (from the environment) decides


def configure_from_env(service: str) -> Any | None:
    """On when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set: returns the provider (shut it down to flush)."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased

    # A caller's sampled trace is always recorded whole; of the requests that come without one,
    # DEFAULT_SAMPLE_RATIO start a trace. OTEL_TRACES_SAMPLER (and _ARG) choose otherwise, e.g.
    # parentbased_always_on for every request: each recorded span costs tens of microseconds.
    ratio = sampling_from_env()
    name = os.environ.get("OTEL_TRACES_SAMPLER", "").strip().lower()
    decided_here = not name or name in _SAMPLERS or name in _RATIO_SAMPLERS
    sampler = ParentBased(ALWAYS_ON) if decided_here else None  # None: the SDK's, from the environment
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES still win (Resource.create reads them).
    provider = TracerProvider(resource=Resource.create({"service.name": f"mignet-{service}"}), sampler=sampler)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    configure(provider, ratio)
    return provider


def _valid(headers: Mapping[str, str] | None) -> tuple[str, str | None] | None:
    if not headers:
        return None
    parent = headers.get("traceparent")
    if parent is None or not _TRACEPARENT_RE.match(parent) or parent.startswith("ff"):
        return None
    state = headers.get("tracestate")
    if state is not None and not _TRACESTATE_RE.match(state):
        state = None  # not W3C's printable ASCII, or too long: not written into the event store
    return parent, state


@contextlib.contextmanager
def serving(subject: str, headers: Mapping[str, str] | None) -> Iterator[None]:
    """Around the handling of one request."""
    incoming = _valid(headers)
    if _tracer is None or not _recorded(incoming):
        if incoming is None:
            yield
            return
        token = _incoming.set(incoming)
        try:
            yield
        finally:
            _incoming.reset(token)
        return
    context = _PROPAGATOR.extract(headers or {})
    with _tracer.start_as_current_span(
        subject,
        context=context,
        kind=SpanKind.SERVER,
        attributes={"messaging.system": "nats", "messaging.destination.name": subject},
    ):
        yield


def _recorded(incoming: tuple[str, str | None] | None) -> bool:
    if incoming is not None:
        return bool(int(incoming[0][-2:], 16) & 1)  # the caller's decision
    return _root_ratio >= 1.0 or (_root_ratio > 0.0 and random.random() < _root_ratio)


def current() -> tuple[str | None, str | None]:
    """The (traceparent, tracestate) to write on the events appended now."""
    passed_on = _incoming.get()
    if _tracer is None or passed_on is not None:
        return passed_on or (None, None)
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent"), carrier.get("tracestate")


def inject(headers: dict[str, str]) -> None:
    """A client's request headers: the current span's traceparent, when tracing is on."""
    if _tracer is not None:
        _PROPAGATOR.inject(headers)


def current_trace_id() -> str | None:
    """For log lines: the trace a line belongs to."""
    incoming = _incoming.get()
    if incoming is not None:
        return incoming[0][3:35]
    if _tracer is not None:
        span_context = trace.get_current_span().get_span_context()
        return format(span_context.trace_id, "032x") if span_context.is_valid else None
    return None


def projected(projection: str, consumer: str, events: Iterable[Any], started_ns: int) -> None:
    """One CONSUMER span per applied event that carries a traceparent, over the batch that applied it.

    ``events`` are :class:`~mignet_runtime.codec.RecordedEvent`. Called only when :func:`enabled`.
    """
    tracer = _tracer
    if tracer is None:
        return
    ended = time.time_ns()
    for event in events:
        # Only events of a recorded (sampled) trace: the command's sampling decision holds downstream.
        if not event.traceparent or not int(event.traceparent[-2:], 16) & 1:
            continue
        carrier = {"traceparent": event.traceparent}
        if event.tracestate:
            carrier["tracestate"] = event.tracestate
        span = tracer.start_span(
            f"project {projection}",
            context=_PROPAGATOR.extract(carrier),
            kind=SpanKind.CONSUMER,
            start_time=started_ns,
            attributes={
                "messaging.system": "nats",
                "messaging.consumer.group.name": consumer,
                "messaging.message.id": event.event_id,
                "mignet.event.type": event.type,
                "mignet.event.seq": event.seq,
                "mignet.aggregate.id": event.aggregate_id,
            },
        )
        span.end(end_time=ended)


@contextlib.contextmanager
def calling(
    name: str, traceparent: str | None, tracestate: str | None, attributes: Mapping[str, Any]
) -> Iterator[dict[str, str]]:
    """Around a call made for an event outside NATS (the notifier's webhook POST, its e-mail): a CLIENT
    span, child of the event's ``ce-traceparent`` when its trace is recorded; yields the headers that
    carry the call's trace context (``traceparent``, ``tracestate``) to the receiver.

    Off, or the event's trace not recorded: no span, and the event's own trace context is passed on.
    """
    given = {"traceparent": traceparent or ""}
    if tracestate:
        given["tracestate"] = tracestate
    incoming = _valid(given)  # as recorded by our event store; checked all the same
    carrier: dict[str, str] = {}
    if incoming is not None:
        traceparent = carrier["traceparent"] = incoming[0]
        if incoming[1]:
            carrier["tracestate"] = incoming[1]
    else:
        traceparent = None
    tracer = _tracer
    if tracer is None or not traceparent or not int(traceparent[-2:], 16) & 1:
        yield carrier
        return
    with tracer.start_as_current_span(
        name, context=_PROPAGATOR.extract(carrier), kind=SpanKind.CLIENT, attributes=attributes
    ):
        headers: dict[str, str] = {}
        _PROPAGATOR.inject(headers)
        yield headers


def annotate(attributes: Mapping[str, Any]) -> None:
    """Adds attributes to the current span (an outcome known at the end), when one is recorded."""
    if _tracer is not None:
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attributes(attributes)
