"""The IMRF compilation on the public pages, in Chromium: filters, printable view, CSV and JSON downloads."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from mignet_contracts import reviews as c
from mignet_contracts.envelope import new_id
from mignet_reviews import i18n

from .support import eventually
from .translation_checks import INTERFACE_TEXT, english_messages, words_in

ACTOR = "test:e2e"
CONTACT = {"name": "Private Person", "email": "private.person@example.org"}
HOSTILE = "<script>window.pwned=1</script>"


def submission(review_id: str, title: str, contributor: dict, objectives: list[int]) -> c.SubmitContribution:
    return c.SubmitContribution(
        command_id=new_id(),
        actor=ACTOR,
        review_id=review_id,
        contributor=contributor,
        level="national",
        title=title,
        summary=f"Summary of {title}",
        body=f"Body of {title}",
        objectives=objectives,
        language="en",
        contact=CONTACT,
    )


@pytest.fixture(scope="module")
async def compiled(pages_service) -> dict[str, str]:
    client = pages_service.client
    for region in ("asia-pacific", "africa"):
        await client.command(c.ScheduleReview(command_id=new_id(), actor=ACTOR, region=region, cycle="2024-2025"))
        await client.command(c.OpenReview(command_id=new_id(), actor=ACTOR, review_id=f"{region}-2024-2025"))
    commands = {
        "nepal": submission(
            "asia-pacific-2024-2025", "Nepal: national review", {"kind": "member-state", "country": "NP"}, [5]
        ),
        "hostile": submission(
            "asia-pacific-2024-2025",
            f"Hostile {HOSTILE} input",
            {"kind": "stakeholder", "category": "academia", "organization": "Test University"},
            [7],
        ),
        "ghana": submission(
            "africa-2024-2025", "Ghana: national review", {"kind": "member-state", "country": "GH"}, [7]
        ),
        "pending": submission("africa-2024-2025", "Pending one", {"kind": "member-state", "country": "SN"}, [7]),
    }
    ids = {key: (await client.command(command)).aggregate_id for key, command in commands.items()}
    for key in ("nepal", "hostile", "ghana"):
        await client.command(c.PublishContribution(command_id=new_id(), actor=ACTOR, contribution_id=ids[key]))

    async def settled():
        found = await client.query(c.Compilation())
        return found["total"] == 3

    await eventually(settled)
    return ids


async def test_the_compilation_filters_by_the_form(page, pages_service, compiled):
    await page.goto(f"{pages_service.base_url}/en/compilation")
    assert await page.locator("article.compiled").count() == 3
    assert await page.get_by_role("status").text_content() == "3 published contributions."
    assert "Pending one" not in await page.locator("main").text_content()
    await page.select_option("#objective", "7")
    await page.select_option("#contributor", "member-state")
    await page.get_by_role("button", name="Apply filters").click()
    await page.wait_for_url(re.compile(r"/en/compilation\?.*objective=7"))
    titles = await page.locator("article.compiled h2").all_text_contents()
    assert titles == ["Ghana: national review"]
    await page.select_option("#objective", "")
    await page.select_option("#contributor", "")
    await page.select_option("#region", "asia-pacific")
    await page.get_by_role("button", name="Apply filters").click()
    await page.wait_for_url(re.compile(r"region=asia-pacific"))
    assert sorted(await page.locator("article.compiled").evaluate_all("a => a.map(e => e.dataset.contributionId)")) == (
        sorted([compiled["nepal"], compiled["hostile"]])
    )
    assert await page.locator("script").count() == 0 and await page.evaluate("typeof window.pwned") == "undefined"
    response = await page.goto(f"{pages_service.base_url}/en/compilation?contributor=robots")
    assert response.status == 400


async def test_the_downloads_hold_the_filtered_selection(page, pages_service, compiled):
    await page.goto(f"{pages_service.base_url}/en/compilation?objective=7")
    async with page.expect_download() as csv_download:
        await page.get_by_role("link", name="CSV").click()
    path = await (await csv_download.value).path()
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["contribution_id"] for r in rows) == sorted([compiled["hostile"], compiled["ghana"]])
    assert CONTACT["email"] not in text and "Pending one" not in text

    async with page.expect_download() as json_download:
        await page.get_by_role("link", name="JSON").click()
    document = json.loads((await (await json_download.value).path()).read_text(encoding="utf-8"))
    assert document["filters"] == {"objective": "7"} and document["total"] == 2
    assert {i["title"] for i in document["items"]} == {f"Hostile {HOSTILE} input", "Ghana: national review"}
    assert CONTACT["email"] not in json.dumps(document)


async def test_the_compilation_prints_without_navigation_or_forms(page, pages_service, compiled):
    await page.goto(f"{pages_service.base_url}/fr/compilation")
    await page.emulate_media(media="print")
    for selector in (".languages", ".sections", ".filters", ".downloads"):
        assert await page.locator(selector).evaluate("e => getComputedStyle(e).display") == "none", selector
    assert await page.locator("article.compiled").first.evaluate("e => getComputedStyle(e).breakInside") == "avoid"
    pdf = await page.pdf()
    assert pdf.startswith(b"%PDF")


@pytest.mark.parametrize("language", i18n.LANGUAGES)
async def test_the_compilation_is_translated_in_every_language(page, pages_service, compiled, language):
    await page.goto(f"{pages_service.base_url}/{language}/compilation?region=asia-pacific")
    assert await page.locator("article.compiled").count() == 2
    english = english_messages(language) if language != i18n.SOURCE_LANGUAGE else []
    text = " ".join((await page.evaluate(INTERFACE_TEXT)).split())
    assert [m for m in english if words_in(m, text)] == []
    assert sorted(m for lang, m in i18n.MISSING if lang == language) == []


async def test_a_review_page_downloads_its_own_contributions(page, pages_service, compiled):
    await page.goto(f"{pages_service.base_url}/ru/reviews/asia-pacific-2024-2025")
    async with page.expect_download() as download:
        await page.get_by_role("link", name="CSV").click()
    text = (await (await download.value).path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["contribution_id"] for r in rows) == sorted([compiled["nepal"], compiled["hostile"]])
    await page.get_by_role("link", name="Версия для печати").click()
    await page.wait_for_url(re.compile(r"/ru/compilation\?region=asia-pacific&cycle=2024-2025$"))
    assert await page.locator("article.compiled").count() == 2
