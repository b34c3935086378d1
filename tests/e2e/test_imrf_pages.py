"""Contributions to the IMRF itself on the public pages, in Chromium: their own page, the contribution page,
the index, and the compilation (view, filter, CSV and JSON) beside the regional reviews' contributions."""

from __future__ import annotations

import csv
import io
import json

import pytest

from mignet_contracts import reviews as c
from mignet_contracts.envelope import new_id
from mignet_reviews import i18n

from .support import eventually
from .translation_checks import INTERFACE_TEXT, english_messages, words_in

ACTOR = "test:e2e"
CONTACT = {"name": "Private Person", "email": "private.person@example.org"}
HOSTILE = "<script>window.pwned=1</script>"
AP = "asia-pacific-2024-2025"
TO_THE_FORUM = f"Decent work {HOSTILE} for migrant workers"


def submission(title: str, contributor: dict, **where: str) -> c.SubmitContribution:
    return c.SubmitContribution(
        command_id=new_id(),
        actor=ACTOR,
        contributor=contributor,
        level="global",
        title=title,
        summary=f"Summary of {title}",
        objectives=[6],
        language="en",
        contact=CONTACT,
        **where,
    )


@pytest.fixture(scope="module")
async def contributed(pages_service) -> dict[str, str]:
    client = pages_service.client
    await client.command(c.ScheduleReview(command_id=new_id(), actor=ACTOR, region="asia-pacific", cycle="2024-2025"))
    await client.command(c.OpenReview(command_id=new_id(), actor=ACTOR, review_id=AP))
    union = {"kind": "stakeholder", "category": "trade-unions", "organization": "ITUC"}
    commands = {
        "regional": submission("Nepal: national review", {"kind": "member-state", "country": "NP"}, review_id=AP),
        "forum": submission(TO_THE_FORUM, union, imrf="imrf-2026"),
        "pending": submission("Still in moderation", union, imrf="imrf-2026"),
    }
    ids = {key: (await client.command(command)).aggregate_id for key, command in commands.items()}
    for key in ("regional", "forum"):
        await client.command(c.PublishContribution(command_id=new_id(), actor=ACTOR, contribution_id=ids[key]))

    async def settled():
        return (await client.query(c.Compilation()))["total"] == 2

    await eventually(settled)
    return ids


async def test_the_forums_own_page_lists_what_was_published_to_it(page, pages_service, contributed):
    base = pages_service.base_url
    await page.goto(f"{base}/en/")
    forum = page.locator('li[data-imrf="imrf-2026"]')
    assert " ".join((await forum.text_content()).split()) == "IMRF 2026: 1 published contribution."
    assert await page.locator('li[data-imrf="imrf-2022"]').count() == 0  # no review informs it, nobody contributed
    await forum.get_by_role("link").click()
    await page.wait_for_url(f"{base}/en/imrf/imrf-2026")
    assert await page.get_by_role("status").text_content() == "1 published contribution."
    items = page.locator("li.contribution")
    assert await items.count() == 1
    assert await items.locator("h3").text_content() == TO_THE_FORUM  # markup shown as text
    assert "ITUC (Trade unions)" in await items.locator(".meta").text_content()
    assert "Still in moderation" not in await page.content() and CONTACT["email"] not in await page.content()

    await items.locator("h3 a").click()
    await page.wait_for_url(f"{base}/en/contributions/{contributed['forum']}")
    assert await page.locator(".lead").text_content() == (
        "A contribution to the International Migration Review Forum of 2026 itself, outside the regional reviews."
    )
    assert await page.locator(".breadcrumb").get_by_role("link", name="IMRF 2026").get_attribute("href") == (
        "/en/imrf/imrf-2026"
    )
    assert await page.locator("script").count() == 0 and await page.evaluate("typeof window.pwned") == "undefined"


@pytest.mark.parametrize("path", ["/en/imrf/imrf-2024", "/en/imrf/imrf-2026x", "/en/imrf/2026"])
async def test_a_forum_that_does_not_meet_is_not_found(page, pages_service, path):
    response = await page.goto(pages_service.base_url + path)
    assert response.status == 404


async def test_an_unpublished_contribution_to_the_forum_is_not_found(page, pages_service, contributed):
    response = await page.goto(f"{pages_service.base_url}/en/contributions/{contributed['pending']}")
    assert response.status == 404


async def test_the_compilation_holds_the_forums_contributions_beside_the_regional_ones(
    page, pages_service, contributed
):
    base = pages_service.base_url
    await page.goto(f"{base}/en/compilation")
    assert await page.locator("article.compiled").count() == 2
    assert await page.locator('tr[data-region="imrf"] th').text_content() == "To the Forum itself"
    forum = page.locator(f'article[data-contribution-id="{contributed["forum"]}"] .meta')
    assert "To the IMRF 2026 itself" in await forum.text_content()

    await page.select_option("#imrf", "imrf-2026")
    await page.get_by_role("button", name="Apply filters").click()
    await page.wait_for_url(f"{base}/en/compilation?imrf=imrf-2026&region=&cycle=&objective=&contributor=")
    assert await page.locator("article.compiled").count() == 2  # the forum's, and the cycle before's review

    async with page.expect_download() as download_info:
        await page.locator(".downloads").get_by_role("link", name="CSV").click()
    path = await (await download_info.value).path()
    rows = list(csv.DictReader(io.StringIO(open(path, encoding="utf-8-sig").read())))  # noqa: SIM115
    by_id = {row["contribution_id"]: row for row in rows}
    assert set(by_id) == {contributed["forum"], contributed["regional"]}
    to_forum = by_id[contributed["forum"]]
    assert (to_forum["imrf"], to_forum["review_id"], to_forum["region"], to_forum["cycle"]) == ("imrf-2026", "", "", "")
    assert by_id[contributed["regional"]]["imrf"] == "imrf-2026"

    response = await page.request.get(f"{base}/en/compilation.json?imrf=imrf-2022")
    assert json.loads(await response.body())["total"] == 0
    response = await page.request.get(f"{base}/en/compilation.json?imrf=imrf-2025")
    assert response.status == 400


async def test_arabic_forum_page_is_right_to_left(page, pages_service, contributed):
    await page.goto(f"{pages_service.base_url}/ar/imrf/imrf-2026")
    assert await page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    assert await page.locator("main").evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert await page.get_by_role("heading", level=1).text_content() == (
        "المساهمات المقدَّمة إلى المنتدى الدولي لاستعراض الهجرة لعام 2026"
    )
    title = page.locator("li.contribution h3")
    assert await title.get_attribute("lang") == "en"
    assert await title.evaluate("e => getComputedStyle(e).direction") == "ltr"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
async def test_the_forums_pages_are_translated_and_escaped_in_every_language(
    page, pages_service, contributed, language
):
    base = f"{pages_service.base_url}/{language}"
    english = english_messages(language) if language != i18n.SOURCE_LANGUAGE else []
    for path in ("/", "/imrf/imrf-2026", f"/contributions/{contributed['forum']}", "/compilation"):
        await page.goto(base + path)
        text = " ".join((await page.evaluate(INTERFACE_TEXT)).split())
        untranslated = [m for m in english if words_in(m, text)]
        assert untranslated == [], f"{language}{path} shows English: {untranslated}"
        assert await page.locator("script").count() == 0
        assert await page.evaluate("typeof window.pwned") == "undefined"
    assert sorted(m for lang, m in i18n.MISSING if lang == language) == []


@pytest.mark.parametrize("path", ["/ar/imrf/imrf-2026", "/ar/compilation?imrf=imrf-2026"])
async def test_the_forums_pages_fit_a_390_pixel_phone(browser, pages_service, contributed, path):
    context = await browser.new_context(viewport={"width": 390, "height": 900})
    try:
        tab = await context.new_page()
        await tab.goto(pages_service.base_url + path)
        overflow = await tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow == 0, f"{path} is {overflow}px wider than the phone"
    finally:
        await context.close()
