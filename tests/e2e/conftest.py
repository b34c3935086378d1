"""One reviews service with its public pages, and one headless Chromium, per e2e module.

Starting them once per module keeps the suite fast; each module's data lives in its own
nats-server and database prefix. ``servers`` (the session's SecantusDB) comes from
tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import urllib.request
import uuid

import nats
import pytest

from mignet_contracts import registry as r
from mignet_runtime.codec import EventCodec
from mignet_runtime.eventstore import EventStore
from mignet_runtime.localstack import free_port
from mignet_runtime.settings import Settings

from .support import CHROMIUM, CHROMIUM_ARGS, PagesService, eventually
from secured_nats import start_test_nats


@pytest.fixture(scope="module")
def module_nats(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e-nats")
    proc, url = start_test_nats(root / "nats", log_path=root / "nats.log")  # nats.conf, provisioned
    yield url
    proc.stop(5)


@pytest.fixture(scope="module")
async def pages_service(servers, module_nats):
    nc = await nats.connect(module_nats)
    try:  # as the registry would: the mirror's consumers then start at once
        await EventStore(nc, r.SERVICE, EventCodec(r.REGISTRY_EVENTS)).ensure_stream()
    finally:
        await nc.close()
    settings = Settings(
        nats_url=module_nats,
        mongodb_url=servers.mongodb_url,
        db_prefix="e2e" + uuid.uuid4().hex[:8],
        startup_timeout=20,
        http_port=free_port(),
    )
    async with PagesService(settings) as service:
        await eventually(lambda: _healthy(service))
        yield service


async def _healthy(service: PagesService) -> bool:
    def get() -> int:
        with urllib.request.urlopen(service.base_url + "/healthz", timeout=2) as response:
            return response.status

    try:
        return await asyncio.to_thread(get) == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
async def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium) for the e2e tests")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser):
    context = await browser.new_context()
    tab = await context.new_page()
    yield tab
    await context.close()
