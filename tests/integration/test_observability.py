"""Every service's admin HTTP port: /healthz, /readyz (which check failed) and /metrics, against real servers."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

from conftest import RunningService, eventually
from prometheus_client.parser import text_string_to_metric_families

from mignet_contracts import registry as c
from mignet_contracts.envelope import new_id
from mignet_registry.app import SPEC as REGISTRY
from mignet_reviews.app import SPEC as REVIEWS
from mignet_runtime.settings import Settings

ACTOR = "test:observability"


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


async def get(service: RunningService, path: str) -> tuple[int, bytes]:
    return await asyncio.to_thread(_get, service.admin_http + path)


async def ready(service: RunningService) -> tuple[int, dict]:
    status, body = await get(service, "/readyz")
    return status, json.loads(body)


async def samples(service: RunningService) -> dict[tuple[str, frozenset], float]:
    status, body = await get(service, "/metrics")
    assert status == 200
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(metrics: dict, name: str, **labels: str) -> float | None:
    return metrics.get((name, frozenset(labels.items())))


def create(country: str, command_id: str | None = None) -> c.CreateNetwork:
    return c.CreateNetwork(
        command_id=command_id or new_id(),
        actor=ACTOR,
        scope="national",
        country=country,
        network_name=f"UN Network on Migration in {country}",
    )


async def test_readyz_and_metrics_count_commands_by_outcome(fresh_nats, settings_for):
    settings = settings_for(fresh_nats, metrics_refresh_ms=200)
    async with RunningService(REGISTRY, settings) as registry:
        status, body = await get(registry, "/healthz")
        assert (status, json.loads(body)) == (200, {"service": "registry", "alive": True})
        status, report = await eventually(lambda: _ready(registry))
        assert report["service"] == "registry"
        assert set(report["checks"]) == {"started", "nats", "stream", "consumers", "mongodb"}
        assert "registry-networks" in report["checks"]["consumers"]["detail"]

        client = registry.client
        first = create("BD")
        await client.command(first)
        await client.command(first)  # the same command again: replayed, nothing written
        await client.command(create("NP"))
        refused = await client.request("registry.commands.create-network", json.dumps({"actor": ACTOR}).encode())
        assert refused.error is not None and refused.error.code == "validation_error"
        again = await client.request(
            "registry.commands.create-network", create("BD").model_dump_json().encode()
        )  # a second national network for Bangladesh
        assert again.error is not None and again.error.code == "rejected"
        await client.query(c.ListNetworks())

        key = {"service": "registry", "projection": "networks", "stream": "REGISTRY"}

        async def caught_up():
            # The gauges are refreshed every 200 ms: a sample from before the commands shows no lag either.
            m = await samples(registry)
            lag = value(m, "mignet_projection_lag_events", **key)
            applied = value(m, "mignet_projection_applied_seq", **key)
            return m if (lag, applied, value(m, "mignet_ready", service="registry")) == (0, 2, 1) else None

        m = await eventually(caught_up)
        counts = {
            outcome: value(m, "mignet_commands_total", service="registry", type="create-network", outcome=outcome)
            for outcome in ("accepted", "replayed", "validation_error", "rejected")
        }
        assert counts == {"accepted": 2, "replayed": 1, "validation_error": 1, "rejected": 1}
        latency = value(m, "mignet_command_duration_seconds_count", service="registry", type="create-network")
        assert latency == 5
        assert value(m, "mignet_queries_total", service="registry", type="list-networks", outcome="ok") == 1
        assert value(m, "mignet_appends_total", service="registry", outcome="ok") == 2
        assert value(m, "mignet_appended_events_total", service="registry") == 2
        assert value(m, "mignet_append_duration_seconds_count", service="registry") == 2
        assert value(m, "mignet_projection_parked_events", **key) == 0
        assert (
            value(m, "mignet_projection_lag_seconds", service="registry", projection="networks", stream="REGISTRY") == 0
        )
        hits = value(m, "mignet_aggregate_cache_hits_total", service="registry")
        misses = value(m, "mignet_aggregate_cache_misses_total", service="registry")
        assert hits is not None and misses is not None and hits >= 1 and misses >= 1
        # Admin requests are not counted as queries.
        assert not [k for k in m if k[0] == "mignet_queries_total" and ("type", "health") in k[1]]


async def _ready(service):
    status, report = await ready(service)
    return (status, report) if status == 200 and report["ready"] else None


async def test_admin_port_zero_turns_the_port_and_the_metrics_off(fresh_nats, settings_for):
    async with RunningService(REGISTRY, settings_for(fresh_nats, admin_port=0)) as registry:
        assert registry.runtime.metrics is None
        await registry.client.command(create("BD"))  # commands work without any instrumentation


def test_each_service_has_its_own_default_admin_port():
    settings = Settings()
    assert settings.admin_port_of("registry") != settings.admin_port_of("reviews")
    assert Settings(admin_port=0).admin_port_of("registry") == 0


async def test_readiness_follows_mongodb_and_lag_shows_while_it_is_down(spawn_servers, db_prefix):
    pair = spawn_servers()
    settings = pair.settings_for("registry", db_prefix=db_prefix, metrics_refresh_ms=200)
    async with RunningService(REGISTRY, settings) as registry:
        await eventually(lambda: _ready(registry), timeout=20)
        pair.mongo.stop()
        try:
            loop = asyncio.get_running_loop()
            stopped = loop.time()

            async def not_ready():
                status, report = await ready(registry)
                return report if status == 503 else None

            report = await eventually(not_ready, timeout=10, interval=0.2)
            assert loop.time() - stopped < 5, "readiness must turn false within seconds"
            assert report["ready"] is False
            assert report["checks"]["mongodb"]["ok"] is False
            assert "MongoDB did not answer" in report["checks"]["mongodb"]["detail"]
            assert report["checks"]["nats"]["ok"] and report["checks"]["stream"]["ok"]

            # Commands decide on the stream alone; the read model cannot follow: the lag shows it.
            for country in ("BD", "NP", "LK"):
                await registry.client.command(create(country))
            await asyncio.sleep(1.2)

            seen: list = []

            async def lagging():
                m = await samples(registry)
                key = {"service": "registry", "projection": "networks", "stream": "REGISTRY"}
                events = value(m, "mignet_projection_lag_events", **key)
                seconds = value(m, "mignet_projection_lag_seconds", **key)
                seen[:] = [events, seconds, value(m, "mignet_ready", service="registry")]
                ok = events == 3 and seconds is not None and seconds >= 1
                return ok and value(m, "mignet_ready", service="registry") == 0

            try:
                await eventually(lagging, timeout=15, interval=0.2)
            except AssertionError as exc:
                raise AssertionError(f"{exc}; last lag events, lag seconds, ready: {seen}") from None
        finally:
            pair.mongo.start()
        restarted = loop.time()
        await eventually(lambda: _ready(registry), timeout=30, interval=0.2)
        assert loop.time() - restarted < 15

        async def caught_up():
            m = await samples(registry)
            key = {"service": "registry", "projection": "networks", "stream": "REGISTRY"}
            return value(m, "mignet_projection_lag_events", **key) == 0

        await eventually(caught_up, timeout=30, interval=0.2)


async def test_reviews_reports_its_mirror_consumers_too(fresh_nats, settings_for):
    async with RunningService(REVIEWS, settings_for(fresh_nats, metrics_refresh_ms=200)) as reviews:
        _, report = await eventually(lambda: _ready(reviews))
        detail = report["checks"]["consumers"]["detail"]
        assert "reviews-registry-networks" in detail and "reviews-contributions" in detail

        async def mirror_gauges():
            m = await samples(reviews)
            return (
                value(
                    m,
                    "mignet_projection_lag_events",
                    service="reviews",
                    projection="registry-networks",
                    stream="REGISTRY",
                )
                == 0
            )

        await eventually(mirror_gauges)


async def test_a_parked_event_shows_in_the_gauge_and_in_status(fresh_nats, settings_for):
    from mignet_cli.status import collect
    from mignet_runtime.client import MignetClient

    settings = settings_for(fresh_nats, metrics_refresh_ms=200, projection_max_attempts=1)
    async with RunningService(REGISTRY, settings) as registry:
        # An event its projection cannot apply (its payload is not the contract's): parked at once.
        await registry.nc.jetstream().publish(
            "registry.events.network.nat-bd.created", b'{"not": "a network"}', headers={"ce-id": "broken-1"}
        )
        key = {"service": "registry", "projection": "networks", "stream": "REGISTRY"}

        async def parked():
            m = await samples(registry)
            return value(m, "mignet_projection_parked_events", **key) == 1

        await eventually(parked, timeout=20, interval=0.2)
        report = await collect(MignetClient(registry.nc), ["registry"])
        [networks] = [p for p in report["projections"] if p["projection"] == "networks"]
        assert networks["parked"] == 1 and networks["pending"] == 0  # parked, and the projection moved on


async def test_a_commands_replica_is_ready_without_running_projections(fresh_nats, settings_for):
    async with RunningService(REGISTRY, settings_for(fresh_nats, role="commands")) as replica:
        _, report = await eventually(lambda: _ready(replica))
        assert report["checks"]["consumers"] == {
            "ok": True,
            "detail": "none: this replica runs no projections (MIGNET_ROLE=commands)",
        }


async def test_a_standby_replica_is_ready_and_the_holder_alone_reports_projections(fresh_nats, settings_for):
    settings = settings_for(fresh_nats, metrics_refresh_ms=200)
    async with RunningService(REGISTRY, settings) as holder, RunningService(REGISTRY, settings) as standby:
        _, report = await eventually(lambda: _ready(standby))
        assert report["checks"]["consumers"]["detail"].startswith("none: standing by")
        _, report = await eventually(lambda: _ready(holder))
        assert "registry-networks" in report["checks"]["consumers"]["detail"]

        async def gauges(service):
            m = await samples(service)
            return {k for k in m if k[0] == "mignet_projection_lag_events"}

        await eventually(lambda: gauges(holder))
        assert not await gauges(standby)  # one writer, one report: the standby's would be stale
