"""Helpers for tests of the public feed: events appended as the services append them, PUBLIC caught up."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import nats

from mignet_contracts import registry as rg
from mignet_contracts import reviews as rv
from mignet_contracts.envelope import Event
from mignet_contracts.feed import PUBLIC_STREAM
from mignet_runtime.codec import EventCodec, Metadata
from mignet_runtime.keystore import open_key_ring
from mignet_runtime.public_feed import FEED_API_PREFIX

CODEC = EventCodec([*rg.REGISTRY_EVENTS, *rv.REVIEWS_EVENTS])


async def append(secured, events: Iterable[Event], actor: str = "test") -> None:
    """Each event encoded by the runtime's codec and published by its own service's NATS user,
    personal fields sealed with a data key from the service's key bucket (as the event store does)."""
    for event in events:
        service = await secured.connect(event.service)
        try:
            meta = Metadata(command_id=f"cmd-{event.aggregate_id}-{event.name}", actor=actor)
            keys = await open_key_ring(service.nc, event.service, [type(event)])
            if keys is not None:
                await keys.prepare([event], meta.command_id)
            headers, data = CODEC.encode(event, meta, keys)
            await service.js().publish(event.subject, data, headers=headers)
        finally:
            await service.close()


async def wait_for_public(url: str, count: int, timeout: float = 10.0) -> None:
    """Until stream PUBLIC (sourced asynchronously by the server) holds ``count`` messages."""
    admin = await nats.connect(url)
    try:
        feed = admin.jetstream(prefix=FEED_API_PREFIX)
        for _ in range(int(timeout / 0.05)):
            if (await feed.stream_info(PUBLIC_STREAM)).state.messages >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"stream {PUBLIC_STREAM} never held {count} messages")
    finally:
        await admin.close()
