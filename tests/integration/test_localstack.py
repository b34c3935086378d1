"""The throwaway servers from conftest work, and keep their data across restarts."""

from __future__ import annotations

import nats
import pytest
from pymongo import AsyncMongoClient
from pymongo.write_concern import WriteConcern

pytestmark = pytest.mark.integration


async def test_nats_serves_jetstream(servers):
    nc = await nats.connect(servers.nats_url, connect_timeout=5)
    try:
        info = await nc.jetstream().account_info()
        assert info.limits is not None
    finally:
        await nc.close()


async def test_mongodb_answers_ping(servers):
    client = AsyncMongoClient(servers.mongodb_url, serverSelectionTimeoutMS=5000)
    try:
        assert (await client.admin.command("ping"))["ok"] == 1
    finally:
        await client.close()


def test_db_prefix_is_unique_per_test(db_prefix):
    assert db_prefix.startswith("t") and len(db_prefix) == 9


async def test_data_survives_restarts(servers, db_prefix):
    servers.require_local()
    stream, subject = f"{db_prefix.upper()}", f"{db_prefix}.events.x"

    nc = await nats.connect(servers.nats_url)
    await nc.jetstream().add_stream(name=stream, subjects=[f"{db_prefix}.events.>"])
    await nc.jetstream().publish(subject, b"kept")
    await nc.close()
    client = AsyncMongoClient(servers.mongodb_url)
    # SecantusDB, like mongod, may lose an acknowledged write on a crash unless it was journaled.
    things = client[f"{db_prefix}_read"].get_collection("things", write_concern=WriteConcern(j=True))
    await things.insert_one({"_id": 1, "v": "kept"})
    await client.close()

    servers.nats.restart()
    servers.mongo.restart(crash=True)

    nc = await nats.connect(servers.nats_url)
    try:
        msg = await nc.jetstream().get_msg(stream, seq=1)
        assert msg.data == b"kept"
    finally:
        await nc.close()
    client = AsyncMongoClient(servers.mongodb_url)
    try:
        assert (await client[f"{db_prefix}_read"].things.find_one({"_id": 1}))["v"] == "kept"
    finally:
        await client.close()
