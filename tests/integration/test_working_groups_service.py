"""Working groups end to end: the seed as events, the CLI, a pilot shown on the group and on the network."""

from __future__ import annotations

import json

import pytest
from conftest import RunningService, eventually
from test_registry_cli import mignet

from mignet_contracts import reference as ref
from mignet_contracts import working_groups as wg
from mignet_registry import seed
from mignet_registry.app import SPEC


@pytest.fixture
async def registry(fresh_nats, settings_for):
    async with RunningService(SPEC, settings_for(fresh_nats)) as service:
        service.url = fresh_nats.url_for("operator")  # the CLI acts as an operator
        yield service


async def test_seeded_groups_members_outputs_and_a_pilot_on_both_sides(registry):
    await seed.load(registry.client)

    async def nine():
        found = await registry.client.query(wg.ListWorkingGroups())
        return found if found["total"] == len(ref.WORKING_GROUPS) else None

    found = await eventually(nine)
    assert {g["group_id"] for g in found["items"] if g["core"]} == set(ref.CORE_WORKING_GROUPS)
    thematic = await registry.client.query(wg.ListWorkingGroups(core=False))
    assert {g["group_id"] for g in thematic["items"]} == set(ref.THEMATIC_WORKSTREAMS)

    listed = await mignet(registry, "registry", "working-groups")
    assert listed.exit_code == 0 and "Working groups (9)" in listed.stdout and "Bilateral labour" in listed.stdout

    joined = await mignet(registry, "registry", "join-working-group", "data", "--entity", "iom", "--lead")
    assert joined.exit_code == 0, joined.output
    stakeholder = await mignet(
        registry,
        "registry",
        "join-working-group",
        "data",
        "--stakeholder",
        "academia",
        "--organization",
        "Migration Policy Institute",
    )
    assert stakeholder.exit_code == 0, stakeholder.output
    output_id = (
        await mignet(
            registry,
            "registry",
            "add-output",
            "data",
            "--kind",
            "tool",
            "--title",
            "Data toolkit",
            "--occurred-on",
            "2020-11-01",
        )
    ).stdout.strip()
    assert output_id.startswith("o-")
    published = await mignet(
        registry, "registry", "output-status", "data", output_id, "published", "--occurred-on", "2021-01-01"
    )
    assert published.exit_code == 0, published.output
    created = await mignet(
        registry,
        "registry",
        "create-network",
        "--scope",
        "national",
        "--country",
        "BD",
        "--name",
        "UN Network on Migration in Bangladesh",
        "--status",
        "established",
        "--occurred-on",
        "2020-01-01",
    )
    assert created.exit_code == 0, created.output
    piloted = await mignet(
        registry, "registry", "pilot-output", "data", output_id, "nat-bd", "--started-on", "2021-03-01"
    )
    assert piloted.exit_code == 0, piloted.output
    refused = await mignet(registry, "registry", "pilot-output", "data", output_id, "global")
    assert refused.exit_code == 1 and "not the global Network" in refused.stderr

    async def on_the_network():
        doc = json.loads((await mignet(registry, "registry", "network", "nat-bd", "--json")).stdout)
        return doc if doc["pilots"] else None

    network = await eventually(on_the_network)
    [pilot] = network["pilots"]
    assert (pilot["group_id"], pilot["output_title"], pilot["started_on"]) == ("data", "Data toolkit", "2021-03-01")
    group = json.loads((await mignet(registry, "registry", "working-group", "data", "--json")).stdout)
    [output] = group["outputs"]
    assert output["status"] == "published" and output["pilots"][0]["network_id"] == "nat-bd"
    assert {m.get("entity") or m["organization"] for m in group["members"]} == {"IOM", "Migration Policy Institute"}
    shown = await mignet(registry, "registry", "working-group", "data")
    assert "Migration Policy Institute (academia)" in shown.stdout and "nat-bd" in shown.stdout
    pilots = await mignet(registry, "registry", "pilots", "--network", "nat-bd")
    assert "Pilots (1)" in pilots.stdout and output_id in pilots.stdout
    bad = await mignet(registry, "registry", "join-working-group", "data", "--entity", "IOM", "--stakeholder", "media")
    assert bad.exit_code == 2 and "Traceback" not in bad.output
