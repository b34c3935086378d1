"""Support to countries end to end: a champion's request flagged, rules refused with nothing written, figures."""

from __future__ import annotations

import json

import pytest
from conftest import RunningService, eventually
from test_registry_cli import mignet
from typer.testing import CliRunner

from mignet_cli.main import app
from mignet_contracts import support as sr
from mignet_registry import seed
from mignet_registry.app import SPEC


@pytest.fixture
async def registry(fresh_nats, settings_for):
    async with RunningService(SPEC, settings_for(fresh_nats)) as service:
        service.url = fresh_nats.url_for("operator")  # the CLI acts as an operator
        yield service


async def test_a_champion_asks_for_support_and_it_goes_through_its_lifecycle(registry):
    await seed.load(registry.client)
    asked = await mignet(
        registry,
        "registry",
        "request-support",
        "BD",
        "--by",
        "member-state",
        "--measure",
        "specific-objectives",
        "--measure",
        "piloting-working-group-tools",
        "--objective",
        "13",
        "--occurred-on",
        "2021-02-01",
    )
    assert asked.exit_code == 0, asked.output
    request_id = asked.stdout.strip()
    assert request_id.startswith("sr-")

    async def flagged():
        found = json.loads((await mignet(registry, "registry", "support-requests", "--champion", "--json")).stdout)
        return found["items"] if found["total"] else None

    [doc] = await eventually(flagged)
    assert (doc["request_id"], doc["champion"], doc["objectives"]) == (request_id, True, [13])
    listed = await mignet(registry, "registry", "support-requests", "--country", "BD")
    assert "champion" in listed.stdout and request_id in listed.stdout

    accepted = await mignet(
        registry, "registry", "accept-support", request_id, "--working-group", "alternatives-to-detention"
    )
    assert accepted.exit_code == 0, accepted.output
    early = await mignet(registry, "registry", "complete-support", request_id)
    assert early.exit_code == 1 and "is accepted; it cannot become completed" in early.stderr
    assert (await mignet(registry, "registry", "start-support", request_id)).exit_code == 0
    assert (await mignet(registry, "registry", "complete-support", request_id, "--note", "done")).exit_code == 0

    async def completed():
        doc = await registry.client.query(sr.GetSupportRequest(request_id=request_id))
        return doc if doc["status"] == "completed" else None

    doc = await eventually(completed)
    assert doc["working_group"] == "alternatives-to-detention"
    assert [h["status"] for h in doc["status_history"]] == ["requested", "accepted", "in-progress", "completed"]
    figures = json.loads((await mignet(registry, "registry", "support-figures", "--json")).stdout)
    assert figures["from_champions"] == 1 and figures["by_measure"]["specific-objectives"] == 1


async def test_refusals_write_nothing(registry):
    before = await registry.runtime.store.last_seq()
    no_network = await mignet(
        registry, "registry", "request-support", "NP", "--by", "national-network", "--measure", "review-and-reporting"
    )
    assert no_network.exit_code == 1 and "Nepal has no national network to make the request" in no_network.stderr
    unknown = await mignet(registry, "registry", "request-support", "XX", "--by", "member-state", "--measure", "x")
    assert unknown.exit_code == 2 and "Traceback" not in unknown.output
    no_group = await mignet(registry, "registry", "accept-support", "sr-000000000000", "--lead", "IOM")
    assert no_group.exit_code == 1 and "there is no support request sr-000000000000" in no_group.stderr
    assert await registry.runtime.store.last_seq() == before
    catalogue = CliRunner().invoke(app, ["registry", "entities", "--json"])
    sources = {row["code"]: row["source"] for row in json.loads(catalogue.stdout)["items"]}
    assert sources["WHO"] == "confirmed by the FAQ" and sources["WFP"] == "assumed"
    measures = CliRunner().invoke(app, ["registry", "support-measures"], env={"COLUMNS": "200"})
    assert "piloting-working-group-tools" in measures.stdout and "hlpf-regional-review" in measures.stdout
