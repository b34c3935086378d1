"""`mignet reviews ...` against a running reviews service.

The CLI runs in a worker thread (it calls asyncio.run itself) while the service
runs on the test's event loop.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import RunningService, eventually
from test_reviews_service import AP, NATS_ONLY, contribution_in_status, ensure_registry_stream
from typer.testing import CliRunner

from mignet_cli.main import app
from mignet_contracts import reviews as c


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


SUBMIT = [
    "--level",
    "national",
    "--title",
    "Viet Nam: national review",
    "--summary",
    "Progress on data.",
    "--objective",
    "1",
    "--objective",
    "5",
    "--contact-name",
    "Private Person",
    "--contact-email",
    "private.person@example.org",
]


async def test_schedule_submit_publish_and_read_back(reviews):
    scheduled = await mignet(
        reviews,
        "schedule",
        "asia-pacific",
        "2024-2025",
        "--meeting-start",
        "2025-02-04",
        "--meeting-end",
        "2025-02-06",
        "--venue",
        "Bangkok",
        "--json",
    )
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
    figures_table = await mignet(reviews, "figures", AP)
    assert figures_table.exit_code == 0
    assert f"{AP} (open-for-contributions): 1 contributions" in figures_table.stdout
    assert "Published: 1" in figures_table.stdout and "member-state" in figures_table.stdout
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
    assert invalid.exit_code == 2 and "error (validation_error)" in invalid.stderr and "region" in invalid.stderr

    usage = await mignet(reviews, "submit", AP, *SUBMIT)  # neither --member-state nor --stakeholder
    assert usage.exit_code == 2

    assert await reviews.runtime.store.last_seq() == 2


async def test_seed_command_is_idempotent(reviews):
    first = await mignet(reviews, "seed")
    assert first.exit_code == 0 and "30 commands wrote events" in first.stdout
    again = await mignet(reviews, "seed")
    assert again.exit_code == 0 and "0 commands wrote events, 30 were already loaded" in again.stdout


@pytest.mark.parametrize(
    ("make_body", "expected"),
    [
        (lambda tmp: tmp / "missing.txt", "no such file"),
        (lambda tmp: tmp, "is a directory, not a file"),
        (
            lambda tmp: _written(tmp / "latin1.txt", "Contribution de la Côte d'Ivoire".encode("latin-1")),
            "not UTF-8 text",
        ),
    ],
)
async def test_an_unreadable_body_file_is_a_usage_error_not_a_traceback(reviews, tmp_path, make_body, expected):
    path = make_body(tmp_path)
    result = await mignet(reviews, "submit", AP, "--member-state", "VN", *SUBMIT, "--body-file", str(path))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.count(expected) == 1 and f"--body-file {path}" in result.stderr
    assert await reviews.runtime.store.last_seq() == 0  # nothing was sent


def _written(path, data: bytes):
    path.write_bytes(data)
    return path


async def test_messages_say_once_what_is_wrong(reviews):
    no_organization = await mignet(reviews, "submit", AP, "--stakeholder", "civil-society", *SUBMIT)
    assert no_organization.exit_code == 2
    assert "needs --organization NAME" in no_organization.stderr
    assert "valid string" not in no_organization.stderr

    out_of_range = await mignet(
        reviews, "submit", AP, "--member-state", "VN", *[a if a != "5" else "99" for a in SUBMIT]
    )
    assert out_of_range.exit_code == 2
    assert out_of_range.stderr.count("unknown GCM objective 99") == 1
    assert "Tuple should have" not in out_of_range.stderr

    bad_id = await mignet(reviews, "contribution", "c-a968314320")
    assert bad_id.exit_code == 2
    assert "'c-a968314320' is not a contribution id: expected 'c-' and 16 lower-case hex digits" in bad_id.stderr
    assert "pattern" not in bad_id.stderr and bad_id.stderr.count("is not a contribution id") == 1

    missing = await mignet(reviews, "contribution", "c-0123456789abcdef")
    assert missing.exit_code == 1
    assert missing.stderr == "error (not_found): contribution_id: there is no contribution c-0123456789abcdef\n"


async def test_moderation_shows_without_json_and_ids_never_wrap(reviews):
    assert (
        await mignet(reviews, "schedule", "asia-pacific", "2024-2025", "--venue", "Bangkok", "--partner", "ESCAP")
    ).exit_code == 0
    assert (await mignet(reviews, "open", AP)).exit_code == 0
    rejected_id = (await mignet(reviews, "submit", AP, "--member-state", "VN", *SUBMIT)).stdout.strip()
    published_id = (await mignet(reviews, "submit", AP, "--member-state", "TH", *SUBMIT)).stdout.strip()
    assert (await mignet(reviews, "reject", rejected_id, "--reason", "Duplicate of an earlier one")).exit_code == 0
    assert (await mignet(reviews, "publish", published_id, "--note", "Edited for length")).exit_code == 0
    await contribution_in_status(reviews, rejected_id, "rejected")
    await contribution_in_status(reviews, published_id, "published")

    shown = await mignet(reviews, "contribution", rejected_id)  # CliRunner's terminal is 80 columns wide
    assert shown.exit_code == 0, shown.output
    assert "rejected because: Duplicate of an earlier one" in shown.stdout
    assert rejected_id in shown.stdout  # whole, on one line: copyable
    assert "moderator's note: Edited for length" in (await mignet(reviews, "contribution", published_id)).stdout

    listed = await mignet(reviews, "contributions", AP)
    assert rejected_id in listed.stdout and published_id in listed.stdout
    assert "published" in listed.stdout.split() or any("published" in line for line in listed.stdout.splitlines())

    review = await mignet(reviews, "review", AP)
    assert review.exit_code == 0, review.output
    assert AP in review.stdout and "partners: ESCAP" in review.stdout and "open-for-contributions" in review.stdout
    as_json = json.loads((await mignet(reviews, "review", AP, "--json")).stdout)
    assert (as_json["review_id"], as_json["venue"]) == (AP, "Bangkok")


async def test_every_list_has_one_json_shape(reviews):
    assert (await mignet(reviews, "schedule", "asia-pacific", "2024-2025")).exit_code == 0
    await eventually(lambda: _listed(reviews))
    for args in (["list"], ["contributions", AP, "--limit", "7"], ["compilation"]):
        result = json.loads((await mignet(reviews, *args, "--json")).stdout)
        assert {"items", "total", "offset", "limit"} <= set(result), args
        assert isinstance(result["items"], list) and result["offset"] == 0
    assert json.loads((await mignet(reviews, "contributions", AP, "--limit", "7", "--json")).stdout)["limit"] == 7
    assert json.loads((await mignet(reviews, "list", "--json")).stdout)["total"] == 1


async def _listed(reviews):
    return (await reviews.client.query(c.ListReviews()))["items"]
