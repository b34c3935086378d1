"""One trace from a command through its events to every projection of them, the reviews mirror included.

With the OpenTelemetry SDK's in-memory exporter (tracing on), and with tracing off, where
the caller's traceparent is only passed on to the events.
"""

from __future__ import annotations

import pytest
from conftest import RunningService, eventually
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from bench.collector import Collector
from mignet_contracts import registry as c
from mignet_contracts.envelope import new_id
from mignet_registry.app import SPEC as REGISTRY
from mignet_reviews.app import SPEC as REVIEWS
from mignet_runtime import tracing

ACTOR = "test:traces"
CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def create(country: str) -> c.CreateNetwork:
    return c.CreateNetwork(
        command_id=new_id(), actor=ACTOR, scope="national", country=country, network_name=f"Network {country}"
    )


@pytest.fixture
def provider():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.exporter = exporter  # type: ignore[attr-defined]
    tracing.configure(provider)
    yield provider
    tracing.configure(None)
    provider.shutdown()


def _sampled(traceparent: str) -> bool:
    return bool(int(traceparent[-2:], 16) & 1)


async def _headers(service: RunningService, subject: str) -> dict:
    msg = await service.runtime.store.js.get_last_msg("REGISTRY", subject)
    return dict(msg.headers or {})


async def test_a_command_its_events_its_projections_and_the_reviews_mirror_share_one_trace(
    fresh_nats, settings_for, provider
):
    exporter = provider.exporter
    async with (
        RunningService(REGISTRY, settings_for(fresh_nats)) as registry,
        RunningService(REVIEWS, settings_for(fresh_nats)),
    ):
        with provider.get_tracer("test").start_as_current_span("operator: create a network") as root:
            await registry.client.command(create("BD"))
        trace_id = root.get_span_context().trace_id

        def ours():
            return [s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id]

        await eventually(lambda: _async({s.name for s in ours()} >= {"project networks", "project registry-networks"}))
        spans = {s.name: s for s in ours()}
        server = spans["registry.commands.create-network"]
        assert server.kind == SpanKind.SERVER and server.parent.span_id == root.context.span_id
        for name in ("project networks", "project registry-networks"):
            span = spans[name]
            assert span.kind == SpanKind.CONSUMER
            assert span.parent.span_id == server.context.span_id, name  # child of the command that wrote the event
            assert span.attributes["mignet.event.type"].endswith("network.created.v1")
            assert span.attributes["mignet.aggregate.id"] == "nat-bd"
        headers = await _headers(registry, "registry.events.network.nat-bd.created")
        # version, trace id, the span that wrote it; then the flags (sampled, perhaps random).
        assert headers["ce-traceparent"].startswith(f"00-{trace_id:032x}-{server.context.span_id:016x}-")


async def _async(value):
    return value


async def test_the_trace_goes_on_through_the_notifier_to_the_webhook_request(fresh_nats, settings_for, provider):
    """registry command -> event -> reviews mirror and the notifier's outbox -> the webhook POST, one trace."""
    from notifier_support import Receiver, command, ids
    from notifier_support import spec as notifier_spec

    from mignet_contracts import notifier as n

    exporter = provider.exporter
    async with (
        Receiver() as receiver,
        RunningService(REGISTRY, settings_for(fresh_nats)) as registry,
        RunningService(REVIEWS, settings_for(fresh_nats)),
        RunningService(notifier_spec(), settings_for(fresh_nats)) as notifier,
    ):
        created = await command(
            notifier.client,
            n.CreateSubscription(
                **ids(), title="traced", channel="webhook", url=receiver.url(), event_types=[c.NetworkCreated.ce_type()]
            ),
        )
        sid = created["aggregate_id"]

        async def active():
            return (await notifier.client.query(n.GetSubscription(subscription_id=sid)))["status"] == "active"

        await eventually(active)
        with provider.get_tracer("test").start_as_current_span("operator: create a network") as root:
            await registry.client.command(create("BD"))
        trace_id = root.get_span_context().trace_id

        def ours():
            return [s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id]

        wanted = {"project registry-networks", "project registry", "deliver webhook"}
        await eventually(lambda: _async({s.name for s in ours()} >= wanted), timeout=20)
    spans = {s.name: s for s in ours()}
    server = spans["registry.commands.create-network"]
    assert server.parent.span_id == root.context.span_id
    for name in ("project registry-networks", "project registry"):  # the reviews mirror, the notifier's outbox
        assert spans[name].parent.span_id == server.context.span_id, name
    deliver = spans["deliver webhook"]
    assert deliver.kind == SpanKind.CLIENT and deliver.parent.span_id == server.context.span_id
    assert deliver.attributes["mignet.subscription.id"] == sid
    assert deliver.attributes["http.response.status_code"] == 204
    # The receiver got the trace context of the delivery: same trace, the delivery's span as parent.
    [request] = receiver.requests
    assert request.headers["traceparent"].startswith(f"00-{trace_id:032x}-{deliver.context.span_id:016x}-")
    assert request.headers["webhook-id"] == deliver.attributes["mignet.delivery.id"]


async def test_tracing_off_passes_the_callers_traceparent_on_to_the_events(fresh_nats, settings_for):
    assert not tracing.enabled()
    async with RunningService(REGISTRY, settings_for(fresh_nats)) as registry:
        nc = registry.nc
        for country, headers in (
            ("BD", {"traceparent": CALLER, "tracestate": "vendor=1"}),
            ("NP", {"traceparent": "not-a-traceparent"}),
            ("IN", {"traceparent": CALLER, "tracestate": "vendor=" + "x" * 600}),
            ("LK", {}),
        ):
            reply = await nc.request(
                "registry.commands.create-network", create(country).model_dump_json().encode(), 10, headers=headers
            )
            assert b'"ok":true' in reply.data
        bd = await _headers(registry, "registry.events.network.nat-bd.created")
        assert (bd["ce-traceparent"], bd["ce-tracestate"]) == (CALLER, "vendor=1")
        india = await _headers(registry, "registry.events.network.nat-in.created")
        assert india["ce-traceparent"] == CALLER and "ce-tracestate" not in india  # over 512 characters: dropped
        for country in ("np", "lk"):  # a malformed one is dropped, not written into the system of record
            headers = await _headers(registry, f"registry.events.network.nat-{country}.created")
            assert "ce-traceparent" not in headers


async def test_spans_are_exported_over_otlp_when_the_endpoint_is_set(fresh_nats, settings_for, monkeypatch):
    collector = Collector()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_always_on")  # every request, not the default 10%
    provider = tracing.configure_from_env("registry")
    try:
        assert provider is not None and tracing.enabled()
        async with RunningService(REGISTRY, settings_for(fresh_nats)) as registry:
            await registry.client.command(create("BD"))
            await eventually(lambda: registry.client.query(c.GetNetwork(network_id="nat-bd")))
        provider.force_flush()
    finally:
        tracing.configure(None)
        provider.shutdown()
        collector.close()
    assert {path for path, _, _ in collector.received} == {"/v1/traces"}
    assert {kind for _, kind, _ in collector.received} == {"application/x-protobuf"}
    assert {"registry.commands.create-network", "project networks"} <= collector.span_names()


def test_by_default_a_callers_sampled_trace_is_recorded_and_one_in_twenty_of_the_others(monkeypatch):
    collector = Collector()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    provider = tracing.configure_from_env("registry")
    try:
        assert provider is not None
        traced = 0
        for _ in range(4000):
            with tracing.serving("registry.commands.x", {}):  # no caller's trace context
                traceparent, _ = tracing.current()
                traced += traceparent is not None and _sampled(traceparent)
        # 5% of 4,000 is 200, binomial sd about 14: the bounds are over 4 sd away (and 10% fails them)
        assert 0.035 < traced / 4000 < 0.065
        sampled_caller = {"traceparent": CALLER}
        unsampled_caller = {"traceparent": CALLER[:-2] + "00"}
        for headers, recorded in ((sampled_caller, True), (unsampled_caller, False)):
            for _ in range(20):
                with tracing.serving("registry.commands.x", headers):
                    traceparent, _ = tracing.current()
                    assert traceparent is not None and _sampled(traceparent) is recorded
    finally:
        tracing.configure(None)
        provider.shutdown()
        collector.close()


def test_without_the_endpoint_tracing_stays_off(monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert tracing.configure_from_env("registry") is None and not tracing.enabled()


@pytest.mark.parametrize(
    ("sampler", "argument", "share"),
    [
        (None, None, 0.05),
        ("parentbased_always_on", None, 1.0),
        ("always_off", None, 0.0),
        ("parentbased_traceidratio", "0.25", 0.25),
        ("traceidratio", "lots", 1.0),
    ],
)
def test_the_share_of_traced_requests_follows_otel_traces_sampler(monkeypatch, sampler, argument, share):
    for name, value in (("OTEL_TRACES_SAMPLER", sampler), ("OTEL_TRACES_SAMPLER_ARG", argument)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert tracing.sampling_from_env() == share


async def test_tracing_off_the_webhook_request_carries_the_events_traceparent(fresh_nats, settings_for):
    from notifier_support import Receiver, command, ids
    from notifier_support import spec as notifier_spec

    from mignet_contracts import notifier as n

    assert not tracing.enabled()
    async with (
        Receiver() as receiver,
        RunningService(REGISTRY, settings_for(fresh_nats)) as registry,
        RunningService(notifier_spec(), settings_for(fresh_nats)) as notifier,
    ):
        created = await command(
            notifier.client,
            n.CreateSubscription(
                **ids(), title="t", channel="webhook", url=receiver.url(), event_types=[c.NetworkCreated.ce_type()]
            ),
        )
        sid = created["aggregate_id"]

        async def delivered():
            found = await notifier.client.query(n.ListDeliveries(subscription_id=sid, status="delivered"))
            return found["items"]

        async def active():
            return (await notifier.client.query(n.GetSubscription(subscription_id=sid)))["status"] == "active"

        await eventually(active)
        headers = {"traceparent": CALLER, "tracestate": "vendor=1"}
        await registry.nc.request(
            "registry.commands.create-network", create("BD").model_dump_json().encode(), 10, headers=headers
        )
        await eventually(delivered, timeout=15)
    [request] = receiver.requests
    assert (request.headers["traceparent"], request.headers["tracestate"]) == (CALLER, "vendor=1")
