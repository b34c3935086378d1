"""The public regional pages in a real headless Chromium: navigation, moderation, escaping, filters."""

from __future__ import annotations

import re

import pytest

from mignet_contracts import reviews as c
from mignet_contracts.envelope import new_id

from .support import eventually

ACTOR = "test:e2e"
AP = "asia-pacific-2024-2025"
CONTACT = {"name": "Private Person", "email": "private.person@example.org"}
HOSTILE = "<script>window.pwned=1</script>"


def submission(title: str, contributor: dict, objectives: list[int], **fields) -> c.SubmitContribution:
    return c.SubmitContribution(
        command_id=new_id(),
        actor=ACTOR,
        review_id=AP,
        contributor=contributor,
        level="national",
        title=title,
        summary=f"Summary of {title}",
        objectives=objectives,
        language="en",
        contact=CONTACT,
        **fields,
    )


@pytest.fixture(scope="module")
async def contributions(pages_service) -> dict[str, str]:
    """One review with published, pending and rejected contributions; returns title key -> id."""
    client = pages_service.client
    await client.command(
        c.ScheduleReview(
            command_id=new_id(),
            actor=ACTOR,
            region="asia-pacific",
            cycle="2024-2025",
            meeting_start="2025-02-04",
            meeting_end="2025-02-06",
            venue="Bangkok",
        )
    )
    await client.command(c.OpenReview(command_id=new_id(), actor=ACTOR, review_id=AP))
    commands = {
        "bangladesh": submission(
            "Bangladesh: national review of the GCM",
            {"kind": "member-state", "country": "BD"},
            [1, 5],
            links=["https://example.org/bangladesh-report"],
        ),
        "forum": submission(
            "Migrant Forum in Asia: written input",
            {"kind": "stakeholder", "category": "migrant-diaspora", "organization": "Migrant Forum in Asia"},
            [7],
        ),
        "hostile": submission(
            f"Hostile {HOSTILE} title",
            {"kind": "stakeholder", "category": "academia", "organization": "Test University"},
            [18],
            body=f"Body with {HOSTILE} inside",
        ),
        "pending": submission(
            "Pending contribution awaiting moderation", {"kind": "member-state", "country": "TH"}, [7]
        ),
        "rejected": submission("Rejected contribution", {"kind": "member-state", "country": "NP"}, [7]),
    }
    ids = {key: (await client.command(command)).aggregate_id for key, command in commands.items()}
    for key in ("bangladesh", "forum", "hostile"):
        await client.command(c.PublishContribution(command_id=new_id(), actor=ACTOR, contribution_id=ids[key]))
    await client.command(
        c.RejectContribution(command_id=new_id(), actor=ACTOR, contribution_id=ids["rejected"], reason="Spam.")
    )

    async def settled():
        found = await client.query(c.ReviewFigures(review_id=AP))
        return found["by_status"] == {"published": 3, "rejected": 1, "submitted": 1}

    await eventually(settled)
    return ids


async def test_a_published_contribution_is_listed_and_opens_by_clicking(page, pages_service, contributions):
    await page.goto(pages_service.base_url + "/")
    await page.get_by_role("link", name="Asia and the Pacific").click()
    await page.wait_for_url(re.compile(f"/reviews/{AP}$"))
    assert await page.get_by_role("heading", level=1).text_content() == (
        "Regional review of the GCM in Asia and the Pacific, 2024-2025"
    )

    await page.get_by_role("link", name="Bangladesh: national review of the GCM").click()
    await page.wait_for_url(re.compile(f"/contributions/{contributions['bangladesh']}$"))
    assert await page.get_by_role("heading", level=1).text_content() == "Bangladesh: national review of the GCM"
    facts = page.locator("dl.facts").first
    assert "Member state" in await facts.text_content()
    assert "5. Regular pathways" in await facts.text_content()
    link = page.get_by_role("link", name="https://example.org/bangladesh-report")
    assert await link.get_attribute("rel") == "nofollow noopener noreferrer ugc"
    assert await page.locator('[data-fact="network"]').text_content() == "None recorded"
    footer = await page.locator("footer").text_content()
    assert "regional page for the 2024-2025 regional review" in " ".join(footer.split())
    assert CONTACT["email"] not in await page.content()


async def test_unpublished_contributions_appear_nowhere(page, pages_service, contributions):
    await page.goto(f"{pages_service.base_url}/reviews/{AP}")
    listed = page.locator("li.contribution")
    assert await listed.count() == 3
    text = await page.locator("main").text_content()
    assert "Pending contribution" not in text and "Rejected contribution" not in text
    for key in ("pending", "rejected"):
        response = await page.goto(f"{pages_service.base_url}/contributions/{contributions[key]}")
        assert response.status == 404
        assert await page.get_by_role("heading", level=1).text_content() == "Page not found"


async def test_contributed_markup_renders_as_text_and_never_runs(page, pages_service, contributions):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{pages_service.base_url}/reviews/{AP}")
    assert await page.get_by_role("link", name=f"Hostile {HOSTILE} title").count() == 1
    await page.get_by_role("link", name=f"Hostile {HOSTILE} title").click()
    await page.wait_for_url(re.compile(f"/contributions/{contributions['hostile']}$"))
    assert await page.get_by_role("heading", level=1).text_content() == f"Hostile {HOSTILE} title"
    assert f"Body with {HOSTILE} inside" in await page.locator("section .text").nth(1).text_content()
    assert await page.locator("script").count() == 0
    assert await page.evaluate("typeof window.pwned") == "undefined"
    assert errors == []


async def test_the_objective_and_contributor_filters(page, pages_service, contributions):
    await page.goto(f"{pages_service.base_url}/reviews/{AP}")
    await page.select_option("#objective", "7")
    await page.get_by_role("button", name="Apply filters").click()
    await page.wait_for_url(re.compile(r"objective=7"))
    titles = await page.locator("li.contribution h3").all_text_contents()
    assert titles == ["Migrant Forum in Asia: written input"]  # the pending Thai one (also objective 7) is not shown
    assert "1 published contribution matches the filters" in await page.get_by_role("status").text_content()

    await page.select_option("#objective", "")
    await page.select_option("#contributor", "member-state")
    await page.get_by_role("button", name="Apply filters").click()
    await page.wait_for_url(re.compile(r"contributor=member-state"))
    assert await page.locator("li.contribution h3").all_text_contents() == ["Bangladesh: national review of the GCM"]

    await page.get_by_role("link", name="Clear filters").click()
    await page.wait_for_url(re.compile(f"/reviews/{AP}$"))
    assert await page.locator("li.contribution").count() == 3


PHONE_PATHS = ["/", f"/reviews/{AP}", "/contributions/{bangladesh}"]
PHONE_PATHS += ["/ar/", f"/ar/reviews/{AP}", "/ar/contributions/{bangladesh}", "/ar/directory", "/ru/compilation"]


@pytest.mark.parametrize("path", PHONE_PATHS)
async def test_pages_fit_a_390_pixel_phone_without_horizontal_scrolling(browser, pages_service, contributions, path):
    context = await browser.new_context(viewport={"width": 390, "height": 900})
    try:
        tab = await context.new_page()
        await tab.goto(pages_service.base_url + path.format(**contributions))
        overflow = await tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow == 0, f"{path} is {overflow}px wider than the phone"
        for box in await tab.locator(".filters, .filters select").all():
            right = await box.evaluate("e => e.getBoundingClientRect().right")
            assert right <= 390, f"{await box.evaluate('e => e.outerHTML.slice(0, 60)')} ends at {right}px"
    finally:
        await context.close()


async def test_the_permissions_policy_header_denies_every_feature(page, pages_service):
    response = await page.goto(pages_service.base_url + "/")
    policy = (await response.all_headers())["permissions-policy"]
    assert "camera=()" in policy and "geolocation=()" in policy and "microphone=()" in policy
    assert (
        await page.evaluate("document.featurePolicy ? document.featurePolicy.allowsFeature('camera') : false") is False
    )
