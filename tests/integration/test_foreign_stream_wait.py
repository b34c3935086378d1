"""A projection whose foreign stream is not provisioned yet waits quietly, then catches up.

Reviews mirrors the registry through two projections on REGISTRY. Started before the
registry's stream exists (a fresh deployment where only reviews was provisioned), it
says so once for the stream, not once per projection nor once per retry, and mirrors
the registry's events as soon as the stream is there.
"""

from __future__ import annotations

import asyncio
import logging

import nats
from conftest import RunningService, eventually
from test_reviews_service import ACTOR

from mignet_contracts import registry as r
from mignet_contracts.envelope import new_id
from mignet_registry.app import SPEC as REGISTRY
from mignet_reviews.app import SPEC as REVIEWS
from mignet_runtime.localstack import free_port
from mignet_runtime.provision import provision_with
from mignet_runtime.settings import Settings

WAITING = "stream REGISTRY does not exist yet"
RETRY_ROUNDS_SEEN = 2  # the supervisor retries every 5 s: wait through at least two retries


async def test_a_missing_foreign_stream_is_said_once_and_mirrored_once_provisioned(fresh_nats, settings_for, caplog):
    caplog.set_level(logging.INFO, logger="mignet_runtime")
    nc = await nats.connect(fresh_nats)
    try:
        await nc.jetstream().delete_stream("REGISTRY")  # as if only reviews had been provisioned
        async with RunningService(REVIEWS, settings_for(fresh_nats, http_port=free_port())) as reviews:

            def waiting_lines() -> list[str]:
                return [rec.getMessage() for rec in caplog.records if WAITING in rec.getMessage()]

            async def said() -> list[str]:
                return waiting_lines()

            await eventually(said, timeout=30)
            await asyncio.sleep(5 * RETRY_ROUNDS_SEEN + 1)
            lines = waiting_lines()
            assert len(lines) == 1, lines
            assert "mignet admin provision" in lines[0]
            assert not [rec for rec in caplog.records if rec.exc_info], "a missing stream is not a crash"

            await provision_with(Settings(**fresh_nats.credentials("admin")), ["registry"])
            async with RunningService(REGISTRY, settings_for(fresh_nats)) as registry:
                await registry.client.command(
                    r.CreateNetwork(
                        command_id=new_id(),
                        actor=ACTOR,
                        scope="national",
                        country="BD",
                        network_name="UN Network on Migration in Bangladesh",
                        status="being-established",
                        members=[{"entity": "IOM"}],
                    )
                )

                async def mirrored():
                    return await reviews.db["registry_networks"].find_one({"_id": "BD"})

                # Up to one retry round (5 s) before the projection looks again, plus catching up.
                doc = await eventually(mirrored, timeout=30)
                assert doc["status"] == "being-established"
            assert len(waiting_lines()) == 1
    finally:
        await nc.close()
