"""The working groups' public pages in Chromium: the list, one page per group with its outputs and pilots.

The registry service runs beside the reviews service on the module's NATS, as deployed; the
pages are built from the reviews service's own mirror of the registry's events.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime

import pytest

from mignet_contracts import registry as r
from mignet_contracts import working_groups as wg
from mignet_contracts.envelope import new_id
from mignet_registry import seed
from mignet_registry.app import SPEC as REGISTRY
from mignet_reviews import i18n
from mignet_runtime.settings import Settings

from .support import RunningService, eventually
from .translation_checks import INTERFACE_TEXT, english_messages, words_in

ACTOR = "test:e2e"
FOCAL_POINT_EMAIL = "wg.focal.point@example.org"
HOSTILE = "<script>window.pwned=1</script>"
HOSTILE_GROUP = f"Group {HOSTILE} name"
HOSTILE_OUTPUT = f"Toolkit <img src=x onerror=window.pwned=2> {HOSTILE}"
HOSTILE_ORGANIZATION = f"Org {HOSTILE}"
TOOLKIT = "Toolkit on migration data for country networks"


@pytest.fixture(scope="module")
async def registry(servers, module_nats, pages_service):
    settings = Settings(
        nats_url=module_nats,
        mongodb_url=servers.mongodb_url,
        db_prefix="e2e" + uuid.uuid4().hex[:8],
        startup_timeout=20,
    )
    async with RunningService(REGISTRY, settings) as service:
        client = service.client

        async def send(command_class, **fields):
            return await client.command(command_class(command_id=new_id(), actor=ACTOR, **fields))

        await seed.load(client)  # the global Network, the 14 champions and the FAQ's nine working groups
        await send(
            r.CreateNetwork,
            scope="national",
            country="BD",
            network_name="UN Network on Migration in Bangladesh",
            status="established",
            members=[{"entity": "IOM"}],
            occurred_on=date(2019, 6, 1),
        )
        await send(
            r.AssignFocalPoint, network_id="nat-bd", focal_point_name="F. Point", entity="IOM", email=FOCAL_POINT_EMAIL
        )
        await send(wg.JoinWorkingGroup, group_id="data", member={"kind": "un-entity", "entity": "UNDESA"}, lead=True)
        await send(wg.JoinWorkingGroup, group_id="data", member={"kind": "un-entity", "entity": "IOM"}, lead=True)
        await send(
            wg.JoinWorkingGroup,
            group_id="data",
            member={"kind": "stakeholder", "category": "academia", "organization": "Migration Data University"},
        )
        toolkit = new_id()
        await client.command(wg.AddOutput(command_id=toolkit, actor=ACTOR, group_id="data", kind="tool", title=TOOLKIT))
        await send(wg.ChangeOutputStatus, group_id="data", output_id=wg.output_id(toolkit), status="published")
        await send(wg.PilotOutput, group_id="data", output_id=wg.output_id(toolkit), network_id="nat-bd")
        await send(wg.AddOutput, group_id="data", kind="analysis", title="Analysis of data gaps")

        await send(wg.CreateWorkingGroup, group_id="hostile", group_name=HOSTILE_GROUP, workstream="data")
        await send(
            wg.JoinWorkingGroup,
            group_id="hostile",
            member={"kind": "stakeholder", "category": "civil-society", "organization": HOSTILE_ORGANIZATION},
            lead=True,
        )
        await send(wg.AddOutput, group_id="hostile", kind="guidance", title=HOSTILE_OUTPUT, description=HOSTILE)
        yield service


async def _mirrored(page, base: str) -> None:
    """Waits until the mirror holds the fixture's last events: both outputs of data, the hostile group's output."""

    async def ready():
        await page.goto(f"{base}/working-groups/hostile")
        if await page.locator("section.output").count() != 1:
            return False
        await page.goto(f"{base}/working-groups/data")
        return await page.locator("section.output").count() == 2

    await eventually(ready)


async def test_the_list_shows_the_faqs_groups_core_first_and_is_linked_from_index_and_directory(
    page, pages_service, registry
):
    base = pages_service.base_url
    await page.goto(f"{base}/en/")
    await page.locator(".see-also").get_by_role("link", name="Working groups").click()
    await page.wait_for_url(f"{base}/en/working-groups")
    await _mirrored(page, f"{base}/en")
    await page.goto(f"{base}/en/working-groups")
    core = page.locator('section[aria-labelledby="core-heading"] tbody tr')
    assert await core.evaluate_all("rows => rows.map(r => r.dataset.group)") == [
        "knowledge-platform",
        "un-system-wide-implementation",
        "national-implementation-plans",
    ]
    thematic = page.locator('section[aria-labelledby="thematic-heading"] tbody tr')
    assert await thematic.count() == 7  # the FAQ's six, and one more
    data = page.locator('tr[data-group="data"]')
    assert [" ".join(t.split()) for t in await data.locator("th, td").all_text_contents()] == [
        "Data",
        "Data",
        "IOM, UNDESA",
        "3",
        "2",
        "1",
    ]
    assert "A core priority of the workplan" in await page.locator('tr[data-group="knowledge-platform"]').text_content()

    await page.goto(f"{base}/en/directory")
    await page.get_by_role("link", name="The working groups' outputs and the networks that pilot them").click()
    await page.wait_for_url(f"{base}/en/working-groups")


async def test_a_groups_page_shows_its_members_outputs_and_pilots_and_no_focal_point(page, pages_service, registry):
    await _mirrored(page, f"{pages_service.base_url}/en")
    await page.goto(f"{pages_service.base_url}/en/working-groups")
    await page.locator('tr[data-group="data"] a').click()
    await page.wait_for_url(f"{pages_service.base_url}/en/working-groups/data")
    assert await page.get_by_role("heading", level=1).text_content() == "Data"
    assert await page.locator('[data-fact="leads"]').text_content() == "IOM, UNDESA"
    assert await page.locator('ul[data-kind="un-entity"] li').all_text_contents() == ["IOM lead", "UNDESA lead"]
    assert await page.locator('ul[data-kind="stakeholder"] li').all_text_contents() == [
        "Migration Data University (Academia)"
    ]
    toolkit = page.locator("section.output").filter(has_text=TOOLKIT)
    today = datetime.now(UTC).date()
    assert await toolkit.locator(".meta").text_content() == f"Tool, published since {today.day} {today:%B %Y}"
    pilot = toolkit.locator('tr[data-network="nat-bd"]')
    assert [" ".join(t.split()) for t in await pilot.locator("th, td").all_text_contents()] == [
        "UN Network on Migration in Bangladesh",
        "Bangladesh",
        f"{today.day} {today:%B %Y}",
        "ongoing",
    ]
    analysis = page.locator("section.output").filter(has_text="Analysis of data gaps")
    assert "Analysis, draft since" in await analysis.locator(".meta").text_content()
    assert "No network has piloted it yet." in await analysis.text_content()
    content = await page.content()
    assert FOCAL_POINT_EMAIL not in content and "F. Point" not in content


async def test_the_directory_shows_each_networks_pilots_on_the_day(page, pages_service, registry):
    base = pages_service.base_url
    await _mirrored(page, f"{base}/en")
    await page.goto(f"{base}/en/directory")
    pilot = page.locator('tr[data-network="nat-bd"] .pilots li')
    assert await pilot.text_content() == f"Piloting {TOOLKIT}, from the working group Data"
    await pilot.get_by_role("link").click()
    await page.wait_for_url(re.compile(r"/en/working-groups/data#o-[0-9a-f]{12}$"))
    assert await page.locator("section.output:target h3").text_content() == TOOLKIT

    await page.goto(f"{base}/en/directory?as_of=2020-10-31")  # before the pilot started
    assert await page.locator('tr[data-network="nat-bd"]').count() == 1
    assert await page.locator(".pilots").count() == 0


async def test_arabic_working_group_pages_are_right_to_left_and_use_the_faqs_terms(page, pages_service, registry):
    await _mirrored(page, f"{pages_service.base_url}/ar")
    await page.goto(f"{pages_service.base_url}/ar/working-groups")
    assert await page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    for selector in ("body", "main", "table"):
        assert await page.locator(selector).first.evaluate("e => getComputedStyle(e).direction") == "rtl", selector
    cells = page.locator("table thead th")
    first, last = await cells.first.bounding_box(), await cells.last.bounding_box()
    assert first["x"] > last["x"], "the first column is the rightmost one"
    assert await page.get_by_role("heading", level=1).text_content() == "الأفرقة العاملة التابعة للشبكة"
    assert await page.get_by_role("link", name="منصة المعارف ومركز الاتصال").count() == 1
    assert await page.get_by_role("link", name="المسارات النظامية للمهاجرين في أوضاع هشّة").count() == 1

    await page.goto(f"{pages_service.base_url}/ar/working-groups/data")
    assert await page.get_by_role("heading", level=1).text_content() == "البيانات"
    toolkit = page.locator("section.output").filter(has_text=TOOLKIT)
    assert (await toolkit.locator(".meta").text_content()).startswith("أداة، منشور منذ")
    assert "بنغلاديش" in await toolkit.locator('tr[data-network="nat-bd"]').text_content()


@pytest.mark.parametrize("language", i18n.LANGUAGES)
async def test_hostile_names_stay_text_and_every_string_is_translated(page, pages_service, registry, language):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    base = f"{pages_service.base_url}/{language}"
    await _mirrored(page, base)
    english = english_messages(language) if language != i18n.SOURCE_LANGUAGE else []
    paths = ["/working-groups", "/working-groups/data", "/working-groups/no-such-group", "/working-groups/Bad%20Id"]
    for path in [*paths, "/working-groups/hostile"]:
        response = await page.goto(base + path)
        assert response.status == (404 if "no-such" in path or "Bad" in path else 200), path
        text = " ".join((await page.evaluate(INTERFACE_TEXT)).split())
        untranslated = [m for m in english if words_in(m, text)]
        assert untranslated == [], f"{language}{path} shows English: {untranslated}"
        assert await page.locator("script, main img").count() == 0
        assert await page.evaluate("typeof window.pwned") == "undefined"
    # The hostile group's own page (the last one): every name is shown as the text it is.
    assert await page.get_by_role("heading", level=1).text_content() == HOSTILE_GROUP
    assert HOSTILE_GROUP in await page.title()
    assert await page.locator("section.output h3").text_content() == HOSTILE_OUTPUT
    assert await page.locator("section.output .text").text_content() == HOSTILE
    assert HOSTILE_ORGANIZATION in await page.locator('[data-fact="leads"]').text_content()
    assert HOSTILE_ORGANIZATION in await page.locator('ul[data-kind="stakeholder"] li').text_content()
    assert sorted(m for lang, m in i18n.MISSING if lang == language) == []
    assert errors == []


@pytest.mark.parametrize("path", ["/ar/working-groups", "/ar/working-groups/data", "/en/working-groups/hostile"])
async def test_the_pages_fit_a_390_pixel_phone(browser, pages_service, registry, path):
    context = await browser.new_context(viewport={"width": 390, "height": 900})
    try:
        tab = await context.new_page()
        await _mirrored(tab, f"{pages_service.base_url}/en")
        await tab.goto(pages_service.base_url + path)
        overflow = await tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow == 0, f"{path} is {overflow}px wider than the phone"
    finally:
        await context.close()
