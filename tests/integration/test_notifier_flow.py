"""Across services, as with `make run`: subscribe a local webhook, create a network with the CLI, and the
receiver gets one signed CloudEvent that verifies with standardwebhooks."""

from __future__ import annotations

import asyncio

from conftest import RunningService, eventually
from notifier_support import Receiver, spec
from standardwebhooks import Webhook
from typer.testing import CliRunner

from mignet_cli.main import app
from mignet_registry.app import SPEC as REGISTRY


async def test_a_network_created_with_the_cli_reaches_a_subscribed_webhook(fresh_nats, settings_for):
    url = fresh_nats.url_for("operator")

    async def mignet(*args: str):
        env = {"MIGNET_ACTOR": "cli:test", "NATS_USER": "", "COLUMNS": "200"}
        return await asyncio.to_thread(CliRunner().invoke, app, [*args, "--nats-url", url], env=env)

    settings = settings_for(fresh_nats)
    async with (
        Receiver() as receiver,
        RunningService(REGISTRY, settings),
        RunningService(spec(), settings),
    ):
        made = await mignet(
            "notifier",
            "subscribe",
            "Local integrator",
            "--webhook",
            receiver.url(),
            "-e",
            "int.un-migration.mignet.registry.network.*",
            "--country",
            "BD",
        )
        assert made.exit_code == 0, made.output
        secret = made.stdout.split("keep it): ")[1].split()[0]
        sid = made.stdout.split()[1]

        async def active():
            listed = await mignet("notifier", "list", "--json")
            return sid in listed.stdout

        await eventually(active)
        created = await mignet(
            "registry", "create-network", "--scope", "national", "--country", "BD", "--name", "UN Network in BD"
        )
        assert created.exit_code == 0, created.output
        other = await mignet(
            "registry", "create-network", "--scope", "national", "--country", "PH", "--name", "UN Network in PH"
        )
        assert other.exit_code == 0, other.output  # filtered out by --country BD

        async def delivered():
            found = await mignet("notifier", "deliveries", sid, "--status", "delivered", "--json")
            return '"total": 1' in found.stdout

        await eventually(delivered, timeout=15)
        await asyncio.sleep(0.5)  # room for a wrong second delivery to show
    [request] = receiver.requests
    event = Webhook(secret).verify(request.body, request.headers)
    assert event["type"] == "int.un-migration.mignet.registry.network.created.v1" and event["subject"] == "nat-bd"
    assert event["data"]["network_name"] == "UN Network in BD"
