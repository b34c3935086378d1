"""The IMRF compilation as CSV from the CLI (`mignet reviews compilation --csv`), against a running service."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import eventually
from test_reviews_cli import mignet, reviews  # noqa: F401  (the fixture)
from test_reviews_service import AP

from mignet_cli.reviews import _everything
from mignet_contracts import reviews as c
from mignet_contracts.envelope import new_id

ACTOR = "test:compilation"
CONTACT = {"name": "Private Person", "email": "private.person@example.org"}
FORMULA = '=HYPERLINK("https://evil.example","click")'


def submission(title: str, contributor: dict, **fields) -> c.SubmitContribution:
    return c.SubmitContribution(
        command_id=new_id(),
        actor=ACTOR,
        review_id=fields.pop("review_id", AP),
        contributor=contributor,
        level="national",
        title=title,
        summary=fields.pop("summary", f"Summary of {title}"),
        objectives=fields.pop("objectives", [1]),
        language=fields.pop("language", "en"),
        contact=CONTACT,
        **fields,
    )


@pytest.fixture
async def compiled(reviews):  # noqa: F811
    client = reviews.client
    await client.command(c.ScheduleReview(command_id=new_id(), actor=ACTOR, region="asia-pacific", cycle="2024-2025"))
    await client.command(c.OpenReview(command_id=new_id(), actor=ACTOR, review_id=AP))
    published = [
        submission("Viet Nam: national review", {"kind": "member-state", "country": "VN"}, objectives=[1, 5]),
        submission("بنغلاديش: الاستعراض الوطني", {"kind": "member-state", "country": "BD"}, language="ar"),
        submission(
            FORMULA,
            {"kind": "stakeholder", "category": "academia", "organization": "Test University"},
            body='Line one, with a comma and "quotes".\nLine two.',
            links=["https://example.org/a", "https://example.org/b"],
        ),
        submission(
            "Migrant Forum in Asia",
            {"kind": "stakeholder", "category": "migrant-diaspora", "organization": "Migrant Forum in Asia"},
            objectives=[7],
        ),
    ]
    ids = [(await client.command(command)).aggregate_id for command in published]
    for contribution_id in ids:
        await client.command(c.PublishContribution(command_id=new_id(), actor=ACTOR, contribution_id=contribution_id))
    await client.command(submission("Still in moderation", {"kind": "member-state", "country": "TH"}))

    async def settled():
        return (await client.query(c.ReviewFigures(review_id=AP)))["by_status"] == {"published": 4, "submitted": 1}

    await eventually(settled)
    return ids


def rows(stdout: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(stdout)))


async def test_the_compilation_as_csv_holds_every_published_contribution_safely(reviews, compiled):  # noqa: F811
    result = await mignet(reviews, "compilation", "--csv")
    assert result.exit_code == 0, result.output
    found = rows(result.stdout)
    assert sorted(r["contribution_id"] for r in found) == sorted(compiled)
    assert "Still in moderation" not in result.stdout and CONTACT["email"] not in result.stdout
    by_title = {r["title"].lstrip("'"): r for r in found}
    hostile = by_title[FORMULA]
    assert hostile["title"] == "'" + FORMULA  # a spreadsheet shows it as text, never runs it
    assert hostile["body"] == 'Line one, with a comma and "quotes".\nLine two.'
    assert hostile["links"] == "https://example.org/a\nhttps://example.org/b"
    assert hostile["stakeholder_category"] == "academia" and hostile["organization"] == "Test University"
    assert by_title["Viet Nam: national review"]["objectives"] == "1;5"
    assert by_title["بنغلاديش: الاستعراض الوطني"]["language"] == "ar"
    assert [r["contributor_kind"] for r in found] == ["member-state", "member-state", "stakeholder", "stakeholder"]


async def test_the_csv_follows_the_filters(reviews, compiled):  # noqa: F811
    stakeholders = rows((await mignet(reviews, "compilation", "--csv", "--kind", "stakeholder")).stdout)
    assert {r["organization"] for r in stakeholders} == {"Test University", "Migrant Forum in Asia"}
    academia = rows((await mignet(reviews, "compilation", "--csv", "--category", "academia")).stdout)
    assert [r["organization"] for r in academia] == ["Test University"]
    objective = rows((await mignet(reviews, "compilation", "--csv", "--objective", "7")).stdout)
    assert [r["title"] for r in objective] == ["Migrant Forum in Asia"]
    assert rows((await mignet(reviews, "compilation", "--csv", "--region", "africa")).stdout) == []


async def test_every_page_is_gathered_and_wrong_options_are_usage_errors(reviews, compiled):  # noqa: F811
    gathered = await _everything(reviews.client, c.Compilation(limit=3))
    assert sorted(i["contribution_id"] for i in gathered) == sorted(compiled)
    both = await mignet(reviews, "compilation", "--csv", "--json")
    assert both.exit_code == 2 and "--csv" in both.output
    contradictory = await mignet(reviews, "compilation", "--csv", "--kind", "member-state", "--category", "academia")
    assert contradictory.exit_code == 2 and "stakeholder category" in contradictory.stderr


async def test_the_compilation_for_one_imrf_holds_the_contributions_to_the_forum_itself(reviews, compiled):  # noqa: F811
    client = reviews.client
    forum = submission(
        "Decent work for migrant workers",
        {"kind": "stakeholder", "category": "trade-unions", "organization": "ITUC"},
        review_id=None,
        imrf="imrf-2026",
    )
    forum_id = (await client.command(forum)).aggregate_id
    await client.command(c.PublishContribution(command_id=new_id(), actor=ACTOR, contribution_id=forum_id))

    async def published():
        return (await client.query(c.Compilation()))["total"] == len(compiled) + 1

    await eventually(published)
    found = rows((await mignet(reviews, "compilation", "--csv", "--imrf", "IMRF-2026")).stdout)
    assert sorted(r["contribution_id"] for r in found) == sorted([*compiled, forum_id])
    [to_forum] = [r for r in found if r["contribution_id"] == forum_id]
    assert (to_forum["imrf"], to_forum["review_id"], to_forum["region"]) == ("imrf-2026", "", "")
    assert {r["imrf"] for r in found} == {"imrf-2026"}  # the 2024-2025 reviews inform it too
    assert rows((await mignet(reviews, "compilation", "--csv", "--imrf", "imrf-2022")).stdout) == []

    shown = await mignet(reviews, "compilation", "--imrf", "imrf-2026")
    assert shown.exit_code == 0 and forum_id in shown.stdout and "imrf-2026" in shown.stdout
    wrong = await mignet(reviews, "compilation", "--imrf", "imrf-2025")
    assert wrong.exit_code == 2 and "there is no IMRF in 2025" in wrong.stderr
