"""The public pages in the six UN languages, in a real headless Chromium.

Arabic pages are right-to-left in their whole layout; every interface string of
every language comes from its catalog (a missing entry fails here); contributed
text keeps its own language; escaping holds in every language.
"""

from __future__ import annotations

import re

import pytest

from mignet_contracts import reviews as c
from mignet_contracts.envelope import new_id
from mignet_reviews import i18n

from .support import eventually
from .translation_checks import INTERFACE_TEXT, english_messages, words_in

ACTOR = "test:e2e"
AP = "asia-pacific-2024-2025"
HOSTILE = "<script>window.pwned=1</script>"
CONTACT = {"name": "Private Person", "email": "private.person@example.org"}


@pytest.fixture(scope="module")
async def published(pages_service) -> dict[str, str]:
    client = pages_service.client
    await client.command(
        c.ScheduleReview(
            command_id=new_id(),
            actor=ACTOR,
            region="asia-pacific",
            cycle="2024-2025",
            meeting_start="2025-02-04",
            meeting_end="2025-02-06",
        )
    )
    await client.command(c.OpenReview(command_id=new_id(), actor=ACTOR, review_id=AP))
    contributions = {
        "english": c.SubmitContribution(
            command_id=new_id(),
            actor=ACTOR,
            review_id=AP,
            contributor={"kind": "stakeholder", "category": "academia", "organization": "Test University"},
            level="national",
            title=f"Hostile {HOSTILE} title",
            summary=f"Summary with {HOSTILE} inside",
            body="An English body.",
            objectives=[7, 13],
            guiding_principles=["human-rights"],
            language="en",
            contact=CONTACT,
        ),
        "arabic": c.SubmitContribution(
            command_id=new_id(),
            actor=ACTOR,
            review_id=AP,
            contributor={"kind": "member-state", "country": "BD"},
            level="national",
            title="مساهمة بنغلاديش في الاستعراض الإقليمي",
            summary="ملخص المساهمة",
            objectives=[1],
            language="ar",
            contact=CONTACT,
        ),
    }
    ids = {key: (await client.command(command)).aggregate_id for key, command in contributions.items()}
    for contribution_id in ids.values():
        await client.command(c.PublishContribution(command_id=new_id(), actor=ACTOR, contribution_id=contribution_id))

    async def settled():
        return (await client.query(c.ReviewFigures(review_id=AP)))["by_status"] == {"published": 2}

    await eventually(settled)
    return ids


async def test_arabic_pages_are_right_to_left_in_their_whole_layout(page, pages_service, published):
    await page.goto(f"{pages_service.base_url}/ar/")
    assert await page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    for selector in ("body", "header", "main", "table", "footer"):
        direction = await page.locator(selector).first.evaluate("e => getComputedStyle(e).direction")
        assert direction == "rtl", selector
    width = await page.evaluate("document.documentElement.clientWidth")
    brand = await page.locator(".brand a").bounding_box()
    assert brand["x"] + brand["width"] > width * 0.6, "the title starts on the right"
    cells = page.locator("table thead th")
    first, last = await cells.first.bounding_box(), await cells.last.bounding_box()
    assert first["x"] > last["x"], "the first column is the rightmost one"
    assert await page.get_by_role("heading", level=1).text_content() == (
        "الاستعراضات الإقليمية للاتفاق العالمي من أجل الهجرة"
    )
    assert await page.get_by_role("link", name="آسيا والمحيط الهادئ").count() == 1

    # The same layout in English is left-to-right: the first column is the leftmost.
    await page.goto(f"{pages_service.base_url}/en/")
    assert await page.locator("body").evaluate("e => getComputedStyle(e).direction") == "ltr"
    first, last = await cells.first.bounding_box(), await cells.last.bounding_box()
    assert first["x"] < last["x"]


async def test_contributed_text_keeps_its_own_language_and_direction(page, pages_service, published):
    await page.goto(f"{pages_service.base_url}/ar/reviews/{AP}")
    english = page.locator(f'li[data-contribution-id="{published["english"]}"] h3')
    assert await english.get_attribute("lang") == "en"
    assert await english.evaluate("e => getComputedStyle(e).direction") == "ltr"

    await page.goto(f"{pages_service.base_url}/en/contributions/{published['arabic']}")
    title = page.get_by_role("heading", level=1)
    assert await title.get_attribute("lang") == "ar"
    assert await title.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert await page.evaluate("document.documentElement.dir") == "ltr"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
async def test_every_interface_string_is_translated(page, pages_service, published, language):
    base = f"{pages_service.base_url}/{language}"
    paths = ["/", f"/reviews/{AP}", f"/contributions/{published['english']}", f"/contributions/{published['arabic']}"]
    paths += [f"/reviews/{AP}?objective=99", "/no-such-page"]
    english = english_messages(language) if language != i18n.SOURCE_LANGUAGE else []
    for path in paths:
        await page.goto(base + path)
        assert await page.evaluate("document.documentElement.lang") == language
        text = " ".join((await page.evaluate(INTERFACE_TEXT)).split())
        untranslated = [m for m in english if words_in(m, text)]
        assert untranslated == [], f"{language}{path} shows English: {untranslated}"
    assert sorted(m for lang, m in i18n.MISSING if lang == language) == []


@pytest.mark.parametrize("language", i18n.LANGUAGES)
async def test_contributed_markup_stays_text_in_every_language(page, pages_service, published, language):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    for path in (f"/reviews/{AP}", f"/contributions/{published['english']}"):
        await page.goto(f"{pages_service.base_url}/{language}{path}")
        assert await page.get_by_text(f"Hostile {HOSTILE} title").count() >= 1
        assert await page.locator("script").count() == 0
        assert await page.evaluate("typeof window.pwned") == "undefined"
        assert CONTACT["email"] not in await page.content()
    assert errors == []


async def test_the_language_switcher_keeps_the_page_and_its_filters(page, pages_service, published):
    await page.goto(f"{pages_service.base_url}/en/reviews/{AP}?objective=7")
    await page.get_by_role("link", name="Français").click()
    await page.wait_for_url(re.compile(rf"/fr/reviews/{AP}\?objective=7$"))
    assert await page.evaluate("document.documentElement.lang") == "fr"
    assert await page.locator("#objective").input_value() == "7"
    assert await page.get_by_role("heading", level=1).text_content() == (
        "Examen régional du Pacte mondial, Asie et Pacifique, 2024-2025"
    )
    current = page.locator('.languages a[aria-current="true"]')
    assert await current.text_content() == "Français"


@pytest.mark.parametrize(("accept", "language"), [("ru-RU,ru;q=0.9,en;q=0.8", "ru"), ("de-DE,de;q=0.9", "en")])
async def test_an_address_without_a_language_follows_accept_language(
    browser, pages_service, published, accept, language
):
    context = await browser.new_context(extra_http_headers={"Accept-Language": accept})
    try:
        tab = await context.new_page()
        await tab.goto(f"{pages_service.base_url}/reviews/{AP}")
        assert tab.url == f"{pages_service.base_url}/{language}/reviews/{AP}"
        assert await tab.evaluate("document.documentElement.lang") == language
    finally:
        await context.close()
