"""Connections to the session's throwaway nats-server and SecantusDB."""

from __future__ import annotations

import uuid

import nats
import pytest
from pymongo import AsyncMongoClient

from sample_domain import make_domain  # noqa: F401  (re-exported for tests)
from service_harness import RunningService, eventually  # noqa: F401  (re-exported for tests)


@pytest.fixture
async def nc(servers):
    conn = await nats.connect(servers.nats_url)
    yield conn
    await conn.drain()


@pytest.fixture(scope="session")
async def mongo(servers):
    client = AsyncMongoClient(servers.mongodb_url, tz_aware=True)
    yield client
    await client.close()


@pytest.fixture
async def db(mongo):
    name = "t" + uuid.uuid4().hex[:10]
    yield mongo[name]
    await mongo.drop_database(name)


@pytest.fixture
def fresh_nats(tmp_path):
    """A nats-server of this test's own, on deploy/nats/nats.conf, provisioned: service streams start empty.

    The test fails if the server logged any permissions violation meanwhile."""
    from secured_nats import start_test_nats

    log_path = tmp_path / "nats.log"
    proc, url = start_test_nats(tmp_path / "nats", log_path=log_path)
    yield url
    proc.stop(5)
    # The services ran as their own users under nats.conf: any permission they lack shows up here.
    violations = [line for line in log_path.read_text().splitlines() if "Violation" in line]
    assert not violations, "nats-server refused a permission:\n" + "\n".join(violations[:5])


@pytest.fixture
def settings_for(servers, db_prefix):
    from mignet_runtime.settings import Settings

    def make(nats_url: str, service: str | None = None, **overrides) -> Settings:
        """With ``service``, that service's own NATS user; without, the admin URL (``RunningService`` then
        switches to the service's own user by itself)."""
        credentials = nats_url.credentials(service) if service else {"nats_url": nats_url}
        return Settings(
            **credentials, mongodb_url=servers.mongodb_url, db_prefix=db_prefix, startup_timeout=20, **overrides
        )

    return make
