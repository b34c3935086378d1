"""Helpers of the e2e tests: the reviews service run in-process, and polling."""

from __future__ import annotations

from pathlib import Path

from mignet_reviews.app import SPEC
from mignet_runtime.settings import Settings

from service_harness import RunningService, eventually  # noqa: F401  (re-exported for the e2e tests)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class PagesService(RunningService):
    """The reviews service with its public pages, and the pages' base URL."""

    def __init__(self, settings: Settings):
        super().__init__(SPEC, settings)
        self.base_url = f"http://127.0.0.1:{settings.http_port}"
