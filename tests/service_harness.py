"""Running a service in the test's own process, and waiting for eventually consistent read models.

Shared by the integration and the e2e tests (``tests/`` is on ``sys.path`` through
the root conftest).
"""

from __future__ import annotations

import asyncio
import dataclasses

import nats

from mignet_runtime.client import MignetClient, RequestFailed
from mignet_runtime.localstack import free_port
from mignet_runtime.service import build_app

from secured_nats import admin_url


class RunningService:
    """A service started in this process, as `python -m mignet_<name>` would, plus a client."""

    def __init__(self, spec, settings):
        self.spec = spec
        #: The client side (tests acting as operators or admins) connects as the test server's admin.
        self.admin_url = admin_url(settings.nats_url)
        passwords = getattr(settings.nats_url, "passwords", None)
        if passwords and settings.nats_user is None:
            # A test server running nats.conf: the service connects as its own user, as in production,
            # so a permission the service lacks fails the test.
            settings = dataclasses.replace(
                settings, nats_url=settings.nats_url.plain, nats_user=spec.name, nats_password=passwords[spec.name]
            )
        if settings.admin_port is None:
            # Its own admin port (/readyz, /metrics): tests run side by side, and so do replicas.
            settings = dataclasses.replace(settings, admin_port=free_port())
        self.settings = settings
        self.built = build_app(spec, settings)
        self.runtime = self.built.runtime

    async def __aenter__(self):
        await self.built.app.start()
        await self.runtime.wait_ready(20)
        self.nc = await nats.connect(self.admin_url)
        self.client = MignetClient(self.nc)
        return self

    async def __aexit__(self, *exc):
        await self.nc.drain()
        await self.built.app.stop()

    @property
    def db(self):
        return self.runtime.db

    @property
    def admin_http(self) -> str:
        """The base URL of the service's admin HTTP port (/healthz, /readyz, /metrics)."""
        return f"http://127.0.0.1:{self.settings.admin_port}"


async def eventually(probe, timeout: float = 10.0, interval: float = 0.05):
    """Polls ``probe`` until it returns a truthy value: read models are eventually consistent.

    A ``not_found`` reply counts as "not yet": the read model may not have the document
    yet. Any other failure is a real one and goes through at once. At the timeout the
    last ``not_found`` is raised, so the failure says what was missing.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            value = await probe()
        except RequestFailed as exc:
            if exc.error.code != "not_found":
                raise
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"still not found after {timeout}s: {exc}") from exc
        else:
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"not true within {timeout}s; last value {value!r}")
        await asyncio.sleep(interval)
