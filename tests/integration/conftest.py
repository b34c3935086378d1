"""Connections to the session's throwaway nats-server and SecantusDB."""

from __future__ import annotations

import uuid

import nats
import pytest
from pymongo import AsyncMongoClient

from sample_domain import make_domain  # noqa: F401  (re-exported for tests)


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
