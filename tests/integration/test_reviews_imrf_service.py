"""All contributions for the IMRF end to end: one to the forum itself beside a regional review's, compiled."""

from __future__ import annotations

import pytest
from conftest import RunningService, eventually
from test_reviews_cli import mignet
from test_reviews_service import ACTOR, CONTACT, NATS_ONLY, ensure_registry_stream, open_review, submit_and_publish

from mignet_contracts import reviews as c
from mignet_contracts.envelope import new_id
from mignet_runtime.client import RequestFailed


@pytest.fixture
async def reviews(fresh_nats, settings_for):
    await ensure_registry_stream(fresh_nats)
    async with RunningService(NATS_ONLY, settings_for(fresh_nats)) as service:
        service.url = fresh_nats.url_for("operator")  # the CLI acts as an operator
        yield service


def to_the_imrf(**fields) -> c.SubmitContribution:
    values = {
        "command_id": new_id(),
        "actor": ACTOR,
        "imrf": "imrf-2026",
        "contributor": {"kind": "stakeholder", "category": "trade-unions", "organization": "ITUC"},
        "level": "global",
        "title": "Decent work for migrant workers",
        "summary": "What unions saw since 2022.",
        "objectives": [6],
        "language": "en",
        "contact": CONTACT,
    }
    return c.SubmitContribution(**(values | fields))


async def test_a_contribution_to_the_imrf_itself_is_moderated_and_compiled_with_the_regional_ones(reviews):
    await open_review(reviews.client)
    regional = await submit_and_publish(reviews.client)
    submitted = await reviews.client.command(to_the_imrf())
    imrf_id = submitted.aggregate_id
    pending = await reviews.client.command(to_the_imrf(title="Another one", command_id=new_id()))
    await reviews.client.command(c.PublishContribution(command_id=new_id(), actor=ACTOR, contribution_id=imrf_id))

    async def compiled():
        found = await reviews.client.query(c.Compilation(imrf="imrf-2026"))
        return found if found["total"] == 2 else None

    found = await eventually(compiled)
    assert {item["contribution_id"] for item in found["items"]} == {regional, imrf_id}
    assert found["by_region"] == {"asia-pacific": 1, "imrf": 1}
    assert found["received"] == {"published": 2, "submitted": 1}  # the one awaiting moderation is counted
    earlier = await reviews.client.query(c.Compilation(imrf="imrf-2022"))
    assert earlier["total"] == 0

    listed = await reviews.client.query(c.ListContributions(imrf="imrf-2026"))
    assert {item["contribution_id"] for item in listed["items"]} == {imrf_id, pending.aggregate_id}
    doc = await reviews.client.query(c.GetContribution(contribution_id=imrf_id))
    assert (doc["review_id"], doc["imrf"], doc["to_imrf_itself"]) == (None, "imrf-2026", True)


async def test_a_contribution_to_a_forum_that_does_not_meet_is_refused_and_nothing_is_written(reviews):
    before = await reviews.runtime.store.last_seq()
    reply = await reviews.client.request(
        c.SubmitContribution.subject(),
        to_the_imrf().model_dump(mode="json") | {"imrf": "imrf-2024"},
    )
    assert not reply.ok and reply.error.code == "validation_error"
    assert "imrf" in {d.field for d in reply.error.details}
    assert "there is no IMRF in 2024" in reply.error.model_dump_json()
    with pytest.raises(RequestFailed):
        await reviews.client.query(c.ListContributions(review_id="africa-2024-2025"))
    assert await reviews.runtime.store.last_seq() == before


async def test_the_cli_submits_to_the_imrf_and_schedules_a_review_with_its_organizers(reviews):
    submitted = await mignet(
        reviews,
        "submit",
        "IMRF-2026",
        "--member-state",
        "CA",
        "--level",
        "national",
        "--title",
        "Canada to the IMRF",
        "--summary",
        "Progress since 2022.",
        "--objective",
        "23",
        "--contact-name",
        "A. Person",
        "--contact-email",
        "a.person@example.org",
    )
    assert submitted.exit_code == 0, submitted.output
    contribution_id = submitted.stdout.strip()
    listed = await eventually(lambda: _listed(reviews, contribution_id))
    assert "Canada" in listed.stdout
    scheduled = await mignet(
        reviews,
        "schedule",
        "asia-pacific",
        "2028-2029",
        "--organizer",
        "regional-consultative-process:Bali Process",
        "--organizer",
        "subregional:ASEAN",
    )
    assert scheduled.exit_code == 0, scheduled.output
    review = await eventually(lambda: reviews.client.query(c.GetReview(review_id="asia-pacific-2028-2029")))
    assert review["organizers"] == [
        {"kind": "regional-consultative-process", "name": "Bali Process"},
        {"kind": "subregional", "name": "ASEAN"},
    ]
    wrong = await mignet(reviews, "schedule", "africa", "2028-2029", "--organizer", "chamber:Someone")
    assert wrong.exit_code == 2 and "organizers" in wrong.stderr and "Traceback" not in wrong.output


async def _listed(reviews, contribution_id):
    result = await mignet(reviews, "contributions", "imrf-2026")
    return result if contribution_id in result.stdout else None
