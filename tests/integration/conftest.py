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
    """A nats-server of this test's own: service streams start empty (it starts in milliseconds)."""
    from mignet_runtime.localstack import start_nats

    proc, url = start_nats(tmp_path / "nats", log_path=tmp_path / "nats.log")
    yield url
    proc.stop(5)


@pytest.fixture
def settings_for(servers, db_prefix):
    from mignet_runtime.settings import Settings

    def make(nats_url: str, **overrides) -> Settings:
        return Settings(nats_url=nats_url, mongodb_url=servers.mongodb_url, db_prefix=db_prefix,
                        startup_timeout=20, **overrides)

    return make
