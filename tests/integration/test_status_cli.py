"""`mignet status` as an operator: readiness, streams, projection lag and consumers, from admin requests and JetStream."""

from __future__ import annotations

import asyncio
import json

from conftest import RunningService, eventually
from notifier_support import spec as notifier_spec
from typer.testing import CliRunner

from mignet_cli.main import app
from mignet_contracts import registry as c
from mignet_contracts.envelope import new_id
from mignet_registry.app import SPEC as REGISTRY
from mignet_reviews.app import SPEC as REVIEWS


async def mignet(url: str, *args: str):
    env = {"NATS_USER": "", "COLUMNS": "200"}
    return await asyncio.to_thread(CliRunner().invoke, app, [*args, "--nats-url", url], env=env)


async def test_status_shows_every_service_ready_and_its_projections_caught_up(fresh_nats, settings_for):
    operator = fresh_nats.url_for("operator")  # read-only on JetStream: status needs no more
    async with (
        RunningService(REGISTRY, settings_for(fresh_nats)) as registry,
        RunningService(REVIEWS, settings_for(fresh_nats)),
        RunningService(notifier_spec(), settings_for(fresh_nats)),
    ):
        await registry.client.command(
            c.CreateNetwork(
                command_id=new_id(), actor="test:status", scope="national", country="BD", network_name="Bangladesh"
            )
        )

        async def caught_up():
            result = await mignet(operator, "status", "--json")
            report = json.loads(result.stdout)
            lagging = [p for p in report["projections"] if p["pending"] != 0]
            return (result, report) if result.exit_code == 0 and not lagging else None

        result, report = await eventually(caught_up, timeout=20, interval=0.3)
        assert report["ready"] is True
        assert [s["service"] for s in report["services"]] == ["registry", "reviews", "notifier"]
        streams = {s["stream"]: s for s in report["streams"]}
        assert streams["REGISTRY"]["last_seq"] == 1 and streams["REGISTRY"]["messages"] == 1
        projections = {(p["service"], p["projection"]): p for p in report["projections"]}
        assert set(projections) == {
            ("registry", "networks"),
            ("registry", "champions"),
            ("registry", "working-groups"),
            ("registry", "support-requests"),
            ("reviews", "reviews"),
            ("reviews", "contributions"),
            ("reviews", "registry-networks"),
            ("reviews", "registry-champions"),
            ("reviews", "registry-directory-networks"),
            ("reviews", "registry-directory-champions"),
            ("reviews", "registry-working-groups"),
            ("notifier", "subscriptions"),
            ("notifier", "registry"),
            ("notifier", "reviews"),
        }
        mirror = projections[("reviews", "registry-networks")]
        assert (mirror["applied_seq"], mirror["lag_seconds"], mirror["parked"]) == (1, 0.0, 0)
        consumers = {(x["stream"], x["consumer"]) for x in report["consumers"]}
        assert ("REGISTRY", "reviews-registry-networks") in consumers and ("REVIEWS", "reviews-reviews") in consumers
        assert ("REVIEWS", "notifier-reviews") in consumers and streams["NOTIFIER"]["problem"] is None

        table = await mignet(operator, "status")
        assert table.exit_code == 0, table.output
        for heading in ("Services", "Streams", "Projections", "Consumers", "registry-networks", "ready"):
            assert heading in table.stdout


async def test_status_exits_3_and_says_which_service_is_not_ready(fresh_nats, settings_for):
    operator = fresh_nats.url_for("operator")
    async with RunningService(REGISTRY, settings_for(fresh_nats)):

        async def registry_ready():
            result = await mignet(operator, "status", "--json")
            by_name = {s["service"]: s for s in json.loads(result.stdout)["services"]}
            return (result, by_name) if by_name["registry"]["ready"] else None

        # The registry is ready once its projections consume (a moment after start).
        result, by_name = await eventually(registry_ready, timeout=20, interval=0.3)
        assert result.exit_code == 3, result.output
        assert json.loads(result.stdout)["ready"] is False
        for absent in ("reviews", "notifier"):
            assert by_name[absent]["ready"] is False and "does not answer" in by_name[absent]["problems"][0]

        table = await mignet(operator, "status", "registry")
        assert table.exit_code == 0, table.output
        bad = await mignet(operator, "status", "nobody")
        assert bad.exit_code == 2 and "Traceback" not in bad.output
