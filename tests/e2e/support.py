"""Helpers of the e2e tests: the reviews service run in-process, and polling."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats

from mignet_runtime.client import MignetClient
from mignet_runtime.service import build_app
from mignet_runtime.settings import Settings
from mignet_reviews.app import SPEC

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class PagesService:
    """The reviews service started in this process, with a client and the pages' base URL."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.built = build_app(SPEC, settings)
        self.runtime = self.built.runtime
        self.base_url = f"http://127.0.0.1:{settings.http_port}"

    async def __aenter__(self):
        await self.built.app.start()
        await self.runtime.wait_ready(20)
        self.nc = await nats.connect(self.settings.nats_url)
        self.client = MignetClient(self.nc)
        return self

    async def __aexit__(self, *exc):
        await self.nc.drain()
        await self.built.app.stop()


async def eventually(probe, timeout: float = 10.0, interval: float = 0.05):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true within {timeout}s; last value {value!r}")
        await asyncio.sleep(interval)
