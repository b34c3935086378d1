"""The public directory page in Chromium: networks by region and status, champions by group, as of a date.

The registry service runs beside the reviews service on the module's NATS, as deployed; the
directory is built from the reviews service's own mirror of the registry's events.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime

import pytest

from mignet_contracts import registry as r
from mignet_contracts.envelope import new_id
from mignet_registry import seed
from mignet_registry.app import SPEC as REGISTRY
from mignet_reviews import i18n
from mignet_runtime.settings import Settings

from .support import RunningService, eventually
from .translation_checks import INTERFACE_TEXT, english_messages, words_in

ACTOR = "test:e2e"
FOCAL_POINT_EMAIL = "focal.point.private@example.org"
ASIA_PACIFIC_CHAMPIONS = ["BD", "ID", "NP", "PH", "TH"]


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
        await seed.load(client)  # the global Network and the 14 champions of October 2020
        await client.command(
            r.CreateNetwork(
                command_id=new_id(),
                actor=ACTOR,
                scope="national",
                country="BD",
                network_name="UN Network on Migration in Bangladesh",
                status="under-consideration",
                members=[{"entity": "IOM"}],
                occurred_on=date(2019, 6, 1),
            )
        )
        await client.command(
            r.AssignFocalPoint(
                command_id=new_id(),
                actor=ACTOR,
                network_id="nat-bd",
                focal_point_name="F. Point",
                entity="IOM",
                email=FOCAL_POINT_EMAIL,
            )
        )
        await client.command(
            r.ChangeNetworkStatus(
                command_id=new_id(),
                actor=ACTOR,
                network_id="nat-bd",
                status="established",
                occurred_on=date(2021, 3, 1),
            )
        )
        await client.command(
            r.CreateNetwork(
                command_id=new_id(),
                actor=ACTOR,
                scope="regional",
                region="asia-pacific",
                network_name="Asia-Pacific <b>Regional</b> UN Network on Migration",
                status="established",
                occurred_on=date(2022, 1, 10),
            )
        )
        yield service


async def test_the_directory_as_of_october_2020_lists_the_14_champions(page, pages_service, registry):
    url = f"{pages_service.base_url}/en/directory?as_of=2020-10-31"

    async def mirrored():
        await page.goto(url)
        return await page.locator("ul.champions li").count() == 14

    await eventually(mirrored)
    assert await page.get_by_role("status").text_content() == "The directory as of 31 October 2020."
    asia = page.locator('[data-group="asia-pacific"] li')
    assert sorted(await asia.evaluate_all("items => items.map(i => i.dataset.country)")) == ASIA_PACIFIC_CHAMPIONS
    assert await page.locator('[data-group="asia-pacific"] h3').text_content() == "Asia/Pacific"
    assert "14 champion countries" in await page.locator("#champions-heading + p").text_content()
    # Bangladesh's network was under consideration then; the regional network did not exist yet.
    row = page.locator('tr[data-network="nat-bd"]')
    assert "under consideration" in await row.text_content()
    assert await page.locator('tr[data-network^="reg-"]').count() == 0
    assert (
        await page.locator('tr[data-region="asia-pacific"] td[data-status="under-consideration"]').text_content() == "1"
    )

    await page.goto(f"{pages_service.base_url}/ar/directory?as_of=2020-10-31")
    assert await page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    assert await page.locator("ul.champions li").count() == 14
    assert await page.locator('[data-group="asia-pacific"] h3').text_content() == "آسيا/المحيط الهادئ"
    assert "بنغلاديش" in await page.locator('[data-group="asia-pacific"]').text_content()


async def test_the_directory_today_by_the_form_and_without_focal_points(page, pages_service, registry):
    async def mirrored():
        await page.goto(f"{pages_service.base_url}/en/directory")
        return await page.locator('tr[data-network^="reg-"]').count() == 1

    await eventually(mirrored)
    assert await page.locator("#as_of").input_value() == datetime.now(UTC).date().isoformat()
    assert "established" in await page.locator('tr[data-network="nat-bd"]').text_content()
    assert await page.locator('tr[data-region="asia-pacific"] td[data-status="established"]').text_content() == "2"
    # A name as recorded, markup and all, is text.
    assert await page.get_by_text("Asia-Pacific <b>Regional</b> UN Network on Migration").count() == 1
    assert await page.locator("main b").count() == 0
    content = await page.content()
    assert FOCAL_POINT_EMAIL not in content and "F. Point" not in content

    await page.locator("#as_of").fill("2020-10-31")
    await page.get_by_role("button", name="Show the directory").click()
    await page.wait_for_url(re.compile(r"/en/directory\?as_of=2020-10-31$"))
    assert await page.locator('tr[data-network^="reg-"]').count() == 0
    await page.get_by_role("link", name="Today").click()
    await page.wait_for_url(re.compile(r"/en/directory$"))


@pytest.mark.parametrize("value", ["2999-01-01", "2017-06-01", "yesterday"])
async def test_a_date_outside_the_networks_life_is_refused_with_a_page(page, pages_service, value):
    response = await page.goto(f"{pages_service.base_url}/fr/directory?as_of={value}")
    assert response.status == 400
    assert await page.get_by_role("heading", level=1).text_content() == "Cette date ne peut pas être affichée"
    assert value not in await page.locator("main").text_content()


@pytest.mark.parametrize("language", i18n.LANGUAGES)
async def test_the_directory_is_translated_in_every_language(page, pages_service, registry, language):
    await page.goto(f"{pages_service.base_url}/{language}/directory?as_of=2022-06-01")
    english = english_messages(language) if language != i18n.SOURCE_LANGUAGE else []
    text = " ".join((await page.evaluate(INTERFACE_TEXT)).split())
    assert [m for m in english if words_in(m, text)] == []
    assert sorted(m for lang, m in i18n.MISSING if lang == language) == []
