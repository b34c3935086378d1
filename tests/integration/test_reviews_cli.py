"""`mignet reviews ...` against a running reviews service.

The CLI runs in a worker thread (it calls asyncio.run itself) while the service
runs on the test's event loop.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from mignet_contracts import reviews as c
from mignet_cli.main import app
from conftest import RunningService, eventually
from test_reviews_service import AP, NATS_ONLY, ensure_registry_stream


@pytest.fixture
async def reviews(fresh_nats, settings_for):
    await ensure_registry_stream(fresh_nats)
    async with RunningService(NATS_ONLY, settings_for(fresh_nats)) as service:
        service.url = fresh_nats.url_for("operator")  # the CLI acts as an operator
        yield service


async def mignet(service, *args: str):
    runner = CliRunner()
    env = {"MIGNET_ACTOR": "cli:test", "NATS_USER": ""}
    return await asyncio.to_thread(runner.invoke, app, ["reviews", *args, "--nats-url", service.url], env=env)


SUBMIT = ["--level", "national", "--title", "Viet Nam: national review", "--summary", "Progress on data.",
          "--objective", "1", "--objective", "5", "--contact-name", "Private Person",
          "--contact-email", "private.person@example.org"]


async def test_schedule_submit_publish_and_read_back(reviews):
    scheduled = await mignet(reviews, "schedule", "asia-pacific", "2024-2025", "--meeting-start", "2025-02-04",
                             "--meeting-end", "2025-02-06", "--venue", "Bangkok", "--json")
    assert scheduled.exit_code == 0, scheduled.output
    assert json.loads(scheduled.stdout)["aggregate_id"] == AP
    opened = await mignet(reviews, "open", AP)
    assert opened.exit_code == 0 and f"{AP} is open for contributions" in opened.stdout
    submitted = await mignet(reviews, "submit", AP, "--member-state", "VN", *SUBMIT)
    assert submitted.exit_code == 0, submitted.output
    contribution_id = submitted.stdout.strip()
    assert contribution_id.startswith("c-")
    published = await mignet(reviews, "publish", contribution_id, "--note", "Thank you.")
    assert published.exit_code == 0 and f"{contribution_id} published" in published.stdout
    assert (await mignet(reviews, "publish", contribution_id)).exit_code == 1

    async def published_in_read_model():
        doc = await reviews.client.query(c.GetContribution(contribution_id=contribution_id))
        return doc["status"] == "published"

    await eventually(published_in_read_model)
    listed = await mignet(reviews, "contributions", AP, "--status", "published", "--json")
    assert listed.exit_code == 0
    [item] = json.loads(listed.stdout)["items"]
    assert item["contribution_id"] == contribution_id and item["contributor"]["country_name"] == "Viet Nam"
    assert "private.person@example.org" not in listed.stdout

    table = await mignet(reviews, "contributions", AP)  # rich folds cells to the 80 columns CliRunner has
    assert table.exit_code == 0 and f"Contributions to {AP} (1-1 of 1)" in table.stdout
    figures = await mignet(reviews, "figures", AP, "--json")
    assert json.loads(figures.stdout)["published"]["by_contributor_kind"] == {"member-state": 1}
    assert (await mignet(reviews, "figures", AP)).exit_code == 0
    compiled = await mignet(reviews, "compilation", "--cycle", "2024-2025", "--json")
    assert [i["contribution_id"] for i in json.loads(compiled.stdout)["items"]] == [contribution_id]
    reviews_table = await mignet(reviews, "list")
    assert reviews_table.exit_code == 0 and "Regional reviews (1)" in reviews_table.stdout


async def test_errors_are_structured_and_exit_non_zero(reviews):
    assert (await mignet(reviews, "schedule", "asia-pacific", "2024-2025")).exit_code == 0
    assert (await mignet(reviews, "open", AP)).exit_code == 0

    refused = await mignet(reviews, "submit", AP, "--member-state", "MX", *SUBMIT)
    assert refused.exit_code == 1
    assert "error (rejected)" in refused.stderr and "contributor.country" in refused.stderr

    invalid = await mignet(reviews, "schedule", "atlantis", "2024-2025")
    assert invalid.exit_code == 1 and "error (validation_error)" in invalid.stderr and "region" in invalid.stderr

    usage = await mignet(reviews, "submit", AP, *SUBMIT)  # neither --member-state nor --stakeholder
    assert usage.exit_code == 2

    assert await reviews.runtime.store.last_seq() == 2


async def test_seed_command_is_idempotent(reviews):
    first = await mignet(reviews, "seed")
    assert first.exit_code == 0 and "30 commands wrote events" in first.stdout
    again = await mignet(reviews, "seed")
    assert again.exit_code == 0 and "0 commands wrote events, 30 were already loaded" in again.stdout
