"""Fetching batches from a durable JetStream pull consumer without waiting for full batches.

Each fetch is one pull request with ``no_wait`` *and* ``expires``: the server
waits up to ``expires`` for the first message, then delivers whatever is
there (up to the batch size) and ends the request with a ``404`` status. So a
fetch returns as soon as anything is pending: at a trickle a single event
comes back in a round trip, during a catch-up full batches do. (nats-py's
``fetch(n)`` instead holds a lingering request open until ``n`` messages or
its timeout, which kept a lone event waiting up to a second.)

Messages arrive on one inbox subscription per consumer. A status or message
left over from an earlier request that timed out on our side can only end a
later fetch early or hand it messages in stream order, which the projection
runner handles like any other batch.
"""

from __future__ import annotations

import asyncio
import json

import nats.errors

#: Beyond the server's own expiry, how long to wait for its answer before giving up on it.
GRACE = 1.0


class PullFailed(nats.errors.Error):
    """The server refused the pull request (409: consumer deleted, too many waiting, ...)."""


class PullConsumer:
    def __init__(self, nc, stream: str, durable: str):
        self.nc = nc
        self.subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.inbox = nc.new_inbox()
        self._queue: asyncio.Queue = asyncio.Queue()
        self._sub = None

    async def start(self) -> None:
        self._sub = await self.nc.subscribe(self.inbox, cb=self._receive)

    async def _receive(self, msg) -> None:
        self._queue.put_nowait(msg)

    def wake(self) -> None:
        """Ends a fetch under way now, with what it has."""
        self._queue.put_nowait(None)

    async def stop(self) -> None:
        self.wake()
        sub, self._sub = self._sub, None
        if sub is not None:
            try:
                await sub.unsubscribe()
            except nats.errors.Error:
                pass  # the connection is already closing

    async def fetch(self, batch: int, wait: float = 0) -> list:
        """Up to ``batch`` messages, in delivery order; [] if none came within ``wait`` seconds
        (with no ``wait``, only the ones already pending)."""
        request = {"batch": batch, "no_wait": True}
        if wait:
            request["expires"] = int(wait * 1_000_000_000)
        await self.nc.publish(self.subject, json.dumps(request).encode(), reply=self.inbox)
        messages: list = []
        try:
            async with asyncio.timeout(wait + GRACE):
                while len(messages) < batch:
                    msg = await self._queue.get()
                    if msg is None:
                        break
                    status = msg.headers.get("Status") if msg.headers else None
                    if status is None:
                        messages.append(msg)
                    elif status in ("404", "408"):  # nothing (more) pending, or expired
                        break
                    elif status == "409":
                        if messages:
                            break
                        raise PullFailed(f"{self.subject}: {msg.headers.get('Description', '409')}")
                    # 100 (idle heartbeat) and anything unknown: keep waiting
        except TimeoutError:
            pass  # the server never answered: whatever came is still a batch
        return messages
