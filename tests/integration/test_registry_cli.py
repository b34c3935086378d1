"""`mignet registry ...`, `mignet projections ...` against a running registry service."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from mignet_cli.main import app
from mignet_registry.app import SPEC
from conftest import RunningService, eventually


@pytest.fixture
async def registry(fresh_nats, settings_for):
    async with RunningService(SPEC, settings_for(fresh_nats)) as service:
        service.url = fresh_nats.url_for("operator")  # the CLI acts as an operator
        yield service


async def mignet(service, *args: str):
    env = {"MIGNET_ACTOR": "cli:test", "NATS_USER": "", "COLUMNS": "200"}
    return await asyncio.to_thread(CliRunner().invoke, app, [*args, "--nats-url", service.url], env=env)


async def test_create_list_and_query_networks_and_champions(registry):
    created = await mignet(registry, "registry", "create-network", "--scope", "national", "--country", "bd",
                           "--name", "UN Network on Migration in Bangladesh", "--member", "IOM:coordinator")
    assert created.exit_code == 0, created.output
    assert created.stdout.strip() == "nat-bd"

    again = await mignet(registry, "registry", "create-network", "--scope", "national", "--country", "BD",
                         "--name", "Another")
    assert again.exit_code == 1
    assert "already exists" in again.stderr

    bad = await mignet(registry, "registry", "create-network", "--scope", "national", "--country", "XX", "--name", "x")
    assert bad.exit_code == 1 and "unknown country code 'XX'" in bad.stderr

    async def listed():
        result = await mignet(registry, "registry", "networks", "--json")
        items = json.loads(result.stdout)
        return items if items else None

    [network] = await eventually(listed)
    assert (network["network_id"], network["member_count"]) == ("nat-bd", 1)
    table = await mignet(registry, "registry", "networks", "--region", "asia-pacific")
    assert "nat-bd" in table.stdout and "UN Network on Migration in Bangladesh" in table.stdout

    assert (await mignet(registry, "registry", "seed")).exit_code == 0
    seeded = await mignet(registry, "registry", "seed")
    assert "0 commands wrote events" in seeded.stdout

    async def champions():
        result = await mignet(registry, "registry", "champions", "--json")
        items = json.loads(result.stdout)
        return items if len(items) == 14 else None

    assert {c["country"] for c in await eventually(champions)} >= {"BD", "PT", "CA", "SN", "MX"}
    directory = await mignet(registry, "registry", "directory", "--as-of", "2020-10-31", "--json")
    summary = json.loads(directory.stdout)
    assert summary["champions"]["total"] == 14 and summary["networks"]["total"] == 1  # the global Network


async def test_projection_status_and_rebuild(registry):
    await mignet(registry, "registry", "create-network", "--scope", "national", "--country", "MX",
                 "--name", "Red de las Naciones Unidas sobre la Migración en México")
    status = await mignet(registry, "projections", "status", "registry", "--json")
    assert status.exit_code == 0, status.output
    assert {row["projection"] for row in json.loads(status.stdout)} == {"networks", "champions"}
    rebuilt = await mignet(registry, "projections", "rebuild", "registry", "--json")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert {r["projection"]: r["documents"] for r in json.loads(rebuilt.stdout)} == {"networks": 1, "champions": 0}


async def test_unreachable_nats_fails_fast_with_a_clear_message():
    result = await asyncio.to_thread(CliRunner().invoke, app,
                                     ["registry", "networks", "--nats-url", "nats://127.0.0.1:1"], env={})
    assert result.exit_code == 3
    assert "cannot reach NATS" in result.stderr


async def test_projection_status_counts_only_the_projections_own_pending_events(registry):
    await mignet(registry, "registry", "create-network", "--scope", "national", "--country", "NP", "--name", "Nepal")

    async def settled():
        rows = json.loads((await mignet(registry, "projections", "status", "registry", "--json")).stdout)
        by_name = {row["projection"]: row for row in rows}
        return by_name if by_name["networks"]["pending"] == 0 else None

    rows = await eventually(settled)
    # no champion events at all: nothing pending, although the stream has moved on
    assert rows["champions"]["pending"] == 0 and rows["champions"]["stream_last_seq"] == 1
    assert rows["networks"]["applied_seq"] == 1
